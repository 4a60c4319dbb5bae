"""The experiment's `model.layers` as torch modules, one module per layer spec, with the
semantics of src/engine/model.ts (docs/torch-engine.md "Models").

Layouts: the input is the flat row of train_x.npy; image layers see NCHW inside (torch's
native layout) and `flatten` emits HWC order, as TF's flatten of NHWC does, so dense
kernels are exchangeable with the TF.js engine. get_weights / set_weights speak the
contract's TF layout (dense kernels [in, out], conv kernels [kh, kw, cin, cout]).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reglens.nn import NestedDropout


class ModelShapeError(ValueError):
    """The layer list does not fit the data (a user error: reported without a stack)."""


@dataclass(frozen=True)
class ImageShape:
    height: int
    width: int
    channels: int


class Square(nn.Module):
    """phi(x) = x^2: the quadratic network of Doshi et al."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


def _activation(fn: str) -> nn.Module:
    if fn == "relu":
        return nn.ReLU()
    if fn == "square":
        return Square()
    if fn == "tanh":
        return nn.Tanh()
    if fn == "sigmoid":
        return nn.Sigmoid()
    if fn == "gelu":
        # model.ts uses the tanh approximation (tfjs-core has no exact gelu).
        return nn.GELU(approximate="tanh")
    raise ModelShapeError(f'unknown activation "{fn}" (relu, square, tanh, sigmoid, gelu)')


class BatchNorm(nn.Module):
    """Batch norm with TF's semantics: normalises with the biased batch variance, updates
    r <- momentum * r + (1 - momentum) * batch statistic with that same biased variance
    (torch's BatchNorm would use the unbiased one and momentum 1 - m), and uses the running
    statistics in eval mode. Feature axis: the last of [n, c], the channel axis of NCHW."""

    def __init__(self, features: int, momentum: float, epsilon: float) -> None:
        super().__init__()
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.weight = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, momentum={self.momentum}, epsilon={self.epsilon}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image = x.dim() == 4
        shape = (1, -1, 1, 1) if image else (1, -1)
        if self.training:
            var, mean = torch.var_mean(x, dim=(0, 2, 3) if image else 0, correction=0)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(m).add_(mean.detach(), alpha=1 - m)
                self.running_var.mul_(m).add_(var.detach(), alpha=1 - m)
        else:
            mean, var = self.running_mean, self.running_var
        scale = torch.rsqrt(var + self.epsilon) * self.weight
        return (x - mean.view(shape)) * scale.view(shape) + self.bias.view(shape)


