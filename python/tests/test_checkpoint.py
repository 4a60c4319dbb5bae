"""Checkpoint/resume on the torch engine (training.checkpointEvery; a Slurm member requeued or
resubmitted): a run cancelled after epoch 7 and resumed from its checkpoint (after epoch 6)
reports the same epochs 7 and 8 as the run that never stopped, with dropout, co-teaching and
early stopping in it so every saved piece (weights, Adam's state, both generators' and
torch's RNG, the stopper) matters."""
from __future__ import annotations

import os
from typing import Any, Dict, List

import pytest

from datasets import experiment, start_command, write_modular
from reglens.engine.checkpoint import CHECKPOINT_FILE
from test_train import run


def exp() -> Dict[str, Any]:
    layers = [
        {"type": "dense", "units": 32, "useBias": True, "init": "glorot"},
        {"type": "activation", "fn": "relu"},
        {"type": "dropout", "rate": 0.3},
        {"type": "dense", "units": 11, "useBias": True, "init": "glorot"},
    ]
    regs = {"coTeaching": {"gradualEpochs": 4}, "earlyStopping": {"patience": 100, "minDelta": 0.0, "monitor": "testLoss", "restoreBest": True}}
    return experiment(layers, epochs=8, batchSize=16, checkpointEvery=3, regularizers=regs)


@pytest.fixture(scope="module")
def modular_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("modular"))
    write_modular(d, p=11, train_fraction=0.6, noise=0.25)
    return d


def numbers(events: List[Dict[str, Any]]) -> List[Any]:
    return [(e["epoch"], e["loss"], e["accuracy"], e.get("labelPrecision")) for e in events if e["type"] == "epoch"]


def test_a_resumed_run_continues_exactly_as_the_uninterrupted_one(modular_dir, tmp_path):
    whole_dir, stopped_dir = tmp_path / "whole", tmp_path / "stopped"
    whole_dir.mkdir()
    stopped_dir.mkdir()
    whole = run({**start_command(exp(), modular_dir), "runDir": str(whole_dir)})
    assert len(numbers(whole)) == 8
    first = run({**start_command(exp(), modular_dir), "runDir": str(stopped_dir)}, cancel_after=7)
    assert [n[0] for n in numbers(first)] == list(range(1, 8))
    assert os.path.exists(stopped_dir / CHECKPOINT_FILE)
    resumed = run({**start_command(exp(), modular_dir), "runDir": str(stopped_dir), "resume": True})
    assert any(e["type"] == "log" and e["message"].startswith("Resumed from the checkpoint after epoch 6") for e in resumed)
    assert numbers(resumed) == numbers(whole)[6:]
    finished = [e for e in resumed if e["type"] == "finished"][0]
    assert finished["epochs"] == 8 and finished["earlyStopping"] == [e for e in whole if e["type"] == "finished"][0]["earlyStopping"]


def test_a_checkpoint_of_another_experiment_is_refused_naming_the_fix(modular_dir, tmp_path):
    run({**start_command(exp(), modular_dir), "runDir": str(tmp_path)}, cancel_after=4)
    other = exp()
    other["training"]["optimizer"]["lr"] = 0.02
    events = run({**start_command(other, modular_dir), "runDir": str(tmp_path), "resume": True})
    assert events[-1]["type"] == "failed"
    assert "written for a different experiment" in events[-1]["message"] and "delete it to start this run over" in events[-1]["message"]


def test_the_probes_resume_too_label_errors_and_dynamics_cover_every_epoch(modular_dir, tmp_path):
    """Forgetting events and AUM need every epoch's bookkeeping, the dynamics series every
    epoch's losses, confident learning the best epoch's weights: all come back from the checkpoint."""
    def probed() -> Dict[str, Any]:
        e = exp()
        e["training"]["regularizers"] = {"coTeaching": {"gradualEpochs": 4}}
        e["probes"] = {"labelErrors": {"methods": ["aum", "forgetting", "smallLoss", "confidentLearning"], "topK": 5, "checkpoint": "bestTestAccuracy", "mcPasses": 4}, "dynamics": {}}
        return e

    def final(events: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {e["probe"]["kind"]: e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] in ("labelErrors", "dynamics")}

    whole_dir, stopped_dir = tmp_path / "whole", tmp_path / "stopped"
    whole_dir.mkdir()
    stopped_dir.mkdir()
    whole = final(run({**start_command(probed(), modular_dir), "runDir": str(whole_dir)}))
    assert whole["labelErrors"]["epochsTracked"] == 8
    run({**start_command(probed(), modular_dir), "runDir": str(stopped_dir)}, cancel_after=7)
    resumed = final(run({**start_command(probed(), modular_dir), "runDir": str(stopped_dir), "resume": True}))
    assert resumed["labelErrors"] == whole["labelErrors"]
    assert resumed["dynamics"] == whole["dynamics"]
