"""A probe's view of the user's own module (model.pytorch), for the probes that need no
split of the forward pass: MC dropout and the dynamics series' test loss.

It has ProbeNetwork's interface where mc_dropout.py and runner.py use it. The MC passes
switch ONLY the model's dropout modules to train mode (batch norm and everything else stay
in eval, METHODS §3); their masks come from the probe's generator through a forked global
RNG, so the run's own RNG stream is untouched.
"""
from __future__ import annotations

from typing import Any, List, Optional

import torch
from torch import nn

from reglens.engine.user_model import UserModel

from .network import ChunkedPasses


def dropout_modules(model: nn.Module) -> List[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]


class UserProbeNetwork(ChunkedPasses):
    """Forward passes of a UserModel for the probes (call inside inference())."""

    def __init__(self, model: UserModel, input_size: int) -> None:
        self.model = model
        self.input_size = input_size
        self.hidden: List[Any] = []
        self.nested_layers: List[str] = []
        self.has_dropout = any(float(m.p) > 0 for m in dropout_modules(model))  # type: ignore[arg-type]
        self._width: Optional[int] = None

    def max_width(self, input_width: int = 1) -> int:
        """Widest output any module produces per row, measured once on one row."""
        if self._width is None:
            widths: List[int] = [self.input_size]
            hooks = [m.register_forward_hook(lambda _m, _i, out: widths.append(out[0].numel() if isinstance(out, torch.Tensor) and out.dim() else 1)) for m in self.model.modules()]
            try:
                with torch.no_grad(), self.eval_mode():
                    self.model(torch.zeros(1, self.input_size, device=self.device))
            finally:
                for h in hooks:
                    h.remove()
            self._width = max(widths)
        return max(self._width, input_width)

    def run(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Only the empty prefix exists: a user's forward is not split."""
        if start >= stop:
            return x
        raise ValueError("a model.pytorch forward pass cannot be split into layer ranges")

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def mc_start(self, include_zero_rate: bool = False) -> Optional[int]:
        return 0 if self.has_dropout or (include_zero_rate and dropout_modules(self.model)) else None

    def mc_rest(self, x: torch.Tensor, start: int, generator: torch.Generator) -> torch.Tensor:
        """One stochastic pass: the model in eval mode but its dropout modules."""
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device).item())
        dev = self.device
        forked = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
        drops = dropout_modules(self.model)
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            for m in drops:
                m.train(True)
            try:
                return self.model(x)
            finally:
                for m in drops:
                    m.train(False)
