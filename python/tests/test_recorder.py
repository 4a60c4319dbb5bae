"""The recorder (reglens.init / watch / log_epoch / finish): the run folder it writes, its
events against the shared schema, durability, and no effect on the user's training."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch
from torch import nn

import reglens
from conftest import PYTHON_DIR
from reglens.nn import NestedDropout

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.nested = NestedDropout(units=16)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.nested(torch.relu(self.fc1(x)))))


def data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(160, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    mask = torch.rand(160, generator=g) < 0.3
    y_noisy = torch.where(mask[:120], (y[:120] + 1) % 3, y[:120])
    return x[:120], y_noisy, mask[:120], x[120:], y[120:]


def read_events(run_dir):
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def read_json(run_dir, name):
    with open(os.path.join(run_dir, name), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture()
def runs_dir():
    d = tempfile.mkdtemp(prefix="reglens-recorder-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def train_epoch(model, opt, x, y):
    model.train()
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def test_a_watched_run_writes_the_engines_run_folder(runs_dir, event_validator):
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y, mask, xt, yt = data()
    run = reglens.init(name="net, 30% noisy", config={"lr": 0.5, "epochs": 5, "opt": opt}, runs_dir=runs_dir)
    run.watch(model, layers=["fc1"], probe=reglens.ProbeSet(x, y, corrupted=mask, x_test=xt, y_test=yt), every=2, mc_dropout=4, mc_examples=50)
    for epoch in range(5):
        loss = train_epoch(model, opt, x, y)
        run.log_epoch(epoch, loss=loss, test_loss=loss * 1.1)
    run.finish()
    events = read_events(run.dir)
    for e in events:
        event_validator.validate(e)
    types = [e["type"] for e in events]
    assert types[0] == "started" and types[-1] == "finished"
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4, 5]
    probes = [(e["epoch"], e["probe"]["kind"]) for e in events if e["type"] == "probe"]
    # every=2: epochs 2 and 4, then once more at finish for the unprobed last epoch.
    assert probes == [(ep, k) for ep in (2, 4, 5) for k in ("neuronScores", "mcDropout", "nestedOrdering")]
    assert all(e["seconds"] >= 0 for e in events if e["type"] == "probe")
    ns = next(e["probe"] for e in events if e["type"] == "probe")
    assert ns["layer"] == "fc1" and len(ns["scores"]) == 16
    # The epoch's accuracies are the ProbeSet's, measured in eval mode.
    last = [e for e in events if e["type"] == "epoch"][-1]
    assert last["accuracy"] == reglens.hooks.accuracy(model, reglens.ProbeSet(x, y, mask, xt, yt).eval_data())
    started = events[0]
    assert started["dataset"] == {"train": 120, "corrupted": int(mask.sum()), "test": 40, "inputSize": 6, "classes": 3}
    assert started["totalEpochs"] == 5 and started["backend"] == "torch-cpu"
    spec = read_json(run.dir, "spec.json")
    assert spec["source"] == "recorder" and spec["config"]["lr"] == 0.5 and spec["config"]["opt"].startswith("SGD")
    summary = read_json(run.dir, "summary.json")
    assert summary["status"] == "finished" and summary["pid"] == os.getpid() and summary["epochs"] == 5
    assert summary["final"] == last["accuracy"] and os.path.basename(run.dir) == summary["id"]


def test_probes_leave_the_training_untouched(runs_dir):
    """Two identical trainings, one recorded with probes every epoch: the same weights and
    the same RNG streams afterwards."""

    def train(record: bool):
        torch.manual_seed(3)
        np.random.seed(3)
        random.seed(3)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.3)
        x, y, mask, xt, yt = data(1)
        run = None
        if record:
            run = reglens.init(name="side effects", runs_dir=runs_dir, epochs=3)
            run.watch(model, layers=["fc1", "fc2"], probe=reglens.ProbeSet(x, y, mask, xt, yt), every=1, mc_dropout=3)
        for epoch in range(3):
            train_epoch(model, opt, x, y)  # dropout and nested dropout draw from torch's stream
            if run:
                run.log_epoch(epoch, loss=0.5)
        if run:
            run.finish()
        return model.state_dict(), torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate(), model.training

    a, b = train(False), train(True)
    for k in a[0]:
        assert torch.equal(a[0][k], b[0][k]), k
    assert torch.equal(a[1], b[1]) and np.array_equal(a[2], b[2]) and a[3] == b[3] and a[4] == b[4]


def test_a_run_without_a_probe_set_logs_curves(runs_dir, event_validator):
    run = reglens.init(name="curves only", runs_dir=runs_dir)
    for epoch in range(1, 4):
        run.log_epoch(epoch, loss=torch.tensor(1.0 / epoch), test_accuracy=0.5 + 0.1 * epoch)
    run.finish()
    events = read_events(run.dir)
    for e in events:
        event_validator.validate(e)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert [e["loss"] for e in epochs] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert epochs[1]["accuracy"]["test"] == pytest.approx(0.7)
    assert not any(e["type"] == "probe" for e in events)
    assert any(e["type"] == "log" and "no ProbeSet" in e["message"] for e in events)


def test_the_context_manager_marks_an_exception_failed(runs_dir, event_validator):
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        with reglens.init(name="crash", runs_dir=runs_dir, epochs=3) as run:
            run.log_epoch(0, loss=1.0)
            raise RuntimeError("CUDA out of memory (simulated)")
    events = read_events(run.dir)
    for e in events:
        event_validator.validate(e)
    assert events[-1]["type"] == "failed" and events[-1]["message"] == "RuntimeError: CUDA out of memory (simulated)"
    assert "raise RuntimeError" in events[-1]["stack"]
    summary = read_json(run.dir, "summary.json")
    assert summary["status"] == "failed" and summary["error"].startswith("RuntimeError")
    with reglens.init(name="fine", runs_dir=runs_dir) as ok:
        ok.log_epoch(1, loss=0.1)
    assert read_json(ok.dir, "summary.json")["status"] == "finished"


def test_an_unknown_layer_fails_at_watch_naming_close_matches(runs_dir):
    run = reglens.init(name="typo", runs_dir=runs_dir)
    x, y, mask, xt, yt = data()
    with pytest.raises(KeyError, match=r"'fc3'.*fc1"):
        run.watch(Net(), layers=["fc3"], probe=reglens.ProbeSet(x, y, mask, xt, yt))
    with pytest.raises(ValueError, match="needs probe="):
        run.watch(Net(), layers=["fc1"])
    run.finish()


def test_runs_dir_defaults_to_the_environment_then_the_working_directory(runs_dir, monkeypatch):
    monkeypatch.setenv("REGLENS_RUNS_DIR", os.path.join(runs_dir, "from-env"))
    a = reglens.init(name="env")
    a.finish()
    assert os.path.dirname(a.dir) == os.path.join(runs_dir, "from-env")
    monkeypatch.delenv("REGLENS_RUNS_DIR")
    monkeypatch.chdir(runs_dir)
    b = reglens.init(name="cwd")
    b.finish()
    assert os.path.dirname(b.dir) == os.path.join(os.path.realpath(runs_dir), ".reglens", "runs") or os.path.dirname(b.dir) == os.path.join(runs_dir, ".reglens", "runs")


WRITER = r"""
import sys, torch, reglens
torch.set_num_threads(1)
run = reglens.init(name="kill me", runs_dir=sys.argv[1], epochs=100)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
x = torch.randn(40, 4); y = (x[:, 0] > 0).long()
run.watch(model, layers=["0"], probe=reglens.ProbeSet(x[:30], y[:30], x_test=x[30:], y_test=y[30:]), every=2)
print(run.dir, flush=True)
for epoch in range(1, 101):
    sys.stdin.readline()  # the test says when to log the next epoch
    run.log_epoch(epoch, loss=1.0 / epoch)
    print(epoch, flush=True)
