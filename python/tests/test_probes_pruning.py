"""Cumulative pruning curves (payloads.pruning_probe) and the saved pruned model."""
import json
import os

import numpy as np
import torch

from probe_fixtures import FixtureModel, act, carrier_model, conv_specs, dense, net_of, random_data
from reglens.engine.probes.payloads import memorization_scores, pruning_probe
from reglens.engine.probes.pruned_model import load_saved_weights, save_pruned_model, weight_names


def test_pruning_the_memorizing_unit_first_drops_only_corrupted_accuracy():
    model, data = carrier_model()
    net = net_of(model)
    scores, _ = memorization_scores(net, data, None)
    probe = pruning_probe(net, scores, data, steps=3)
    assert probe["pruned"] == [0, 1, 2, 3]
    assert probe["units"] == 3 and probe["method"] == "ablation" and probe["layer"] == "dense_0"
    mem = probe["memorizingFirst"]
    # Order by score: unit 0 (1.0), unit 1 (0.0), unit 2 (-1.0); with every unit gone the
    # output bias alone predicts class 1, the corrupted examples' label.
    assert mem["corruptedTrain"] == [1.0, 0.0, 0.0, 1.0]
    assert mem["cleanTrain"] == [1.0, 1.0, 1.0, 0.0]
    gen = probe["generalizingFirst"]
    assert gen["cleanTrain"] == [1.0, 0.0, 0.0, 0.0] and gen["test"] == [1.0, 0.0, 0.0, 0.0]
    assert gen["corruptedTrain"] == [1.0, 1.0, 1.0, 1.0]
    assert probe["rawAtPruned"] == [None, 1.0, 0.0, -1.0]
    # Otsu on {-1, 0, 1} (64 bins) cuts after the lowest bin; ablation's memorizing side is
    # raw > threshold: units 0 and 1.
    assert probe["modeSplit"] == {"pruned": 2, "threshold": -1.0 + 2 / 64}


def test_curves_are_monotone_when_units_add_up_to_the_logit():
    """Every unit adds the same positive margin to the true class: removing units can only
    lose examples, so both curves fall monotonically to the all-pruned accuracy."""
    rng = np.random.default_rng(0)
    n, units = 60, 16
    model = FixtureModel([dense(units), act("relu"), dense(2)], 4)
    w = model.get_weights()
    w["dense_0/kernel"] = np.abs(rng.standard_normal((4, units))).astype(np.float32)
    w["dense_1/kernel"] = np.tile(np.array([[0.5, -0.5]], np.float32), (units, 1))
    w["dense_1/bias"] = np.array([-2.0, 2.0], np.float32)
    model.set_weights(w)
    x = np.abs(rng.standard_normal((n, 4))).astype(np.float32)
    from probe_fixtures import eval_data

    data = eval_data(x[:40], np.zeros(40, int), np.arange(40) % 5 == 0, x[40:], np.zeros(20, int))
    net = net_of(model)
    scores, _ = memorization_scores(net, data, None)
    probe = pruning_probe(net, scores, data, steps=8)
    for curve in (probe["memorizingFirst"], probe["generalizingFirst"]):
        for key in ("cleanTrain", "test"):
            assert all(a >= b for a, b in zip(curve[key], curve[key][1:])), (key, curve[key])
        assert curve["test"][-1] == 0.0
    assert probe["pruned"][0] == 0 and probe["pruned"][-1] == units
    assert probe["modeSplit"]["pruned"] in probe["pruned"]


