"""Test fixtures for the probe tests: a small model satisfying the EngineModel interface
(specs, layers, run, get_weights / set_weights in TF layout) built from torch.nn modules,
datasets with a corrupted mask, and a draft-7 subset validator for emitted events."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from torch import nn

from reglens.engine.probes.ablation import EvalData
from reglens.engine.probes.network import ProbeNetwork


class _Square(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


_ACT = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "square": _Square, "gelu": lambda: nn.GELU(approximate="tanh")}


class FixtureModel(nn.Module):
    def __init__(self, specs: List[Dict[str, Any]], input_size: int, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.specs = specs
        mods: List[nn.Module] = []
        width = input_size
        for s in specs:
            t = s["type"]
            if t == "dense":
                lin = nn.Linear(width, s["units"], bias=s.get("useBias", True))
                with torch.no_grad():
                    lin.weight.copy_(torch.randn(lin.weight.shape, generator=g) / width**0.5)
                    if lin.bias is not None:
                        lin.bias.zero_()
                mods.append(lin)
                width = s["units"]
            elif t == "activation":
                mods.append(_ACT[s["fn"]]())
            elif t == "dropout":
                mods.append(nn.Dropout(s["rate"]))
            elif t == "batchNorm":
                mods.append(nn.BatchNorm1d(width, eps=s.get("epsilon", 1e-5), momentum=1 - s.get("momentum", 0.9)))
            elif t == "nestedDropout":
                mods.append(nn.Identity())
            else:
                raise ValueError(t)
        self.layers = nn.ModuleList(mods)

    def run(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        for m in self.layers[start:stop]:
            x = m(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, 0, len(self.layers))

    def dense_indices(self) -> List[int]:
        return [i for i, s in enumerate(self.specs) if s["type"] == "dense"]

    def get_weights(self) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        d = b = 0
        for s, m in zip(self.specs, self.layers):
            if s["type"] == "dense":
                out[f"dense_{d}/kernel"] = m.weight.detach().cpu().numpy().T.copy()
                if m.bias is not None:
                    out[f"dense_{d}/bias"] = m.bias.detach().cpu().numpy().copy()
                d += 1
            elif s["type"] == "batchNorm":
                out[f"batchNorm_{b}/gamma"] = m.weight.detach().cpu().numpy().copy()
                out[f"batchNorm_{b}/beta"] = m.bias.detach().cpu().numpy().copy()
                out[f"batchNorm_{b}/movingMean"] = m.running_mean.cpu().numpy().copy()
                out[f"batchNorm_{b}/movingVariance"] = m.running_var.cpu().numpy().copy()
                b += 1
        return out

    def set_weights(self, weights: Dict[str, Any]) -> None:
        d = b = 0
        with torch.no_grad():
            for s, m in zip(self.specs, self.layers):
                if s["type"] == "dense":
                    if f"dense_{d}/kernel" in weights:
                        m.weight.copy_(torch.as_tensor(np.asarray(weights[f"dense_{d}/kernel"])).T)
                    if m.bias is not None and f"dense_{d}/bias" in weights:
                        m.bias.copy_(torch.as_tensor(np.asarray(weights[f"dense_{d}/bias"])))
                    d += 1
                elif s["type"] == "batchNorm":
                    for attr, key in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "movingMean"), ("running_var", "movingVariance")):
                        name = f"batchNorm_{b}/{key}"
                        if name in weights:
                            getattr(m, attr).copy_(torch.as_tensor(np.asarray(weights[name])))
                    b += 1


def dense(units: int, use_bias: bool = True) -> Dict[str, Any]:
    return {"type": "dense", "units": units, "useBias": use_bias, "init": "glorot"}


def act(fn: str) -> Dict[str, Any]:
    return {"type": "activation", "fn": fn}


def eval_data(x_train: np.ndarray, train_labels, corrupted, x_test: np.ndarray, test_labels) -> EvalData:
    return EvalData.build(
        torch.as_tensor(np.asarray(x_train, dtype=np.float32)),
        torch.as_tensor(np.asarray(x_test, dtype=np.float32)),
        np.asarray(train_labels),
        np.asarray(corrupted, dtype=bool),
        np.asarray(test_labels),
    )


def carrier_model(n_clean: int = 6, n_corrupted: int = 3, n_test: int = 4, extra_layer: bool = False):
    """A hand-built net over one-hot example inputs: hidden unit 0 fires only on the
    corrupted training examples and pushes them to their corrupted label (class 1); unit 1
    fires on every example and pushes nothing; unit 2 fires on every example and carries
    class 0 against the output bias favouring class 1, so the clean and test examples need
    it. Returns (model, EvalData)."""
    n_train = n_clean + n_corrupted
    d = n_train + n_test
    specs = [dense(3), act("relu"), dense(2)] if not extra_layer else [dense(3), act("relu"), dense(3), act("relu"), dense(2)]
    model = FixtureModel(specs, d)
    k0 = np.zeros((d, 3), dtype=np.float32)
    k0[n_clean:n_train, 0] = 1
    k0[:, 1] = 1
    k0[:, 2] = 1
    w = {"dense_0/kernel": k0, "dense_0/bias": np.zeros(3, np.float32)}
    out = np.array([[0, 3], [0, 0], [1, 0]], dtype=np.float32)
    if extra_layer:
        w["dense_1/kernel"] = np.eye(3, dtype=np.float32)
        w["dense_1/bias"] = np.zeros(3, np.float32)
        w["dense_2/kernel"], w["dense_2/bias"] = out, np.array([0, 0.5], np.float32)
    else:
        w["dense_1/kernel"], w["dense_1/bias"] = out, np.array([0, 0.5], np.float32)
    model.set_weights(w)
    x = np.eye(d, dtype=np.float32)
    labels = np.array([0] * n_clean + [1] * n_corrupted)
    corrupted = np.array([False] * n_clean + [True] * n_corrupted)
    return model, eval_data(x[:n_train], labels, corrupted, x[n_train:], np.zeros(n_test, dtype=np.int64))


def random_data(n_train: int, n_test: int, d: int, classes: int, noise: float = 0.2, seed: int = 0) -> EvalData:
    r = np.random.default_rng(seed)
    x_train = r.standard_normal((n_train, d)).astype(np.float32)
    x_test = r.standard_normal((n_test, d)).astype(np.float32)
    labels = r.integers(0, classes, n_train)
    corrupted = r.random(n_train) < noise
    return eval_data(x_train, labels, corrupted, x_test, r.integers(0, classes, n_test))


def dataset_of(e: EvalData, modular_p: Optional[int] = None, image: Optional[tuple] = None) -> SimpleNamespace:
    """The Dataset attributes the ProbeRunner reads, from an EvalData."""
    n = e.n_train
    return SimpleNamespace(
        train=SimpleNamespace(x=e.x[:n], labels=torch.as_tensor(e.labels[:n]), corrupted=torch.as_tensor(e.group[:n] == 1)),
        test=SimpleNamespace(x=e.x[n:], labels=torch.as_tensor(e.labels[n:])),
        input_size=e.x.shape[1],
        modular_p=modular_p,
        image=image,
    )


def net_of(model: nn.Module) -> ProbeNetwork:
    return ProbeNetwork(model)