"""


def start_writer(runs_dir):
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    p = subprocess.Popen([sys.executable, "-c", WRITER, runs_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    run_dir = p.stdout.readline().strip()
    return p, run_dir


READER = "import sys; print(sum(1 for l in open(sys.argv[1]) if '\"type\": \"epoch\"' in l))"


def test_every_event_is_on_disk_when_log_epoch_returns_and_kill_9_loses_none(runs_dir, event_validator):
    p, run_dir = start_writer(runs_dir)
    try:
        for epoch in range(1, 5):
            p.stdin.write("\n")
            p.stdin.flush()
            assert p.stdout.readline().strip() == str(epoch)
            # Another process reads the file: the line is there as soon as log_epoch returned.
            seen = subprocess.run([sys.executable, "-c", READER, os.path.join(run_dir, "events.jsonl")], capture_output=True, text=True, check=True)
            assert seen.stdout.strip() == str(epoch)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    events = read_events(run_dir)
    for e in events:
        event_validator.validate(e)
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4]
    assert [e["epoch"] for e in events if e["type"] == "probe"] == [2, 4]
    summary = read_json(run_dir, "summary.json")
    # Still "running" with the dead writer's pid: the TS side lists it as died (runFolder.ts).
    assert summary["status"] == "running" and summary["pid"] == p.pid


def test_pip_installs_the_package_offline(tmp_path):
    """pip install <extension>/python, as the extension's command runs it (no network, no
    build isolation: setuptools from the interpreter)."""
    # Asked in a fresh process: importing setuptools inside pytest trips its distutils shim.
    has = subprocess.run([sys.executable, "-c", "import setuptools, pip"], capture_output=True, text=True)
    if has.returncode != 0:
        pytest.skip(f"{sys.executable} lacks pip or setuptools ({has.stderr.strip().splitlines()[-1]}): `pip install python/` cannot be tested here")
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "reglens" / "schemas" / "engine-event.schema.json").is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    out = subprocess.run([sys.executable, "-c", "import reglens, reglens.hooks, reglens.engine.probes.payloads; print(reglens.__file__, reglens.init.__name__)"], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(str(target)) and out.stdout.split()[1] == "init"