def test_the_saved_pruned_model_has_the_typescript_layout_and_the_pruned_weights(tmp_path):
    model = FixtureModel([dense(12), act("relu"), {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5}, dense(3)], 5, seed=2)
    data = random_data(60, 30, 5, 3, seed=2)
    net = net_of(model)
    scores, _ = memorization_scores(net, data, None)
    probe = pruning_probe(net, scores, data, steps=4)
    split = probe["modeSplit"]["pruned"]
    rel = save_pruned_model(str(tmp_path), net, 5, scores, split, {"cleanTrain": 1.0, "corruptedTrain": None, "test": 0.5})
    assert rel == "pruned-model/model.json"
    doc = json.loads((tmp_path / rel).read_text())
    assert doc["format"] == "reglens-layers" and doc["generatedBy"] == "RegLens" and doc["inputSize"] == 5
    assert doc["layers"] == model.specs
    assert list(doc)[:3] == ["format", "generatedBy", "pruned"]
    assert doc["pruned"]["of"] == 12 and len(doc["pruned"]["units"]) == split
    names = [w["name"] for w in doc["weightsManifest"][0]["weights"]]
    assert names == ["dense_0/kernel", "dense_0/bias", "batch_norm_0/gamma", "batch_norm_0/beta", "batch_norm_0/moving_mean", "batch_norm_0/moving_variance", "dense_1/kernel", "dense_1/bias"]
    saved = load_saved_weights(str(tmp_path / "pruned-model"))
    assert os.path.getsize(tmp_path / "pruned-model" / "weights.bin") == 4 * sum(v.size for v in saved.values())
    original = model.get_weights()
    units = doc["pruned"]["units"]
    assert np.all(saved["dense_1/kernel"][units] == 0)
    keep = [j for j in range(12) if j not in units]
    assert np.array_equal(saved["dense_1/kernel"][keep], original["dense_1/kernel"][keep])
    assert np.array_equal(saved["batch_norm_0/moving_variance"], original["batchNorm_0/movingVariance"])
    # The model is untouched; the state_dict holds the pruned network.
    assert not np.all(original["dense_1/kernel"][units] == 0) or split == 0
    state = torch.load(tmp_path / "pruned-model" / "state_dict.pt")
    clone = FixtureModel(model.specs, 5)
    clone.load_state_dict(state)
    assert np.array_equal(clone.get_weights()["dense_1/kernel"], saved["dense_1/kernel"])


def test_weight_names_follow_the_typescript_model():
    specs = [{"type": "conv2d", "filters": 2, "useBias": False}, {"type": "flatten"}, dense(3, use_bias=False), {"type": "batchNorm"}, dense(2)]
    assert weight_names(specs) == [
        ("conv_0/kernel", "conv2d_0/kernel"),
        ("dense_0/kernel", "dense_0/kernel"),
        ("batch_norm_0/gamma", "batchNorm_0/gamma"),
        ("batch_norm_0/beta", "batchNorm_0/beta"),
        ("batch_norm_0/moving_mean", "batchNorm_0/movingMean"),
        ("batch_norm_0/moving_variance", "batchNorm_0/movingVariance"),
        ("dense_1/kernel", "dense_1/kernel"),
        ("dense_1/bias", "dense_1/bias"),
    ]


def test_a_reloaded_pruned_conv_model_scores_what_the_curve_says(tmp_path):
    """Conv + batch norm (the model-API split: units read right before the next dense):
    the saved weights, translated back to the contract names, give a model whose accuracy
    is the memorizing-first curve's at the saved split."""
    from reglens.engine.model import ImageShape
    from reglens.engine.probes.ablation import hits_of_logits, to_accuracy

    image = ImageShape(6, 6, 1)
    specs = conv_specs(3, 10, 4)
    model = FixtureModel(specs, 36, seed=5, image=image)
    w = model.get_weights()
    w["batchNorm_0/movingMean"] = np.full(10, 0.2, np.float32)
    w["batchNorm_0/movingVariance"] = np.full(10, 0.5, np.float32)
    model.set_weights(w)
    data = random_data(80, 40, 36, 4, seed=6)
    net = net_of(model)
    assert [(h.name, h.position, h.feeds_output) for h in net.hidden] == [("dense_0", 7, True)]
    scores, _ = memorization_scores(net, data, None)
    probe = pruning_probe(net, scores, data, steps=5)
    split = probe["modeSplit"]["pruned"]
    save_pruned_model(str(tmp_path), net, 36, scores, split, {})
    saved = load_saved_weights(str(tmp_path / "pruned-model"))
    assert sorted(saved) == ["batch_norm_0/beta", "batch_norm_0/gamma", "batch_norm_0/moving_mean", "batch_norm_0/moving_variance", "conv_0/bias", "conv_0/kernel", "dense_0/bias", "dense_0/kernel", "dense_1/bias", "dense_1/kernel"]
    back = {py: saved[ts] for ts, py in weight_names(specs)}
    reloaded = FixtureModel(specs, 36, seed=99, image=image)
    reloaded.set_weights(back)
    with torch.no_grad():
        logits = reloaded.eval()(data.x)
    acc = to_accuracy(hits_of_logits(logits, data.labels, data.group), data.counts)
    at = probe["pruned"].index(split)
    assert acc == {k: probe["memorizingFirst"][k][at] for k in ("cleanTrain", "corruptedTrain", "test")}
