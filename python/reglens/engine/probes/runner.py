"""Schedules the probes of a run (port of createProbes in src/engine/probes/probes.ts).

The trainer calls after_epoch after every epoch event and finish once at the end; each
emits `probe` events. Schedule, as the TF.js engine: memorization, mcDropout (when
`every` is set) and dynamics every k epochs except the run's last epoch
(training.epochs), then after training memorization, pruning, mcDropout,
nestedOrdering and dynamics, in that order. A failing probe becomes a warning log and
the run goes on. Probes read the model in inference mode under torch.no_grad, never
change its weights, and restore every module's train/eval flag; their randomness comes
from their own generators (the global RNG is untouched).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from reglens import hooks
from reglens.engine.data import Dataset
from reglens.engine.model import EngineModel
from reglens.engine.user_model import UserModel

from .ablation import EvalData
from .dynamics import dynamics_payload
from .label_errors_run import LabelErrorsRun
from .mc_dropout import mc_dropout_probe
from .network import ProbeNetwork, inference
from .payloads import memorization_scores, nested_ordering_layer, nested_ordering_probe, pruning_probe
from .pruned_model import save_pruned_model
from . import user_probes

Emit = Callable[[Dict[str, Any]], None]


def _numpy(v: Any) -> np.ndarray:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


@inference
def test_loss(net: ProbeNetwork, x: torch.Tensor, labels: np.ndarray) -> float:
    """Mean softmax cross-entropy on the test split (the dynamics series' fallback)."""
    y = torch.as_tensor(labels, dtype=torch.int64)
    chunk = net.rows_per_chunk(net.max_width(x.shape[1]))
    total = 0.0
    for s in range(0, x.shape[0], chunk):
        logits = net.logits(x[s : s + chunk].to(net.device))
        total += float(torch.nn.functional.cross_entropy(logits.float(), y[s : s + chunk].to(logits.device), reduction="sum"))
    return total / max(1, x.shape[0])


class ProbeRunner:
    """experiment: the start command's (zod-defaulted) experiment; emit: sends one EngineEvent
    dict. The model's own device is where the probes compute (`device` is that device)."""

    def __init__(self, experiment: Dict[str, Any], data: Dataset, model: Union[EngineModel, UserModel], device: torch.device, run_dir: Optional[str], emit: Emit) -> None:
        spec = experiment.get("probes") or {}
        self.spec: Dict[str, Any] = {k: v for k, v in spec.items() if v is not None}
        self.seed = int(experiment.get("seed", 0))
        self.total_epochs = int(experiment["training"]["epochs"])
        self.data = data
        self.model = model
        self.device = device
        self.run_dir = run_dir
        self.emit_event = emit
        self.modular_p = data.modular_p
        self.image = None if data.image is None else (data.image.width, data.image.height)
        self.input_size = data.input_size
        # The user's own module (model.pytorch): probed through forward hooks (user_probes.py).
        self.user: Optional[UserModel] = model if isinstance(model, UserModel) else None
        self.net = ProbeNetwork(model) if self.spec and self.user is None else None
        self._eval: Optional[EvalData] = None
        self.history: List[Dict[str, Any]] = []
        self.mc_round = 0
        self.last_epoch = 0
        le = self.spec.get("labelErrors")
        self.label_errors: Optional[LabelErrorsRun] = None
        if le is not None:
            corrupted = _numpy(data.train.corrupted).astype(bool)
            self.label_errors = LabelErrorsRun(
                le, model, self.net, data.train.x, _numpy(data.train.labels), corrupted if corrupted.any() else None,
                _numpy(data.train.source), data.classes, self.image, self.seed,
            )
        self._label_errors_failed = False

    # ---- helpers ----

    def eval_data(self) -> EvalData:
        if self._eval is None:
            d = self.data
            self._eval = EvalData.build(d.train.x, d.test.x, _numpy(d.train.labels), _numpy(d.train.corrupted), _numpy(d.test.labels))
        return self._eval

    def _emit(self, epoch: int, probe: Dict[str, Any]) -> None:
        self.emit_event({"type": "probe", "epoch": int(epoch), "probe": probe})

    def _warn(self, message: str) -> None:
        self.emit_event({"type": "log", "level": "warning", "message": message})

    def _guarded(self, what: str, fn: Callable[[], None]) -> None:
        # A failing probe must not kill the run: it becomes a warning (issue 3).
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - every probe failure is reported the same way
            self._warn(f"probe {what} failed: {err}")

    def _due(self, every: Optional[int], epoch: int) -> bool:
        """Every k epochs, except the last (finish covers it)."""
        return every is not None and every > 0 and epoch % every == 0 and epoch != self.total_epochs

    def _every(self, name: str) -> Optional[int]:
        s = self.spec.get(name)
        return None if s is None else s.get("every")

    # ---- the probes ----

    def _memorization(self, epoch: int) -> None:
        def run() -> None:
            m = self.spec["memorization"]
            if self.user is not None:
                return self._user_memorization(epoch, m)
            _, primary = memorization_scores(self.net, self.eval_data, self.modular_p, m.get("method", "auto"), m.get("layer"), self._warn)
            self._emit(epoch, primary)
            also = m.get("alsoLayers")
            more = [h.name for h in self.net.hidden] if also == "all" else list(also or [])
            done = {primary["layer"]}
            for name in more:
                if name in done:
                    continue
                done.add(name)
                # IPR fits only the first layer of a modular model: elsewhere 'auto' picks ablation quietly.
                want = "ablation" if m.get("method") == "ablation" else "auto"
                self._emit(epoch, memorization_scores(self.net, self.eval_data, self.modular_p, want, name, self._warn)[1])

        self._guarded("memorization", run)

    def _user_memorization(self, epoch: int, m: Dict[str, Any]) -> None:
        assert self.user is not None
        _, primary = user_probes.memorization_scores(self.user, self.eval_data(), self.modular_p, m.get("method", "auto"), m.get("layer"), self._warn)
        self._emit(epoch, primary)
        done = {primary["layer"]}
        for path in user_probes.also_layers(self.user, m.get("alsoLayers")):
            if path in done:
                continue
            done.add(path)
            want = "ablation" if m.get("method") == "ablation" else "auto"
            self._emit(epoch, user_probes.memorization_scores(self.user, self.eval_data(), self.modular_p, want, path, self._warn)[1])

    def _dynamics(self, epoch: int) -> None:
        self._guarded("dynamics", lambda: self._emit(epoch, dynamics_payload(self.history)))

    def _mc(self, epoch: int) -> None:
        def run() -> None:
            m = self.spec["mcDropout"]
            round_index = self.mc_round
            self.mc_round += 1
            passes, examples = int(m.get("passes", 30)), int(m.get("examples", 5000))
            if self.user is not None:
                # Only the model's dropout modules act, masks from the probe's own generator.
                payload = hooks.mc_dropout_probe(self.user, self.eval_data(), passes, examples, self.seed + epoch, round_index, self.image)
            else:
                payload = mc_dropout_probe(self.net, self.eval_data(), passes, examples, self.seed + epoch, round_index, self.image)
            self._emit(epoch, payload)

        self._guarded("mcDropout", run)

    def _pruning(self, epoch: int) -> None:
        def run() -> None:
            p = self.spec["pruning"]
            m = self.spec.get("memorization") or {}
            if self.user is not None:
                scores, _ = user_probes.memorization_scores(self.user, self.eval_data(), self.modular_p, m.get("method", "auto"), m.get("layer"), self._warn)
                probe = user_probes.pruning(self.user, scores, self.eval_data(), int(p.get("steps", 32)))
            else:
                scores, _ = memorization_scores(self.net, self.eval_data, self.modular_p, m.get("method", "auto"), m.get("layer"), self._warn)
                probe = pruning_probe(self.net, scores, self.eval_data(), int(p.get("steps", 32)))
            if p.get("save"):
                if not self.run_dir:
                    probe["saveNote"] = "not saved: the engine was started without a run folder (runDir)"
                else:
                    split = probe["modeSplit"]["pruned"]
                    at = probe["pruned"].index(split)
                    mem = probe["memorizingFirst"]
                    accuracy = {"cleanTrain": mem["cleanTrain"][at], "corruptedTrain": mem["corruptedTrain"][at], "test": mem["test"][at]}
                    try:
                        if self.user is not None:
                            # A state_dict of the user's class, not a RegLens model.json: reported as a note.
                            saved = user_probes.save_pruned_state_dict(self.run_dir, self.user, scores, split)
                            probe["saveNote"] = f"saved {saved} (the {self.user.spec['class']} state_dict with {split} units of {scores.layer.name} zeroed; load it with model.load_state_dict(torch.load(path)))"
                            self._emit(epoch, probe)
                            return
                        probe["savedModel"] = save_pruned_model(self.run_dir, self.net, self.input_size, scores, split, accuracy)
                    except Exception as err:  # noqa: BLE001 - reported in the payload, as the TS engine does
                        probe["saveNote"] = f"not saved: {err}"
            self._emit(epoch, probe)

        self._guarded("pruning", run)

    def _nested(self, epoch: int) -> None:
        def run() -> None:
            if self.user is not None:
                return self._emit(epoch, user_probes.nested_ordering(self.user, self.eval_data(), self.spec["nestedOrdering"].get("layer")))
            layer = nested_ordering_layer(self.net, self.spec["nestedOrdering"].get("layer"))
            self._emit(epoch, nested_ordering_probe(self.net, layer, self.eval_data()))

        self._guarded("nestedOrdering", run)

    # ---- the trainer's interface ----

    @property
    def wants_train_margins(self) -> bool:
        """Whether after_epoch needs the training rows' argmax and margins (train_eval)."""
        return self.label_errors is not None

    def wants_model_at(self, epoch: int, last: bool) -> bool:
        """Whether after_epoch(epoch) reads the model (then it must run before training goes on).

        `last` does not change the schedule: the run's final state is probed by finish.
        """
        return any(self._due(self._every(k), epoch) for k in ("dynamics", "memorization", "mcDropout"))

    def after_epoch(self, epoch: int, last: bool, epoch_event: Dict[str, Any], train_eval: Optional[Any] = None) -> None:
        """train_eval: (argmax, margin) numpy arrays of the training rows, when wants_train_margins."""
        self.last_epoch = epoch
        if not self.spec:
            return
        if self.label_errors is not None and not self._label_errors_failed and train_eval is not None:
            try:
                self.label_errors.after_epoch(epoch, float(epoch_event["accuracy"]["test"]), train_eval[0], train_eval[1])
            except Exception as err:  # noqa: BLE001 - once: later epochs' bookkeeping would be incomplete
                self._label_errors_failed = True
                self._warn(f"probe labelErrors failed: {err}")
        if "dynamics" in self.spec:
            loss = epoch_event.get("testLoss")
            if loss is None and self.net is not None:
                d = self.data
                loss = test_loss(self.net, d.test.x, _numpy(d.test.labels))
            # A user's module with a non-finite test loss adds no point (the engine's would be inf too).
            if loss is not None:
                self.history.append({"epoch": epoch, "trainLoss": epoch_event["loss"], "testLoss": loss, "corruptedTrain": epoch_event["accuracy"]["corruptedTrain"]})
            if self._due(self._every("dynamics"), epoch):
                self._dynamics(epoch)
        if self._due(self._every("memorization"), epoch):
            self._memorization(epoch)
        if self._due(self._every("mcDropout"), epoch):
            self._mc(epoch)

    def state(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(tensors, JSON-able meta) of what the probes gathered across epochs, for a run's
        checkpoint: without it a resumed run would rank label errors and detect dynamics from
        its resumed epochs only."""
        tensors: Dict[str, Any] = {}
        meta: Dict[str, Any] = {"last_epoch": self.last_epoch, "mc_round": self.mc_round, "history": [dict(h) for h in self.history], "label_errors_failed": self._label_errors_failed}
        if self.label_errors is not None:
            tensors["label_errors"], meta["label_errors"] = self.label_errors.state()
        return tensors, meta

    def restore(self, tensors: Dict[str, Any], meta: Dict[str, Any]) -> None:
        self.last_epoch, self.mc_round = int(meta["last_epoch"]), int(meta["mc_round"])
        self.history = [dict(h) for h in meta["history"]]
        self._label_errors_failed = bool(meta["label_errors_failed"])
        if self.label_errors is not None and "label_errors" in meta:
            self.label_errors.restore(tensors["label_errors"], meta["label_errors"])
        elif self.label_errors is not None and not self._label_errors_failed:
            raise ValueError("the checkpoint has no labelErrors bookkeeping although the experiment asks for it")

    def finish(self, epochs_done: int) -> None:
        if not self.spec:
            return
        epoch = epochs_done or self.last_epoch
        if "memorization" in self.spec:
            self._memorization(epoch)
        if "pruning" in self.spec:
            self._pruning(epoch)
        if "mcDropout" in self.spec:
            self._mc(epoch)
        if "nestedOrdering" in self.spec:
            self._nested(epoch)
        if "dynamics" in self.spec:
            self._dynamics(epoch)
        le = self.label_errors
        if le is not None and not self._label_errors_failed:
            self._guarded("labelErrors", lambda: self._emit(epoch, le.finish(epochs_done or epoch)))
