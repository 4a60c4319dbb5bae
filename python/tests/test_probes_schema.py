"""Every event the probes emit passes the generated engine-event JSON Schema (the zod
EngineEventSchema the host validates with), for each probe kind and its variants."""
import json

import numpy as np
import torch

from reglens.engine.model import ImageShape
from probe_fixtures import FixtureModel, act, all_probes, conv_specs, dataset_of, dense, eval_data, random_data
from reglens.engine.probes.runner import ProbeRunner

ALL = all_probes(1, save=True)


def drive(model, data, probes, run_dir, epochs=2, corrupted=0.25):
    events = []
    experiment = {"name": "t", "seed": 1, "training": {"epochs": epochs}, "model": {"layers": model.specs}, "probes": probes}
    runner = ProbeRunner(experiment, data, model, torch.device("cpu"), run_dir, events.append)
    for e in range(1, epochs + 1):
        event = {"type": "epoch", "epoch": e, "loss": 0.5, "accuracy": {"cleanTrain": 0.5, "corruptedTrain": corrupted, "test": 0.5}, "seconds": 0.1, "testLoss": 0.7}
        runner.after_epoch(e, e == epochs, event)
    runner.finish(epochs)
    return events


def check(events, validator):
    assert events
    for e in events:
        validator.validate(json.loads(json.dumps(e, allow_nan=False)))


def test_mlp_with_dropout_and_nested_dropout(event_validator, tmp_path):
    specs = [dense(10), act("relu"), {"type": "dropout", "rate": 0.3}, dense(8), act("tanh"), {"type": "nestedDropout", "distribution": "halfGaussian", "sigma": 10, "rho": 0.9}, dense(3)]
    events = drive(FixtureModel(specs, 5), dataset_of(random_data(50, 30, 5, 3)), ALL, str(tmp_path))
    kinds = {e["probe"]["kind"] for e in events if e["type"] == "probe"}
    assert kinds == {"neuronScores", "pruning", "mcDropout", "nestedOrdering", "dynamics"}
    check(events, event_validator)


def test_modular_ipr_images_and_no_corrupted_rows(event_validator, tmp_path):
    p = 7
    r = np.random.default_rng(0)
    pairs = r.permutation(p * p)
    x = np.zeros((p * p, 2 * p), np.float32)
    x[np.arange(p * p), pairs // p] = 1
    x[np.arange(p * p), p + pairs % p] = 1
    y = (pairs // p + pairs % p) % p
    data = eval_data(x[:30], y[:30], np.zeros(30, bool), x[30:], y[30:])
    model = FixtureModel([dense(12, False), act("square"), {"type": "dropout", "rate": 0.2}, dense(p, False)], 2 * p)
    events = drive(model, dataset_of(data, modular_p=p, image=ImageShape(2, p, 1)), ALL, str(tmp_path), corrupted=None)
    scores = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "neuronScores"]
    assert {s["method"] for s in scores} == {"ipr"}
    mc = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "mcDropout"]
    assert all("image" in u for u in mc[-1]["mostUncertain"])
    check(events, event_validator)


def test_unavailable_mc_dropout_save_notes_and_warnings(event_validator):
    model = FixtureModel([dense(6), act("relu"), dense(3)], 4)
    probes = dict(ALL, memorization={"every": 1, "method": "ipr", "alsoLayers": ["dense_0"]})
    events = drive(model, dataset_of(random_data(20, 10, 4, 3)), probes, None)
    assert any(e["type"] == "log" and e["level"] == "warning" for e in events)
    mc = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "mcDropout"]
    assert mc and all("unavailable" in m for m in mc)
    check(events, event_validator)


def test_conv_model_on_images(event_validator, tmp_path):
    image = ImageShape(6, 6, 1)
    specs = conv_specs(2, 8, 3, dropout=0.2)
    model = FixtureModel(specs, 36, image=image)
    r = np.random.default_rng(1)
    x = r.random((60, 36)).astype(np.float32)
    data = eval_data(x[:40], r.integers(0, 3, 40), r.random(40) < 0.2, x[40:], r.integers(0, 3, 20))
    events = drive(model, dataset_of(data, image=image), ALL, str(tmp_path))
    mc = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "mcDropout"]
    assert mc[-1]["summary"]["meanMutualInformation"]["test"] > 0
    assert len(mc[-1]["mostUncertain"][0]["image"]["pixels"]) == 36
    assert not [e for e in events if e["type"] == "log"]
    check(events, event_validator)
