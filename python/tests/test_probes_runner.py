"""The probe schedule and events of a run (runner.ProbeRunner), driven as the trainer does."""
import json

import torch

from probe_fixtures import FixtureModel, act, all_probes, dataset_of, dense, random_data


def experiment(probes, epochs=5):
    return {"name": "t", "seed": 3, "training": {"epochs": epochs}, "model": {"layers": []}, "probes": probes}


def model_with_dropout():
    return FixtureModel([dense(8), act("relu"), dense(6), act("relu"), {"type": "dropout", "rate": 0.3}, dense(3)], 5, seed=1)


def drive(runner, epochs, test_loss=True):
    for e in range(1, epochs + 1):
        event = {"type": "epoch", "epoch": e, "loss": 1.0 / e, "accuracy": {"cleanTrain": 0.5, "corruptedTrain": 0.25, "test": 0.5}, "seconds": 0.1}
        if test_loss:
            event["testLoss"] = 2.0 / e
        runner.after_epoch(e, e == epochs, event)
    runner.finish(epochs)


def run(probes, epochs=5, run_dir=None, model=None, test_loss=True):
    from reglens.engine.probes.runner import ProbeRunner

    events = []
    model = model or model_with_dropout()
    data = dataset_of(random_data(60, 30, 5, 3, seed=2))
    runner = ProbeRunner(experiment(probes, epochs), data, model, torch.device("cpu"), run_dir, events.append)
    drive(runner, epochs, test_loss)
    return runner, events


ALL = all_probes(2, save=False)


def test_schedule_every_k_epochs_then_after_training_in_order():
    runner, events = run(ALL)
    probes = [(e["epoch"], e["probe"]["kind"], e["probe"].get("layer")) for e in events if e["type"] == "probe"]
    periodic = lambda k: [(k, "dynamics", None), (k, "neuronScores", "dense_1"), (k, "neuronScores", "dense_0"), (k, "mcDropout", None)]
    assert probes == periodic(2) + periodic(4) + [
        (5, "neuronScores", "dense_1"),
        (5, "neuronScores", "dense_0"),
        (5, "pruning", "dense_1"),
        (5, "mcDropout", None),
        (5, "nestedOrdering", "dense_1"),
        (5, "dynamics", None),
    ]
    assert [e for e in events if e["type"] == "log"] == []
    assert [runner.wants_model_at(e, e == 5) for e in range(1, 6)] == [False, True, False, True, False]
    dyn = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "dynamics"][-1]
    assert dyn["series"]["epoch"] == [1, 2, 3, 4, 5] and dyn["series"]["testLoss"] == [2.0 / e for e in range(1, 6)]
    json.dumps(events, allow_nan=False)


def test_mc_rounds_count_up_and_seeds_follow_the_epoch():
    _, events = run({"mcDropout": {"passes": 3, "examples": 30, "every": 1}}, epochs=3)
    mc = [e for e in events if e["type"] == "probe"]
    assert [e["epoch"] for e in mc] == [1, 2, 3]
    assert len({json.dumps(e["probe"]) for e in mc}) == 3


def test_without_a_test_loss_the_runner_computes_it():
    _, events = run({"dynamics": {"every": 10}}, epochs=2, test_loss=False)
    (dyn,) = [e["probe"] for e in events if e["type"] == "probe"]
    assert all(v > 0 for v in dyn["series"]["testLoss"])


def test_a_failing_probe_is_a_warning_and_the_others_still_run():
    _, events = run({"memorization": {"every": 10, "method": "auto", "layer": "dense_9"}, "dynamics": {"every": 10}}, epochs=2)
    logs = [e for e in events if e["type"] == "log"]
    assert logs == [{"type": "log", "level": "warning", "message": "probe memorization failed: probes: no hidden layer dense_9 to score (hidden layers: dense_0, dense_1)"}]
    assert [e["probe"]["kind"] for e in events if e["type"] == "probe"] == ["dynamics"]


def test_pruning_save_writes_the_model_or_says_why_not(tmp_path):
    _, events = run({"pruning": {"steps": 4, "save": True}}, epochs=1)
    (p,) = [e["probe"] for e in events if e["type"] == "probe"]
    assert p["saveNote"] == "not saved: the engine was started without a run folder (runDir)" and "savedModel" not in p
    _, events = run({"pruning": {"steps": 4, "save": True}}, epochs=1, run_dir=str(tmp_path))
    (p,) = [e["probe"] for e in events if e["type"] == "probe"]
    assert p["savedModel"] == "pruned-model/model.json"
    doc = json.loads((tmp_path / "pruned-model" / "model.json").read_text())
    at = p["pruned"].index(p["modeSplit"]["pruned"])
    assert doc["pruned"]["accuracy"] == {k: p["memorizingFirst"][k][at] for k in ("cleanTrain", "corruptedTrain", "test")}


def test_no_probes_means_no_events_and_no_model_reads():
    runner, events = run({})
    assert events == [] and not any(runner.wants_model_at(e, False) for e in range(1, 6))


def test_the_run_keeps_its_modes_and_rng():
    model = model_with_dropout()
    model.train()
    torch.manual_seed(5)
    state = torch.get_rng_state()
    run(ALL, model=model)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(m.training for m in model.modules())
