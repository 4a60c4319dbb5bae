"""The training loop in-process: events, learning, cancel, early stopping, co-teaching,
the optimizers' exact step, the regularizers end to end, and the failures users meet."""
from __future__ import annotations

import copy
import json
import os
import math
import threading
from typing import Any, Dict, List, Optional

import numpy as np
import pytest
import torch

from datasets import experiment, mlp, start_command, write_images, write_modular
from reglens.engine.data import load_dataset
from reglens.engine.train import _Batch, _Run, failed_event, train


def run(cmd: Dict[str, Any], cancel_after: Optional[int] = None) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = []
    cancelled = threading.Event()

    def emit(e: Dict[str, Any]) -> None:
        events.append(e)
        if cancel_after is not None and e["type"] == "epoch" and e["epoch"] == cancel_after:
            cancelled.set()

    code = train(cmd, emit, cancelled)
    assert code == (1 if events[-1]["type"] == "failed" else 0)
    return events


def of(events, kind):
    return [e for e in events if e["type"] == kind]


@pytest.fixture(scope="module")
def modular_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("modular"))
    write_modular(d, p=11, train_fraction=0.6, noise=0.25)
    return d


def test_a_short_run_learns_and_its_events_match_the_schema(modular_dir, command_validator, event_validator):
    cmd = start_command(experiment(mlp(11, 64), epochs=25, batchSize=16), modular_dir)
    command_validator.validate(cmd)
    events = run(cmd)
    for e in events:
        event_validator.validate(e)
    started, epochs, finished = of(events, "started")[0], of(events, "epoch"), of(events, "finished")[0]
    assert started["backend"] == "torch-cpu" and "torch " in started["backendNote"] and "1 CPU thread" in started["backendNote"]
    assert started["dataset"] == {"train": 73, "corrupted": 18, "test": 48, "inputSize": 22, "classes": 11}
    assert started["parameters"] == 22 * 64 + 64 + 64 * 11 + 11
    assert [e["epoch"] for e in epochs] == list(range(1, 26))
    first, last = epochs[0], epochs[-1]
    assert last["loss"] < first["loss"] - 1
    assert last["accuracy"]["cleanTrain"] > first["accuracy"]["cleanTrain"] + 0.5
    assert all(0 <= e["trainSeconds"] <= e["seconds"] for e in epochs) and all("testLoss" in e for e in epochs)
    assert finished["epochs"] == 25 and finished["final"] == last["accuracy"]
    assert math.isclose(finished["secondsPerEpoch"], sum(e["seconds"] for e in epochs) / 25)


