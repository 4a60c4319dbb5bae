"""Test fixtures for the probe tests: engine models with hand-set weights, data with a
corrupted mask, and the Dataset attributes the ProbeRunner reads."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
import torch

from reglens.engine.data import Dataset, Split
from reglens.engine.model import EngineModel, ImageShape, build_model
from reglens.engine.probes.ablation import EvalData
from reglens.engine.probes.network import ProbeNetwork


def FixtureModel(specs: List[Dict[str, Any]], input_size: int, seed: int = 0, image: Optional[ImageShape] = None) -> EngineModel:
    """The engine's own model (reglens.engine.model.build_model), seeded init."""
    return build_model(specs, input_size, None, image, torch.Generator().manual_seed(seed))


def dense(units: int, use_bias: bool = True) -> Dict[str, Any]:
    return {"type": "dense", "units": units, "useBias": use_bias, "init": "glorot"}


def act(fn: str) -> Dict[str, Any]:
    return {"type": "activation", "fn": fn}


def conv_specs(filters: int, hidden: int, classes: int, dropout: Optional[float] = None) -> List[Dict[str, Any]]:
    """conv 3x3 same -> relu [-> dropout] -> maxPool 2 -> flatten -> dense -> relu -> batch norm -> dense."""
    return [
        {"type": "conv2d", "filters": filters, "kernelSize": 3, "strides": 1, "padding": "same", "useBias": True},
        act("relu"),
        *([{"type": "dropout", "rate": dropout}] if dropout is not None else []),
        {"type": "maxPool", "poolSize": 2},
        {"type": "flatten"},
        dense(hidden),
        act("relu"),
        {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-3},
        dense(classes),
    ]


def all_probes(every: int, save: bool) -> Dict[str, Any]:
    """Every probe on, the periodic ones every `every` epochs."""
    return {
        "memorization": {"every": every, "method": "auto", "alsoLayers": "all"},
        "pruning": {"steps": 4, "save": save},
        "mcDropout": {"passes": 4, "examples": 50, "every": every},
        "nestedOrdering": {},
        "dynamics": {"every": every},
    }


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


def dataset_of(e: EvalData, modular_p: Optional[int] = None, image: Optional[ImageShape] = None, classes: Optional[int] = None) -> Dataset:
    """The engine's Dataset holding an EvalData's rows (true labels = the labels given)."""
    n = e.n_train
    labels = torch.as_tensor(e.labels)
    corrupted = torch.as_tensor(e.group[:n] == 1)

    def split(rows: slice, bad: torch.Tensor) -> Split:
        idx = torch.arange(len(e.labels))[rows]
        return Split(x=e.x[rows], labels=labels[rows], true_labels=labels[rows], source=idx, corrupted=bad)

    return Dataset(
        kind="modular" if modular_p else "test",
        input_size=int(e.x.shape[1]),
        classes=int(classes or labels.max() + 1),
        noise_rate=float(corrupted.float().mean()) if n else 0.0,
        corrupted_count=int(corrupted.sum()),
        image=image,
        feature_names=None,
        feature_groups=None,
        modular_p=modular_p,
        train=split(slice(0, n), corrupted),
        test=split(slice(n, None), torch.zeros(len(e.labels) - n, dtype=torch.bool)),
    )


def net_of(model: EngineModel) -> ProbeNetwork:
    return ProbeNetwork(model)