class Conv2d(nn.Module):
    """TF's conv2d with `same` / `valid` padding on NCHW. TF's `same` pads
    max((ceil(n / s) - 1) s + k - n, 0) in total, the extra pixel after (bottom / right)."""

    def __init__(self, cin: int, filters: int, kernel: int, stride: int, padding: str, use_bias: bool, in_hw: Tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, filters, kernel, stride=stride, padding=0, bias=use_bias)
        pads: List[int] = []
        if padding == "same":
            for n in reversed(in_hw):  # F.pad wants (left, right, top, bottom)
                total = max((math.ceil(n / stride) - 1) * stride + kernel - n, 0)
                pads += [total // 2, total - total // 2]
        self.pads = tuple(pads)
        self.symmetric = len(pads) == 4 and pads[0] == pads[1] and pads[2] == pads[3]
        if self.symmetric:
            self.conv.padding = (pads[2], pads[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pads and not self.symmetric:
            x = F.pad(x, self.pads)
        return self.conv(x)


class MaxPool(nn.MaxPool2d):
    """TF maxPool with pool = stride = poolSize, `valid` (floor) output size."""

    def __init__(self, size: int) -> None:
        super().__init__(kernel_size=size, stride=size)


class Flatten(nn.Module):
    """NCHW -> rows in HWC order (TF's flatten of NHWC); flat input passes through."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return x


def _init_kernel(weight: torch.Tensor, init: str, init_std: Optional[float], fan_in: int, fan_out: int, generator: torch.Generator) -> None:
    """model.ts initValues: glorot uniform; he N(0, 2 / fanIn); normal N(0, initStd) or
    LeCun's N(0, 1 / fanIn) without initStd. Biases start at 0."""
    with torch.no_grad():
        if init == "glorot":
            limit = math.sqrt(6 / (fan_in + fan_out))
            weight.uniform_(-limit, limit, generator=generator)
        else:
            std = math.sqrt(2 / fan_in) if init == "he" else (init_std if init_std is not None else 1 / math.sqrt(fan_in))
            weight.normal_(0.0, std, generator=generator)


# Contract names of each layer type's weights (docs/torch-engine.md "Weight exchange").
_PREFIX = {"dense": "dense", "batchNorm": "batchNorm", "conv2d": "conv2d"}


class EngineModel(nn.Module):
    """layers[i] is the module of specs[i]. run(x, start, stop) applies layers[start:stop];
    the flat input becomes an NCHW image right before the first conv2d / maxPool layer."""

    def __init__(self, specs: List[Dict[str, Any]], layers: List[nn.Module], input_size: int, image_at: Optional[int], image: Optional[ImageShape]) -> None:
        super().__init__()
        self.specs = [dict(s) for s in specs]
        self.layers = nn.ModuleList(layers)
        self.input_size = input_size
        self.image_at = image_at
        self.image = image
        self._dense = [i for i, s in enumerate(self.specs) if s["type"] == "dense"]
        # Mode-dependent modules after the last dense layer: model.ts runs that head in
        # eval mode (multi-sample dropout's M heads).
        self._head_modal = [m for m in layers[self._dense[-1]:] if isinstance(m, (nn.Dropout, BatchNorm, NestedDropout))]

    @property
    def output_size(self) -> int:
        return self.layers[self._dense[-1]].out_features

    def parameter_count(self) -> int:
        """Trainable values (kernels, biases, batch-norm scale and shift): what started.parameters reports."""
        return sum(p.numel() for p in self.parameters())

    def kernels(self) -> List[torch.Tensor]:
        """Dense and conv kernels: what coupled L2 penalises."""
        out: List[torch.Tensor] = []
        for m in self.layers:
            if isinstance(m, nn.Linear):
                out.append(m.weight)
            elif isinstance(m, Conv2d):
                out.append(m.conv.weight)
        return out

    def dense_indices(self) -> List[int]:
        """Layer index of each dense layer; the i-th is named "dense_<i>"."""
        return list(self._dense)

    def hidden_layers(self) -> List[Dict[str, Any]]:
        """The dense layers but the last, as model.ts hiddenLayers(): name, units, and `end`,
        the layer index where its block ends (run(x, 0, end) gives its units as the next
        dense layer sees them: after activation, dropout, batch norm, nested dropout)."""
        return [
            {"name": f"dense_{i}", "units": self.layers[d].out_features, "end": self._dense[i + 1]}
            for i, d in enumerate(self._dense[:-1])
        ]

    def run(self, x: torch.Tensor, start: int = 0, stop: Optional[int] = None) -> torch.Tensor:
        stop = len(self.layers) if stop is None else stop
        for i in range(start, stop):
            if i == self.image_at and x.dim() == 2:
                im = self.image
                x = x.reshape(-1, im.height, im.width, im.channels).permute(0, 3, 1, 2)
            x = self.layers[i](x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, 0, len(self.layers))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What enters the last dense layer (multi-sample dropout's trunk)."""
        return self.run(x, 0, self._dense[-1])

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """The last dense layer and what follows it, in eval mode as in model.ts."""
        if not self._head_modal:
            return self.run(features, self._dense[-1])
        modes = [m.training for m in self._head_modal]
        try:
            for m in self._head_modal:
                m.train(False)
            return self.run(features, self._dense[-1])
        finally:
            for m, t in zip(self._head_modal, modes):
                m.train(t)

    def _named(self) -> List[Tuple[str, torch.Tensor, str]]:
        """(contract name, tensor, layout) for every weight, in layer order."""
        out: List[Tuple[str, torch.Tensor, str]] = []
        counts: Dict[str, int] = {}
        for spec, m in zip(self.specs, self.layers):
            prefix = _PREFIX.get(spec["type"])
            if prefix is None:
                continue
            j = counts.get(prefix, 0)
            counts[prefix] = j + 1
            name = f"{prefix}_{j}"
            if isinstance(m, nn.Linear):
                out.append((f"{name}/kernel", m.weight, "dense"))
                if m.bias is not None:
                    out.append((f"{name}/bias", m.bias, "vector"))
            elif isinstance(m, Conv2d):
                out.append((f"{name}/kernel", m.conv.weight, "conv"))
                if m.conv.bias is not None:
                    out.append((f"{name}/bias", m.conv.bias, "vector"))
            elif isinstance(m, BatchNorm):
                out += [
                    (f"{name}/gamma", m.weight, "vector"),
                    (f"{name}/beta", m.bias, "vector"),
                    (f"{name}/movingMean", m.running_mean, "vector"),
                    (f"{name}/movingVariance", m.running_var, "vector"),
                ]
        return out

    def get_weights(self) -> Dict[str, np.ndarray]:
        """Every weight (trainable and batch-norm state) by contract name, TF layout, float32 copies."""
        out: Dict[str, np.ndarray] = {}
        for name, t, layout in self._named():
            a = t.detach().to("cpu", torch.float32)
            if layout == "dense":
                a = a.t()
            elif layout == "conv":
                a = a.permute(2, 3, 1, 0)
            out[name] = np.ascontiguousarray(a.numpy())
        return out

    def set_weights(self, weights: Dict[str, np.ndarray], strict: bool = True) -> None:
        """Loads weights by contract name (TF layout). strict: every weight must be given;
        a name the model lacks or a wrong shape is always an error."""
        named = self._named()
        known = {n for n, _, _ in named}
        unknown = sorted(set(weights) - known)
        if unknown:
            raise ModelShapeError(f"unknown weight name(s) {', '.join(unknown)}; this model has {', '.join(sorted(known))}")
        missing = [n for n, _, _ in named if n not in weights]
        if strict and missing:
            raise ModelShapeError(f"missing weight(s) {', '.join(missing)}")
        with torch.no_grad():
            for name, t, layout in named:
                if name not in weights:
                    continue
                a = torch.as_tensor(np.asarray(weights[name], dtype=np.float32))
                if layout == "dense":
                    a = a.t()
                elif layout == "conv":
                    if a.dim() == 4:
                        a = a.permute(3, 2, 0, 1)
                if tuple(a.shape) != tuple(t.shape):
                    want = tuple(t.shape[::-1]) if layout == "dense" else (tuple(t.permute(2, 3, 1, 0).shape) if layout == "conv" else tuple(t.shape))
                    raise ModelShapeError(f"weight {name} has shape {list(np.asarray(weights[name]).shape)}, the layer needs {list(want)}")
                t.copy_(a)


_TFJS_NAMES = (
    (re.compile(r"^conv_(\d+)/"), r"conv2d_\1/"),
    (re.compile(r"^batch_norm_(\d+)/moving_mean$"), r"batchNorm_\1/movingMean"),
    (re.compile(r"^batch_norm_(\d+)/moving_variance$"), r"batchNorm_\1/movingVariance"),
    (re.compile(r"^batch_norm_(\d+)/"), r"batchNorm_\1/"),
)


def contract_name(name: str) -> str:
    """A weight name as the contract spells it; the TF.js engine's own names (conv_0/kernel,
    batch_norm_0/moving_mean: what a saved model's manifest carries) are translated."""
    for pattern, replacement in _TFJS_NAMES:
        if pattern.match(name):
            return pattern.sub(replacement, name)
    return name


def build_model(
    layers: Sequence[Dict[str, Any]],
    input_size: int,
    classes: Optional[int],
    image: Optional[ImageShape],
    generator: torch.Generator,
) -> EngineModel:
    """Builds the model of `model.layers` (defaulted by zod) on the CPU; initial weights are
    drawn from `generator`. classes: the dataset's class count (checked against the output),
    or None to skip that check."""
    modules: List[nn.Module] = []
    shape: List[int] = [input_size]  # without the batch axis: [d] or [c, h, w]
    image_at: Optional[int] = None
    dense_count = 0
    for li, spec in enumerate(layers):
        kind = spec.get("type")
        where = f"model.layers.{li}"
        if kind in ("conv2d", "maxPool") and len(shape) == 1:
            if image is None or image.height * image.width * image.channels != shape[0]:
                raise ModelShapeError(f"{where}: {kind} needs image input (the mnist dataset) before any flatten/dense layer")
            shape = [image.channels, image.height, image.width]
            image_at = li
        if kind == "dense":
            if len(shape) != 1:
                raise ModelShapeError(f"{where}: add a flatten layer before this dense layer")
            fan_in, units = shape[0], int(spec["units"])
            m = nn.Linear(fan_in, units, bias=bool(spec.get("useBias", True)))
            _init_kernel(m.weight, spec.get("init", "glorot"), spec.get("initStd"), fan_in, units, generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            modules.append(m)
            shape = [units]
            dense_count += 1
        elif kind == "conv2d":
            c, h, w = shape
            k, s, pad, filters = int(spec.get("kernelSize", 3)), int(spec.get("strides", 1)), spec.get("padding", "same"), int(spec["filters"])
            m = Conv2d(c, filters, k, s, pad, bool(spec.get("useBias", True)), (h, w))
            _init_kernel(m.conv.weight, "he", None, k * k * c, filters, generator)
            if m.conv.bias is not None:
                nn.init.zeros_(m.conv.bias)
            modules.append(m)
            out = (lambda n: math.ceil(n / s)) if pad == "same" else (lambda n: (n - k) // s + 1)
            shape = [filters, out(h), out(w)]
            if shape[1] < 1 or shape[2] < 1:
                raise ModelShapeError(f"{where}: the image is too small for this convolution")
        elif kind == "maxPool":
            size = int(spec.get("poolSize", 2))
            modules.append(MaxPool(size))
            shape = [shape[0], shape[1] // size, shape[2] // size]
            if shape[1] < 1 or shape[2] < 1:
                raise ModelShapeError(f"{where}: the image is too small for this pooling")
        elif kind == "flatten":
            modules.append(Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "activation":
            modules.append(_activation(spec["fn"]))
        elif kind == "dropout":
            modules.append(nn.Dropout(float(spec["rate"])))
        elif kind == "batchNorm":
            modules.append(BatchNorm(shape[0], spec.get("momentum", 0.9), spec.get("epsilon", 1e-5)))
        elif kind == "nestedDropout":
            if len(shape) != 1:
                raise ModelShapeError(f"{where}: nestedDropout needs flat features (add flatten first)")
            modules.append(NestedDropout(spec.get("distribution", "halfGaussian"), spec.get("sigma", 10.0), spec.get("rho", 0.9), units=shape[0]))
        else:
            raise ModelShapeError(f'{where}: unknown layer type "{kind}"')
    if len(shape) != 1:
        raise ModelShapeError("model.layers: the model must end with flat logits (add flatten and a dense layer)")
    if not dense_count:
        raise ModelShapeError("model.layers: add at least one dense layer (the classifier)")
    if classes is not None and shape[0] != classes:
        raise ModelShapeError(
            f"model.layers: the model outputs {shape[0]} values but the dataset has {classes} classes; make the last dense layer {classes} units wide"
        )
    return EngineModel(list(layers), modules, input_size, image_at, image)
