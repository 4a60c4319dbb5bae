"""The labelErrors probe on a torch model (port of src/engine/probes/labelErrorsProbe.ts).

During training it keeps O(n) numbers per epoch (label_errors.LabelErrorTracker) from the
evaluation pass the trainer runs anyway, plus a copy of the weights (state_dict, on the
model's device) whenever the test accuracy reaches a new best. After training those weights
are loaded for a moment to read p(j|x) and the dropout passes on the training set; the
final weights are then put back.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from reglens import hooks

from .label_errors import LabelErrorTracker, images_of, label_errors_payload, top_examples
from .mc_dropout import NO_DROPOUT_MESSAGE, eval_probabilities, mc_probabilities
from .network import ProbeNetwork

Payload = Dict[str, Any]


def margins_of(logits: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(argmax, z_y - max_{j != y} z_j) per row, on the logits' device."""
    given = logits.gather(1, labels.view(-1, 1)).squeeze(1)
    other = logits.scatter(1, labels.view(-1, 1), float("-inf")).max(1).values
    return logits.argmax(1), given - other


class LabelErrorsRun:
    """spec: the experiment's probes.labelErrors (zod-defaulted); net: the engine's
    ProbeNetwork (None for a user's module, probed through hooks)."""

    def __init__(self, spec: Dict[str, Any], model: nn.Module, net: Optional[ProbeNetwork], x_train: torch.Tensor, labels: np.ndarray, corrupted: Optional[np.ndarray], source: np.ndarray, classes: int, image: Optional[Tuple[int, int]], seed: int) -> None:
        self.methods = list(spec.get("methods") or ["aum", "forgetting", "smallLoss", "confidentLearning", "mcDropout"])
        self.top_k = int(spec.get("topK", 30))
        self.checkpoint = str(spec.get("checkpoint", "bestTestAccuracy"))
        self.passes = int(spec.get("mcPasses", 20))
        self.model = model
        self.net = net
        self.x_train = x_train
        self.labels = np.asarray(labels, dtype=np.int64)
        self.corrupted = corrupted
        self.source = source
        self.classes = classes
        self.image = image
        self.seed = seed
        self.tracker = LabelErrorTracker(self.labels)
        self.best: Optional[Tuple[int, float, Dict[str, torch.Tensor]]] = None

    def after_epoch(self, epoch: int, test_accuracy: float, pred: np.ndarray, margin: np.ndarray) -> None:
        self.tracker.update(pred, margin)
        # Ties keep the earlier epoch: fewer noisy labels memorized by then.
        if self.checkpoint == "bestTestAccuracy" and (self.best is None or test_accuracy > self.best[1]):
            self.best = (epoch, test_accuracy, {k: v.detach().clone() for k, v in self.model.state_dict().items()})

    def state(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(tensors, JSON-able meta) for a run's checkpoint: the tracker and the best epoch's weights."""
        tensors: Dict[str, Any] = {k: torch.from_numpy(v) for k, v in self.tracker.state().items()}
        meta: Dict[str, Any] = {"epochs": self.tracker.epochs}
        if self.best is not None:
            tensors["best_state"] = self.best[2]
            meta["best"] = {"epoch": self.best[0], "test": self.best[1]}
        return tensors, meta

    def restore(self, tensors: Dict[str, Any], meta: Dict[str, Any]) -> None:
        self.tracker.restore(int(meta["epochs"]), {k: tensors[k].cpu().numpy() for k in ("margin_sum", "forgets", "ever_correct", "was_correct")})
        best = meta.get("best")
        self.best = (int(best["epoch"]), float(best["test"]), tensors["best_state"]) if best else None

    def finish(self, epochs_done: int) -> Payload:
        use_best = self.best is not None and self.best[0] != epochs_done
        current = {k: v.detach().clone() for k, v in self.model.state_dict().items()} if use_best else None
        if use_best:
            assert self.best is not None
            self.model.load_state_dict(self.best[2])
        try:
            probs = self._probabilities()
            mc_given: Union[np.ndarray, str] = self._mc_given() if "mcDropout" in self.methods else "not asked for"
        finally:
            if current is not None:
                self.model.load_state_dict(current)
        payload = label_errors_payload(
            self.methods,
            self.tracker,
            self.labels,
            int(probs.shape[1]),
            self.source,
            self.corrupted,
            "bestTestAccuracy" if self.best is not None else "last",
            self.best[0] if self.best is not None else epochs_done,
            probs,
            mc_given,
        )
        if self.image is not None:
            width, height = self.image
            payload["images"] = images_of(self.x_train.detach().cpu().numpy(), top_examples(payload, self.top_k), width, height)
        return payload

    def _probabilities(self) -> np.ndarray:
        if self.net is not None:
            return eval_probabilities(self.net, self.x_train)
        return hooks.eval_probabilities(self.model, self.x_train)

    def _mc_given(self) -> Union[np.ndarray, str]:
        """Mean over the dropout passes of p(y|x), or why there are no passes."""
        if self.net is not None:
            if not self.net.has_dropout:
                return NO_DROPOUT_MESSAGE
            probs = mc_probabilities(self.net, self.x_train, self.passes, self.seed)
        else:
            if not any(float(m.p) > 0 for _, m in hooks.dropout_modules(self.model)):  # type: ignore[attr-defined]
                return NO_DROPOUT_MESSAGE
            probs = hooks.mc_probabilities(self.model, self.x_train, self.passes, self.seed)
        rows = np.arange(len(self.labels))
        return probs[:, rows, self.labels].astype(np.float64).mean(0)
