"""A probe's view of an EngineModel (port of src/engine/probes/network.ts).

The forward pass is split at a hidden layer so a probe reads the hidden activations h
once and reruns only the rest of the network with units masked, or tiles h T times for
Monte Carlo dropout. Everything is derived from the experiment's layer list
(``model.specs``) and run through ``model.run(x, start, stop)``, as the TF.js engine
derives it from its layer list.

Where a hidden layer's units are read (``HiddenLayer.position``, an index into the layer
list) follows network.ts exactly, because masking there is what the scores mean:
- models of dense / activation / dropout / nestedDropout layers only: right after dense
  i and the activations directly following it (the TS op walk);
- any other model (batch norm, conv): right before dense i + 1 (the TS model API's tap,
  after dropout, batch norm and nested dropout).
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar

import numpy as np
import torch

from reglens.engine.model import EngineModel

_OP_WALK_TYPES = {"dense", "activation", "dropout", "nestedDropout"}
_OP_WALK_ACTIVATIONS = {"relu", "square", "tanh", "sigmoid", "gelu"}

# About 16 MB of float32 per intermediate on CPU (the TS engine's budget, ablation.ts);
# accelerators get 16x that, still far below any GPU's memory.
_FLOATS_PER_PASS_CPU = 4_000_000
_FLOATS_PER_PASS_ACCEL = 64_000_000


@dataclass(frozen=True)
class HiddenLayer:
    """'dense_<i>': its units are what ``model.run(x, 0, position)`` returns."""

    name: str
    dense_index: int
    units: int
    position: int
    # Only identity-at-inference layers lie between these units and the last dense layer,
    # which is the model's output: logits = h W_out + b, so zeroing unit j subtracts
    # h_j W_out[j, :] (the rank-1 trick, METHODS §1).
    feeds_output: bool


def as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def floats_per_pass(device: torch.device) -> int:
    """How many floats one pass may hold per intermediate on this device."""
    return _FLOATS_PER_PASS_CPU if device.type == "cpu" else _FLOATS_PER_PASS_ACCEL


def device_generator(device: torch.device, seed: int) -> torch.Generator:
    """A probe's own generator: on the device where torch has one (CUDA), else on the CPU."""
    g = torch.Generator(device=device if device.type == "cuda" else torch.device("cpu"))
    g.manual_seed(seed)
    return g