def test_accuracy_definitions_match_evaluate_ts(modular_dir):
    """cleanTrain on clean rows vs their label; corruptedTrain = corrupted rows predicted as
    the CORRUPTED label; test vs the test labels; testLoss the CE on test."""
    cmd = start_command(experiment(mlp(11, 32), epochs=3, batchSize=16), modular_dir)
    r = _Run(cmd, load_dataset(modular_dir), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    r._build()
    everything = _Batch(r.x_train, r.y_train, None, None)
    for _ in range(60):  # memorise, so corrupted rows are predicted as their corrupted label
        r._step(r.model, r.kernels, r.optimizer, everything)
    acc, test_loss, _ = r._evaluate()
    assert acc["corruptedTrain"] > 0.5 and 0 < acc["cleanTrain"] < 1 or acc["cleanTrain"] == 1
    assert r.model.training  # evaluation puts the mode back
    d = r.data
    with torch.no_grad():
        r.model.eval()
        pred = r.model(d.train.x).argmax(1)
        logits = r.model(d.test.x)
    c = d.train.corrupted
    assert acc["cleanTrain"] == pytest.approx((pred[~c] == d.train.labels[~c]).float().mean().item())
    assert acc["corruptedTrain"] == pytest.approx((pred[c] == d.train.labels[c]).float().mean().item())
    assert acc["test"] == pytest.approx((logits.argmax(1) == d.test.labels).float().mean().item())
    assert test_loss == pytest.approx(torch.nn.functional.cross_entropy(logits, d.test.labels).item(), rel=1e-5)


def test_runs_are_reproducible_from_the_seed(modular_dir):
    cmd = start_command(experiment(mlp() + [], epochs=3, batchSize=16), modular_dir)
    cmd["experiment"]["model"]["layers"].insert(2, {"type": "dropout", "rate": 0.3})
    a, b = run(cmd), run(copy.deepcopy(cmd))
    assert [e["loss"] for e in of(a, "epoch")] == [e["loss"] for e in of(b, "epoch")]
    cmd["experiment"]["seed"] = 1
    assert [e["loss"] for e in of(run(cmd), "epoch")] != [e["loss"] for e in of(a, "epoch")]


def test_cancel_keeps_the_epochs_reported_and_sends_no_finished(modular_dir):
    events = run(start_command(experiment(mlp(), epochs=50, batchSize=16), modular_dir), cancel_after=2)
    assert [e["epoch"] for e in of(events, "epoch")] == [1, 2]
    assert events[-1] == {"type": "log", "level": "info", "message": "Cancelled after 2 epochs."}
    assert not of(events, "finished")


def expected_stop(values, patience, higher_is_better):
    """The rule of train.ts, as an oracle over the emitted series: (best epoch, stop epoch)."""
    best = None
    for epoch, v in enumerate(values, start=1):
        if best is None or (v > best[1] if higher_is_better else v < best[1]):
            best = (epoch, v)
        elif epoch - best[0] >= patience:
            return best[0], epoch
    return best[0], None


@pytest.mark.parametrize("monitor,restore", [("testLoss", True), ("testAccuracy", False)])
def test_early_stopping_stops_patience_epochs_after_the_best_epoch(modular_dir, command_validator, event_validator, monitor, restore):
    # 11-class modular data with 60% train memorises: the test loss soon rises.
    spec = {"patience": 3, "minDelta": 0.0, "monitor": monitor, "restoreBest": restore}
    cmd = start_command(experiment(mlp(11, 64), epochs=200, batchSize=16, regularizers={"earlyStopping": spec}), modular_dir)
    command_validator.validate(cmd)
    events = run(cmd)
    for e in events:
        event_validator.validate(e)
    epochs = of(events, "epoch")
    values = [e["accuracy"]["test"] if monitor == "testAccuracy" else e["testLoss"] for e in epochs]
    best, stop = expected_stop(values, 3, monitor == "testAccuracy")
    assert stop is not None and len(epochs) == stop < 200
    finished = of(events, "finished")[0]
    assert finished["epochs"] == stop
    assert finished["earlyStopping"] == {"monitor": monitor, "stoppedAt": stop, "bestEpoch": best, "best": values[best - 1], "restoredEpoch": best if restore else None}
    # restoreBest: the final numbers are the best epoch's (its weights were put back).
    assert finished["final"] == epochs[(best if restore else stop) - 1]["accuracy"]
    logs = [e["message"] for e in of(events, "log")]
    what = "test accuracy" if monitor == "testAccuracy" else "test loss"
    assert any(m.startswith(f"Early stopping after epoch {stop}: the {what} has not improved for 3 epochs") and f"at epoch {best})" in m for m in logs)
    assert any(m.startswith(f"Restored the weights of epoch {best}") for m in logs) == restore


def test_co_teaching_reports_label_precision(modular_dir, event_validator):
    exp = experiment(mlp(11, 32), epochs=4, batchSize=16, regularizers={"coTeaching": {"gradualEpochs": 2}})
    events = run(start_command(exp, modular_dir))
    for e in events:
        event_validator.validate(e)
    epochs = of(events, "epoch")
    # R(0) = 0: in the first epoch both networks keep every sample, so precision = clean share.
    assert epochs[0]["labelPrecision"] == pytest.approx(1 - 18 / 73)
    assert all(0 <= e["labelPrecision"] <= 1 for e in epochs)
    assert of(events, "finished")


def test_one_adam_step_with_decoupled_decay_l2_and_smoothing(modular_dir):
    """Adam as TF.js: eps 1e-7 added to sqrt(v_hat); decay w <- w (1 - lr wd) AFTER the
    step on every trainable tensor; coupled L2 on kernels only; smoothed targets."""
    lr, wd, l2, eps_ls = 0.01, 0.5, 0.03, 0.1
    exp = experiment(mlp(11, 8), optimizer={"lr": lr, "weightDecay": wd, "beta1": 0.8, "beta2": 0.9}, regularizers={"l2": l2, "labelSmoothing": eps_ls})
    r = _Run(start_command(exp, modular_dir), load_dataset(modular_dir), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    r._build()
    before = [p.detach().clone() for p in r.model.parameters()]
    rows = torch.arange(10)
    x, y = r.x_train[rows], r.y_train[rows]
    w0, b0, w1, b1 = [t.clone().requires_grad_(True) for t in before]
    logits = torch.relu(x @ w0.t() + b0) @ w1.t() + b1
    target = torch.nn.functional.one_hot(y, 11) * (1 - eps_ls) + eps_ls / 11
    loss = -(target * torch.log_softmax(logits, 1)).sum(1).mean() + l2 * ((w0 ** 2).sum() + (w1 ** 2).sum())
    grads = torch.autograd.grad(loss, [w0, b0, w1, b1])
    r._step(r.model, r.kernels, r.optimizer, _Batch(x, y, None, None))
    for p, p0, g in zip(r.model.parameters(), before, grads):
        m_hat, v_hat = g, g * g  # first step: the bias corrections undo (1 - beta)
        want = (p0 - lr * m_hat / (v_hat.sqrt() + 1e-7)) * (1 - lr * wd)
        torch.testing.assert_close(p.detach(), want, rtol=1e-5, atol=1e-6)


def test_one_sgd_step(modular_dir):
    exp = experiment(mlp(11, 8), optimizer={"kind": "sgd", "lr": 0.1, "weightDecay": 0.2})
    r = _Run(start_command(exp, modular_dir), load_dataset(modular_dir), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    r._build()
    before = [p.detach().clone() for p in r.model.parameters()]
    x, y = r.x_train[:10], r.y_train[:10]
    loss = torch.nn.functional.cross_entropy(r.model(x), y)
    grads = torch.autograd.grad(loss, list(r.model.parameters()))
    r._step(r.model, r.kernels, r.optimizer, _Batch(x, y, None, None))
    for p, p0, g in zip(r.model.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), (p0 - 0.1 * g) * (1 - 0.1 * 0.2))


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("images"))
    write_images(d, n_train=96, n_test=32)
    meta_path = f"{d}/meta.json"

    meta = json.load(open(meta_path))
    meta["featureGroups"] = [{"name": "top", "columns": list(range(32))}]
    json.dump(meta, open(meta_path, "w"))
    return d


CONV = [
    {"type": "conv2d", "filters": 4, "kernelSize": 3, "strides": 1, "padding": "same", "useBias": True},
    {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5},
    {"type": "activation", "fn": "relu"},
    {"type": "maxPool", "poolSize": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 16, "useBias": True, "init": "he"},
    {"type": "activation", "fn": "relu"},
    {"type": "nestedDropout", "distribution": "halfGaussian", "sigma": 8, "rho": 0.9},
    {"type": "dense", "units": 4, "useBias": True, "init": "glorot"},
]

REGULARIZED = {
    "cutmix": {"cutmix": {"beta": 1.0, "prob": 0.5}, "labelSmoothing": 0.1},
    "multiSampleDropout": {"multiSampleDropout": {"samples": 4, "rate": 0.5}},
    "featureGroupDropout": {"featureGroupDropout": {"rate": 0.3, "groups": [{"name": "top", "columns": list(range(32))}]}},
    "candidateDropout": {"candidateDropout": {"keep": 0.5}, "l2": 1e-4},
    "coTeaching": {"coTeaching": {"forgetRate": 0.2, "gradualEpochs": 2}},
}


@pytest.mark.parametrize("name", sorted(REGULARIZED))
def test_each_regularizer_trains_a_conv_net(image_dir, command_validator, event_validator, name):
    exp = experiment(CONV, dataset={"kind": "mnist", "train": 96, "test": 32}, epochs=6, batchSize=16, optimizer={"lr": 0.01}, regularizers=REGULARIZED[name])
    cmd = start_command(exp, image_dir)
    command_validator.validate(cmd)
    events = run(cmd)
    for e in events:
        event_validator.validate(e)
    epochs = of(events, "epoch")
    assert of(events, "finished"), events[-1]
    assert epochs[-1]["accuracy"]["cleanTrain"] > 0.6  # the quadrant of a bright blob is easy
    assert epochs[-1]["accuracy"]["corruptedTrain"] is None


def test_user_errors_fail_with_the_cause_and_no_stack(modular_dir, image_dir):
    def failed(cmd):
        events = run(cmd)
        assert events[-1]["type"] == "failed"
        return events[-1]

    e = failed({**start_command(experiment(mlp()), modular_dir), "dataDir": "/nonexistent/data"})
    assert "does not exist" in e["message"] and "stack" not in e
    e = failed(start_command(experiment(mlp(12)), modular_dir))
    assert "make the last dense layer 11 units wide" in e["message"] and "stack" not in e
    e = failed(start_command(experiment(mlp(), regularizers={"cutmix": {"beta": 1.0, "prob": 0.5}}), modular_dir))
    assert e["message"].startswith("training.regularizers.cutmix: CutMix pastes image patches and needs an image dataset")
    e = failed(start_command(experiment(mlp(), optimizer={"kind": "sgd", "lr": 1e30}), modular_dir))
    assert "the training loss became" in e["message"] and "training.optimizer.lr" in e["message"]
    cmd = start_command(experiment(mlp()), modular_dir)
    del cmd["dataDir"]
    assert "no dataDir" in failed(cmd)["message"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA to see the unavailable-device message")
def test_cuda_asked_for_without_cuda_fails_clearly(modular_dir):
    events = run(start_command(experiment(mlp()), modular_dir, device="cuda"))
    assert events[-1]["type"] == "failed" and not of(events, "started")
    assert events[-1]["message"].startswith("device cuda was asked for but is unavailable")
    assert '"device": "cpu"' in events[-1]["message"]


def test_an_engine_bug_reports_the_last_frame(modular_dir):
    cmd = start_command(experiment(mlp()), modular_dir)
    cmd["experiment"]["training"]["optimizer"]["kind"] = "adam"
    cmd["experiment"]["training"]["optimizer"]["beta1"] = "oops"  # past validation: a bug's shape
    e = run(cmd)[-1]
    assert e["type"] == "failed" and e["stack"].startswith("ValueError: ") and 'File "' in e["stack"] and "line " in e["stack"]


def test_initial_weights_of_a_saved_model_replace_the_seeded_init(tmp_path):
    folder = str(tmp_path)
    write_modular(folder, p=5)
    layers = [{"type": "dense", "units": 4, "useBias": True, "init": "glorot"}, {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5}, {"type": "dense", "units": 5, "useBias": True, "init": "glorot"}]
    kernel = np.linspace(-1, 1, 40, dtype=np.float32).reshape(10, 4)
    moving = np.array([0.5, 1.5, 2.5, 3.5], np.float32)
    for name, value in (("dense_0/kernel", kernel), ("batch_norm_0/moving_variance", moving)):  # a TF.js engine name too
        (tmp_path / "initial" / os.path.dirname(name)).mkdir(parents=True, exist_ok=True)
        np.save(tmp_path / "initial" / f"{name}.npy", value)
    meta = json.load(open(tmp_path / "meta.json"))
    json.dump({**meta, "initialWeights": ["dense_0/kernel", "batch_norm_0/moving_variance"]}, open(tmp_path / "meta.json", "w"))
    exp = experiment(layers)
    seeded = _Run(start_command(exp, folder), load_dataset(folder), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    r = _Run(start_command(exp, folder), load_dataset(folder), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    r._build()
    w = r.model.get_weights()
    assert np.array_equal(w["dense_0/kernel"], kernel) and np.array_equal(w["batchNorm_0/movingVariance"], moving)
    seeded.data.initial_weights = None
    seeded._build()
    assert np.array_equal(w["dense_1/kernel"], seeded.model.get_weights()["dense_1/kernel"])  # the rest keep the seeded init


def test_probes_run_on_the_trained_network(modular_dir, event_validator):
    exp = experiment(mlp(11, 16), epochs=4, batchSize=16)
    exp["probes"] = {"memorization": {"every": 2, "method": "auto"}, "dynamics": {"every": 2}, "nestedOrdering": {}}
    events = run(start_command(exp, modular_dir))
    for e in events:
        event_validator.validate(e)
    probes = [(e["epoch"], e["probe"]["kind"]) for e in of(events, "probe")]
    assert (2, "neuronScores") in probes and (4, "neuronScores") in probes and (4, "dynamics") in probes and (4, "nestedOrdering") in probes
    assert not [e for e in of(events, "log") if e["level"] != "info"]
    assert events[-1]["type"] == "finished"


def test_out_of_memory_names_the_cause_and_the_fix():
    oom = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
    e = failed_event(oom("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.15 GiB total capacity)\nmore detail"), torch.device("cuda"), 4096)
    assert e["message"].startswith("cuda ran out of memory (CUDA out of memory. Tried to allocate 20.00 GiB")
    assert "lower training.batchSize (now 4096)" in e["message"] and '"device": "cpu"' in e["message"] and "stack" not in e


def test_thread_setting(modular_dir, monkeypatch):
    monkeypatch.setenv("REGLENS_TORCH_THREADS", "two")
    e = run(start_command(experiment(mlp()), modular_dir))[-1]
    assert e["type"] == "failed" and e["message"] == "REGLENS_TORCH_THREADS must be a whole number of threads, got 'two'"
    monkeypatch.setenv("REGLENS_TORCH_THREADS", "1")
    assert "1 CPU thread" in run(start_command(experiment(mlp(), epochs=1), modular_dir))[0]["backendNote"]
