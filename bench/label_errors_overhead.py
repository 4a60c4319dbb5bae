"""The torch half of bench/labelErrorsOverhead.ts: what the labelErrors probe adds to an epoch
of the engine's own loop (reglens.engine.train._Run), measured component by component in one
process so the machine's load hits both sides alike.

    python bench/label_errors_overhead.py job.json   (PYTHONPATH=python)

job: {"command": <start command with dataDir>, "rounds": R, "epochs": E}. Prints one JSON line:
median seconds of a training epoch (steps), of the epoch's evaluation without and with the
margins, of the tracker's update and of the state_dict copy kept at a new best test accuracy.
"""
from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from typing import Any, Callable, Dict, List

import torch

from reglens.engine.data import load_dataset
from reglens.engine.probes.label_errors import LabelErrorTracker
from reglens.engine.train import _Run


def _timed(f: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main(path: str) -> None:
    torch.set_num_threads(1)
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    command = job["command"]
    run = _Run(command, load_dataset(command["dataDir"]), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    run._build()
    tracker = LabelErrorTracker(run.labels_host)
    samples: Dict[str, List[float]] = {"train": [], "evaluate": [], "evaluateWithMargins": [], "update": [], "snapshot": []}
    out: Dict[str, Any] = {}
    for epoch in range(1, int(job["epochs"]) + 1):
        trained = run._train_epoch(epoch)
        assert trained is not None
        if epoch > 1:  # the first is warm-up
            samples["train"].append(trained[1])
        for _ in range(int(job["rounds"])):
            samples["evaluate"].append(_timed(lambda: run._evaluate(False)))
            t0 = time.perf_counter()
            _, _, train_eval = run._evaluate(True)
            samples["evaluateWithMargins"].append(time.perf_counter() - t0)
            assert train_eval is not None
            samples["update"].append(_timed(lambda: tracker.update(train_eval[0], train_eval[1])))
            samples["snapshot"].append(_timed(lambda: {k: v.detach().clone() for k, v in run.model.state_dict().items()}))
    for k, v in samples.items():
        out[k] = statistics.median(v)
    out["samples"] = samples
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