@contextlib.contextmanager
def eval_modes(model: torch.nn.Module) -> Iterator[None]:
    """The whole model in eval mode; every module's own train/eval flag restored after."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


class ChunkedPasses:
    """What every probe network shares: the device, row chunks bounded by a float budget,
    the probe's own generator, and eval mode with the modes restored."""

    model: torch.nn.Module

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def floats_per_pass(self) -> int:
        return floats_per_pass(self.device)

    def generator(self, seed: int) -> torch.Generator:
        return device_generator(self.device, seed)

    def rows_per_chunk(self, width: int) -> int:
        return max(1, self.floats_per_pass // max(1, width))

    def map_rows(self, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, width: int) -> torch.Tensor:
        """fn over row chunks of x (moved to the device); results concatenated on the device."""
        chunk = self.rows_per_chunk(width)
        dev = self.device
        outs = [fn(x[s : s + chunk].to(dev)) for s in range(0, x.shape[0], chunk)]
        return torch.cat(outs, 0) if outs else fn(x[:0].to(dev))

    def eval_mode(self) -> "contextlib.AbstractContextManager[None]":
        """Whole model in eval mode; every module's own train/eval flag restored after."""
        return eval_modes(self.model)


class ProbeNetwork(ChunkedPasses):
    """Layer bookkeeping and split forward passes of one EngineModel (inference mode)."""

    def __init__(self, model: EngineModel) -> None:
        self.model = model
        specs: List[Dict[str, Any]] = list(model.specs)
        self.specs = specs
        types = [s["type"] for s in specs]
        dense_at = [i for i, t in enumerate(types) if t == "dense"]
        self.dense_at = dense_at
        op_walk = all(
            s["type"] in _OP_WALK_TYPES and (s["type"] != "activation" or s.get("fn") in _OP_WALK_ACTIVATIONS) for s in specs
        )
        last_dense = dense_at[-1] if dense_at else -1
        nothing_after_output = last_dense == len(specs) - 1
        hidden: List[HiddenLayer] = []
        for i in range(len(dense_at) - 1):
            if op_walk:
                pos = dense_at[i] + 1
                while pos < len(specs) and types[pos] == "activation":
                    pos += 1
                between = types[pos:last_dense]
                feeds = nothing_after_output and all(t in ("dropout", "nestedDropout") for t in between)
            else:
                pos = dense_at[i + 1]
                feeds = nothing_after_output and i == len(dense_at) - 2
            hidden.append(HiddenLayer(f"dense_{i}", i, int(specs[dense_at[i]]["units"]), pos, feeds))
        self.hidden = hidden
        nested: List[str] = []
        seen = 0
        for t in types:
            if t == "dense":
                seen += 1
            elif t == "nestedDropout" and seen > 0:
                nested.append(f"dense_{seen - 1}")
        self.nested_layers = nested
        self.dropout_at = [i for i, s in enumerate(specs) if s["type"] == "dropout"]
        self.has_dropout = any(float(specs[i].get("rate", 0)) > 0 for i in self.dropout_at)

    # ---- bookkeeping ----

    def layer(self, name: str) -> Optional[HiddenLayer]:
        return next((h for h in self.hidden if h.name == name), None)

    def max_width(self, input_width: int = 1) -> int:
        """Widest activation per row a pass holds: bounds the rows of one pass.

        Convolutions keep at most the input's values per channel (stride 1, same padding),
        so input width x filters bounds their feature maps.
        """
        widths = [input_width] + [h.units for h in self.hidden]
        for s in self.specs:
            if s["type"] == "dense":
                widths.append(int(s["units"]))
            elif s["type"] == "conv2d":
                widths.append(input_width * int(s["filters"]))
        return max(widths)

    def weights(self) -> Dict[str, np.ndarray]:
        """The model's weights in TF layout, as float32 arrays."""
        return {k: as_numpy(v).astype(np.float32, copy=False) for k, v in self.model.get_weights().items()}

    def out_kernel(self, layer: HiddenLayer) -> np.ndarray:
        """dense_{i+1}/kernel, [units, next units]."""
        return self.weights()[f"dense_{layer.dense_index + 1}/kernel"]

    def out_bias(self, layer: HiddenLayer) -> Optional[np.ndarray]:
        return self.weights().get(f"dense_{layer.dense_index + 1}/bias")

    # ---- forward passes (call inside inference(); inputs already on the device) ----

    def run(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        if start >= stop:
            return x
        return self.model.run(x, start, stop)

    def hidden_of(self, x: torch.Tensor, layer: HiddenLayer) -> torch.Tensor:
        return self.run(x, 0, layer.position)

    def logits_from(self, h: torch.Tensor, layer: HiddenLayer) -> torch.Tensor:
        return self.run(h, layer.position, len(self.specs))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, 0, len(self.specs))

    def mc_start(self, include_zero_rate: bool = False) -> Optional[int]:
        """Index of the first dropout layer MC passes activate (rate > 0 unless asked)."""
        for i in self.dropout_at:
            if include_zero_rate or float(self.specs[i].get("rate", 0)) > 0:
                return i
        return None

    def mc_rest(self, h: torch.Tensor, start: int, generator: torch.Generator) -> torch.Tensor:
        """Layers start.. with ONLY the dropout layers active (METHODS §3, §10).

        The dropout masks come from the probe's own generator, so the run's global RNG
        stream is untouched; batch norm, nested dropout and the rest stay in inference mode.
        """
        for i in range(start, len(self.specs)):
            spec = self.specs[i]
            if spec["type"] == "dropout":
                rate = float(spec.get("rate", 0))
                if rate > 0:
                    noise = torch.rand(h.shape, generator=generator, device=generator.device)
                    keep = (noise >= rate).to(device=h.device, dtype=h.dtype)
                    h = h * keep / (1.0 - rate)
            else:
                h = self.run(h, i, i + 1)
        return h


F = TypeVar("F", bound=Callable[..., Any])


def inference(fn: F) -> F:
    """Runs fn(net, ...) under torch.no_grad with the model in eval mode (modes restored)."""

    @functools.wraps(fn)
    def wrapper(net: ProbeNetwork, *args: Any, **kwargs: Any) -> Any:
        with torch.no_grad(), net.eval_mode():
            return fn(net, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
