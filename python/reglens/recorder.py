"""The recorder: RegLens in the user's own training loop (issue 13 item 3).

    run = reglens.init(name="resnet18, 40% noisy labels", config=vars(args), epochs=args.epochs)
    run.watch(model, layers=["layer4", "fc"],
              probe=reglens.ProbeSet(x_train, y_train, corrupted=mask, x_test=x_test, y_test=y_test),
              every=5, mc_dropout=20)
    for epoch in range(epochs):
        ...  # the user's own loop, any device
        run.log_epoch(epoch, loss=loss, test_loss=test_loss)
    run.finish()

It writes the engine's run folder (reglens.runfolder), so the Runs view and the dashboard
show it like any run. The probes are reglens.hooks': they leave the user's training as it
was (modes, gradients, RNG streams, hooks). Every probe event records its wall time
(`seconds`), so the dashboard can show what share of the run the probes cost.
"""
from __future__ import annotations

import math
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from reglens import __version__, hooks
from reglens.engine.probes.label_errors import METHODS as LABEL_ERROR_METHODS
from reglens.runfolder import RunFolderWriter, iso_now, runs_dir_default

__all__ = ["ProbeSet", "Run", "init"]

Payload = Dict[str, Any]


@dataclass
class ProbeSet:
    """The examples the probes and the epoch accuracies are measured on.

    y_train: the labels trained on (possibly corrupted); corrupted: bool mask, True where the
    label was corrupted (None: no corrupted labels; ablation scores are then -testDrop).
    Keep it small (a few thousand rows): every ablation costs units x rows forward passes.
    """

    x_train: torch.Tensor
    y_train: Any
    corrupted: Any = None
    x_test: Optional[torch.Tensor] = None
    y_test: Any = None

    def eval_data(self):  # -> reglens.engine.probes.ablation.EvalData
        x_test = self.x_test if self.x_test is not None else self.x_train[:0]
        y_test = self.y_test if self.y_test is not None else []
        if (self.x_test is None) != (self.y_test is None):
            raise ValueError("reglens.ProbeSet: give x_test and y_test together")
        return hooks.eval_data(self.x_train, self.y_train, self.corrupted, x_test, y_test)


def _number(name: str, v: Any) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, torch.Tensor):
        v = v.detach().float().mean().item() if v.numel() != 1 else v.item()
    return float(v)


def _total_epochs(epochs: Optional[int], config: Dict[str, Any]) -> Optional[int]:
    if epochs is not None:
        return int(epochs)
    for key in ("epochs", "num_epochs", "n_epochs", "max_epochs"):
        v = config.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def _jsonable(config: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, (str, int, bool)) or v is None or (isinstance(v, float) and math.isfinite(v)):
            out[str(k)] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(i, (str, int, float, bool)) for i in v):
            out[str(k)] = [i if not isinstance(i, float) or math.isfinite(i) else str(i) for i in v]
        else:
            out[str(k)] = repr(v)
    return out


@dataclass
class _Watch:
    model: nn.Module
    layers: List[str]
    data: Any  # EvalData or None
    every: int
    mc_dropout: int
    mc_examples: int
    nested: Optional[str]
    # The labelErrors probe (label_errors_run.LabelErrorsRun), when watch(label_errors=...) asked for it.
    label_errors: Any = None
    mc_unavailable_sent: bool = False
    probed_at: List[int] = field(default_factory=list)


class Run:
    """One recorded run. Use reglens.init(); as a context manager an exception marks the run
    failed with its message, a normal exit finishes it."""

    def __init__(self, name: str, config: Optional[Dict[str, Any]] = None, runs_dir: Optional[str] = None, epochs: Optional[int] = None, seed: int = 0) -> None:
        config = dict(config or {})
        self.name = name
        self.seed = int(seed)
        self.total_epochs = _total_epochs(epochs, config)
        script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c") else None
        spec = {
            "source": "recorder",
            "name": name,
            "config": _jsonable(config),
            "script": script,
            "argv": list(sys.argv[1:]),
            "cwd": os.getcwd(),
            "python": sys.executable,
            "torch": torch.__version__,
            "reglens": __version__,
            "epochs": self.total_epochs,
            # Set by the extension's "Run Python File with RegLens": which launch this run is.
            "launch": os.environ.get("REGLENS_LAUNCH_ID"),
        }
        summary = {"name": name, "status": "running", "startedAt": iso_now(), "epochs": 0, "totalEpochs": self.total_epochs or 0, "source": "recorder"}
        self._folder = RunFolderWriter(runs_dir or runs_dir_default(), spec, summary)
        self._watch: Optional[_Watch] = None
        self._started = False
        self._t0 = time.perf_counter()
        self._last_mark = self._t0
        self._probe_seconds_since_mark = 0.0
        self._probe_seconds = 0.0
        self._epoch_seconds: List[float] = []
        self._epoch_offset: Optional[int] = None
        self._last_epoch = 0
        self._final: Optional[Dict[str, Optional[float]]] = None
        self._warned_no_accuracy = False

    # ---- public API ----

    @property
    def id(self) -> str:
        return self._folder.id

    @property
    def dir(self) -> str:
        return self._folder.dir

    @property
    def probe_seconds(self) -> float:
        """Wall time the probes and the epoch accuracies took so far."""
        return self._probe_seconds

    def watch(
        self,
        model: nn.Module,
        layers: Sequence[str] = (),
        probe: Optional[ProbeSet] = None,
        every: int = 5,
        mc_dropout: int = 0,
        mc_examples: int = 200,
        label_errors: Any = False,
    ) -> "Run":
        """Probe `model` every `every` logged epochs (and once at finish): ablation scores of
        each module in `layers` (dotted paths), MC dropout with `mc_dropout` passes (0: off),
        nested ordering when the model has a reglens.nn.NestedDropout. Unknown paths fail here.

        label_errors=True (or a dict with methods, top_k, mc_passes) ranks the ProbeSet's
        training rows by how likely their label is wrong (the engine's labelErrors probe):
        margins from the accuracy pass of every logged epoch, a copy of the model's state_dict
        at each new best test accuracy (on the model's device), and one probe at finish()."""
        if every < 1:
            raise ValueError(f"reglens: watch(every={every}): probe every 1 or more epochs")
        if isinstance(layers, str):
            layers = [layers]
        for path in layers:
            hooks.resolve_module(model, path)
        if layers and probe is None:
            raise ValueError("reglens: watch(layers=...) needs probe=reglens.ProbeSet(x_train, y_train, ...) to score the units on")
        data = probe.eval_data() if probe is not None else None
        if data is not None:
            for path in layers:
                hooks.unit_count(model, hooks.resolve_module(model, path), data.x)  # a shape mismatch fails now
        nested = hooks.nested_modules(model)
        self._watch = _Watch(model, list(layers), data, int(every), int(mc_dropout), int(mc_examples), nested[0][0] if nested else None)
        if label_errors:
            if data is None:
                raise ValueError("reglens: watch(label_errors=...) needs probe=reglens.ProbeSet(x_train, y_train, ...) to rank")
            self._watch.label_errors = self._label_errors(model, data, {} if label_errors is True else dict(label_errors))
        self._ensure_started()
        return self

    def log_epoch(self, epoch: int, loss: Any, test_loss: Any = None, **accuracy: Any) -> None:
        """Records one epoch. The first epoch logged as 0 makes the numbering 0-based (shown
        from 1). Accuracies come from the watched ProbeSet; without one, pass
        train_accuracy= and test_accuracy= to plot them (else they are recorded as 0 and a log
        line says so)."""
        now = time.perf_counter()
        interval = now - self._last_mark - self._probe_seconds_since_mark
        self._ensure_started()
        if self._epoch_offset is None:
            self._epoch_offset = 1 if int(epoch) == 0 else 0
        shown = int(epoch) + self._epoch_offset
        if shown < 1:
            raise ValueError(f"reglens: log_epoch({epoch}): epochs are numbered from 0 or 1 and increase")
        t_eval = time.perf_counter()
        acc = self._accuracy(accuracy, shown)
        eval_seconds = time.perf_counter() - t_eval
        loss_v = _number("loss", loss)
        event: Payload = {"type": "epoch", "epoch": shown, "loss": loss_v, "accuracy": acc, "seconds": interval + eval_seconds, "trainSeconds": interval}
        tl = _number("test_loss", test_loss)
        if tl is not None and math.isfinite(tl):
            event["testLoss"] = tl
        if loss_v is None or not math.isfinite(loss_v):
            self._log("warning", f"epoch {shown}: loss is {loss_v}; the epoch is not plotted (JSON has no NaN)")
        else:
            self._append(event)
        self._epoch_seconds.append(interval + eval_seconds)
        self._last_epoch = shown
        self._final = acc
        self._folder.summary["epochs"] = shown
        w = self._watch
        self._probe_seconds_since_mark = 0.0
        if w is not None and w.data is not None and shown % w.every == 0:
            self._run_probes(shown)
        self._last_mark = time.perf_counter()
        self._probe_seconds_since_mark = 0.0

    def _label_errors(self, model: nn.Module, data: Any, options: Dict[str, Any]) -> Any:
        from reglens.engine.probes.label_errors_run import LabelErrorsRun

        unknown = set(options) - {"methods", "top_k", "mc_passes"}
        if unknown:
            raise TypeError(f"reglens: watch(label_errors=...) got unexpected key(s) {', '.join(sorted(unknown))} (known: methods, top_k, mc_passes)")
        methods = list(options.get("methods") or LABEL_ERROR_METHODS)
        bad = [m for m in methods if m not in LABEL_ERROR_METHODS]
        if bad:
            raise ValueError(f"reglens: label_errors methods {bad} unknown (known: {', '.join(LABEL_ERROR_METHODS)})")
        n = data.n_train
        corrupted = data.group[:n] == 1
        # Without held-out rows there is no best test accuracy to pick: the final weights then.
        spec = {"methods": methods, "topK": int(options.get("top_k", 30)), "mcPasses": int(options.get("mc_passes", 20)), "checkpoint": "bestTestAccuracy" if data.counts[2] else "last"}
        return LabelErrorsRun(spec, model, None, data.x[:n], data.labels[:n], corrupted if corrupted.any() else None, np.arange(n), 0, hooks._image_of(data.x), self.seed)

    def log(self, message: str, level: str = "info") -> None:
        self._log(level, message)

    def finish(self) -> None:
        """Probes once more (when the last epoch was not probed), then the finished event."""
        if self._folder.closed:
            return
        self._ensure_started()
        w = self._watch
        if w is not None and w.data is not None and self._last_epoch and self._last_epoch not in w.probed_at:
            self._run_probes(self._last_epoch)
        if w is not None and w.label_errors is not None and self._last_epoch:
            t = time.perf_counter()
            try:
                payload = w.label_errors.finish(self._last_epoch)
            except Exception as e:  # a failing probe must not lose the run
                self._log("warning", f"probe labelErrors failed: {type(e).__name__}: {e}")
            else:
                seconds = time.perf_counter() - t
                self._probe_seconds += seconds
                self._append({"type": "probe", "epoch": self._last_epoch, "probe": payload, "seconds": seconds})
        n = len(self._epoch_seconds)
        self._append({"type": "finished", "time": iso_now(), "epochs": self._last_epoch, "final": self._final, "secondsPerEpoch": sum(self._epoch_seconds) / n if n else None})
        self._end("finished")

    def fail(self, message: str, stack: Optional[str] = None) -> None:
        if self._folder.closed:
            return
        self._ensure_started()
        event: Payload = {"type": "failed", "time": iso_now(), "message": message}
        if stack:
            event["stack"] = stack
        self._append(event)
        self._folder.summary["error"] = message
        self._end("failed")

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self._log("info", "interrupted (KeyboardInterrupt)")
            self._end("cancelled")
        else:
            self.fail(f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc_type, exc, tb)))
        return False

    # ---- internals ----

    def _append(self, event: Payload) -> None:
        self._folder.append(event)

    def _log(self, level: str, message: str) -> None:
        self._append({"type": "log", "level": level, "message": message})

    def _end(self, status: str) -> None:
        s = self._folder.summary
        s["status"] = status
        s["endedAt"] = iso_now()
        s["final"] = self._final
        if status == "finished":
            s.pop("error", None)
        self._folder.write_summary()
        self._folder.close()

    def _ensure_started(self) -> None:
        if self._started:
            return
        self._started = True
        w = self._watch
        dataset = {"train": 0, "corrupted": 0, "test": 0, "inputSize": 1, "classes": 1}
        device = "cpu"
        parameters = 0
        if w is not None:
            params = list(w.model.parameters())
            parameters = sum(p.numel() for p in params)
            device = params[0].device.type if params else "cpu"
            if w.data is not None:
                d = w.data
                n_classes = int(d.labels.max()) + 1 if len(d.labels) else 1
                dataset = {"train": d.n_train, "corrupted": d.counts[1], "test": d.counts[2], "inputSize": max(1, int(d.x[0].numel()) if d.x.shape[0] else 1), "classes": max(1, n_classes)}
        note = f"recorded by reglens.init in {os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else 'python'} (torch {torch.__version__}, pid {os.getpid()})"
        total = self.total_epochs or 1
        self._append({"type": "started", "time": iso_now(), "backend": f"torch-{device}", "backendNote": note, "totalEpochs": total, "dataset": dataset, "parameters": parameters})
        self._folder.summary.update({"backend": f"torch-{device}", "totalEpochs": total})
        self._folder.write_summary()
        if self.total_epochs is None:
            self._log("info", "reglens.init(epochs=...) not given: the dashboard cannot show progress against a total")
        if w is None or w.data is None:
            self._log("info", "no ProbeSet watched: curves only (run.watch(model, probe=reglens.ProbeSet(...)) adds accuracies and probes)")

    def _accuracy(self, given: Dict[str, Any], epoch: int) -> Dict[str, Optional[float]]:
        unknown = set(given) - {"train_accuracy", "test_accuracy", "corrupted_accuracy"}
        if unknown:
            raise TypeError(f"reglens: log_epoch() got unexpected keyword(s) {', '.join(sorted(unknown))} (known: loss, test_loss, train_accuracy, test_accuracy, corrupted_accuracy)")
        w = self._watch
        if w is not None and w.data is not None:
            t = time.perf_counter()
            if w.label_errors is not None:
                acc, train_eval = hooks.accuracy_and_margins(w.model, w.data)
                assert train_eval is not None
                w.label_errors.after_epoch(epoch, float(acc["test"] or 0.0), train_eval[0], train_eval[1])
            else:
                acc = hooks.accuracy(w.model, w.data)
            self._probe_seconds += time.perf_counter() - t
            return acc
        if not given and not self._warned_no_accuracy:
            self._warned_no_accuracy = True
            self._log("info", "accuracies not measured (no ProbeSet, no train_accuracy=/test_accuracy=): recorded as 0")

        def frac(k: str) -> Optional[float]:
            v = _number(k, given.get(k))
            return None if v is None else min(1.0, max(0.0, v))

        return {"cleanTrain": frac("train_accuracy") or 0.0, "corruptedTrain": frac("corrupted_accuracy"), "test": frac("test_accuracy") or 0.0}

    def _run_probes(self, epoch: int) -> None:
        w = self._watch
        assert w is not None and w.data is not None
        w.probed_at.append(epoch)
        jobs = [(f"neuronScores {p}", lambda p=p: hooks.ablation_probe(w.model, p, w.data)) for p in w.layers]
        if w.mc_dropout > 0 and not w.mc_unavailable_sent:
            jobs.append(("mcDropout", lambda: hooks.mc_dropout_probe(w.model, w.data, w.mc_dropout, w.mc_examples, self.seed + epoch, len(w.probed_at) - 1)))
        if w.nested is not None:
            jobs.append(("nestedOrdering", lambda: hooks.nested_ordering_probe(w.model, w.data, w.nested)))
        for what, job in jobs:
            t = time.perf_counter()
            try:
                payload = job()
            except Exception as e:  # a failing probe must not stop the user's training
                self._log("warning", f"probe {what} at epoch {epoch} failed: {type(e).__name__}: {e}")
                continue
            seconds = time.perf_counter() - t
            self._probe_seconds += seconds
            self._probe_seconds_since_mark += seconds
            if payload.get("kind") == "mcDropout" and "unavailable" in payload:
                w.mc_unavailable_sent = True
            self._append({"type": "probe", "epoch": epoch, "probe": payload, "seconds": seconds})


def init(name: str, config: Optional[Dict[str, Any]] = None, runs_dir: Optional[str] = None, epochs: Optional[int] = None, seed: int = 0) -> Run:
    """Starts a recorded run in runs_dir (default: $REGLENS_RUNS_DIR, else ./.reglens/runs)."""
    return Run(name, config, runs_dir, epochs, seed)
