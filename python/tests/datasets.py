"""Datasets in the hand-over format of docs/torch-engine.md, written with numpy as
engine.js writes them (.npy v1.0, little-endian, C order, meta.json)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

import numpy as np


def write_split(folder: str, prefix: str, x: np.ndarray, labels: np.ndarray, true_labels: np.ndarray, source: np.ndarray, corrupted: Optional[np.ndarray] = None) -> None:
    np.save(os.path.join(folder, f"{prefix}_x.npy"), np.ascontiguousarray(x, dtype="<f4"))
    np.save(os.path.join(folder, f"{prefix}_labels.npy"), labels.astype("<i4"))
    np.save(os.path.join(folder, f"{prefix}_true_labels.npy"), true_labels.astype("<i4"))
    np.save(os.path.join(folder, f"{prefix}_source.npy"), source.astype("<i4"))
    if corrupted is not None:
        np.save(os.path.join(folder, f"{prefix}_corrupted.npy"), corrupted.astype("u1"))


def write_meta(folder: str, **meta: Any) -> None:
    base: Dict[str, Any] = {"format": 1, "noiseRate": 0.0, "corruptedCount": 0, "image": None, "featureNames": None, "featureGroups": None, "modular": None, "initialWeights": None}
    base.update(meta)
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(base, f)


def write_modular(folder: str, p: int = 11, train_fraction: float = 0.6, noise: float = 0.0, seed: int = 0) -> Dict[str, np.ndarray]:
    """(m + n) mod p on one-hot pairs, a seeded split and symmetric label noise."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    pairs = np.arange(p * p)
    m, n = pairs // p, pairs % p
    x = np.concatenate([np.eye(p)[m], np.eye(p)[n]], axis=1).astype(np.float32)
    y = (m + n) % p
    order = rng.permutation(p * p)
    n_train = round(train_fraction * p * p)
    tr, te = np.sort(order[:n_train]), np.sort(order[n_train:])
    labels = y[tr].copy()
    corrupted = np.zeros(len(tr), dtype=np.uint8)
    bad = rng.choice(len(tr), size=round(noise * len(tr)), replace=False)
    for i in bad:
        labels[i] = (labels[i] + 1 + rng.integers(p - 1)) % p  # a uniformly random wrong class
        corrupted[i] = 1
    write_split(folder, "train", x[tr], labels, y[tr], tr, corrupted)
    write_split(folder, "test", x[te], y[te], y[te], te)
    np.save(os.path.join(folder, "modular_train_pairs.npy"), tr.astype("<i4"))
    np.save(os.path.join(folder, "modular_test_pairs.npy"), te.astype("<i4"))
    write_meta(folder, kind="modular", train=len(tr), test=len(te), inputSize=2 * p, classes=p, noiseRate=noise, corruptedCount=int(corrupted.sum()), modular={"p": p})
    return {"labels": labels, "corrupted": corrupted, "train": tr, "test": te}


def write_images(folder: str, n_train: int = 64, n_test: int = 32, h: int = 8, w: int = 8, classes: int = 4, seed: int = 0) -> None:
    """Tiny single-channel images whose class is the quadrant holding a bright blob."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)

    def make(count: int):
        labels = rng.integers(classes, size=count)
        x = rng.normal(0, 0.1, size=(count, h, w, 1)).astype(np.float32)
        for i, c in enumerate(labels):
            r0, c0 = (c // 2) * (h // 2), (c % 2) * (w // 2)
            x[i, r0 : r0 + h // 2, c0 : c0 + w // 2, 0] += 1
        return x.reshape(count, -1), labels

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    write_split(folder, "train", xtr, ytr, ytr, np.arange(n_train), np.zeros(n_train))
    write_split(folder, "test", xte, yte, yte, np.arange(n_test))
    write_meta(folder, kind="mnist", train=n_train, test=n_test, inputSize=h * w, classes=classes, image={"height": h, "width": w, "channels": 1})


def experiment(layers: List[Dict[str, Any]], dataset: Optional[Dict[str, Any]] = None, **training: Any) -> Dict[str, Any]:
    """A fully defaulted experiment (what zod hands engine.js) around the given layers."""
    regularizers = training.pop("regularizers", None)
    optimizer = {"kind": "adam", "lr": 5e-3, "beta1": 0.9, "beta2": 0.98, "weightDecay": 0.0}
    optimizer.update(training.pop("optimizer", {}))
    tr: Dict[str, Any] = {"epochs": 5, "batchSize": 64, "optimizer": optimizer}
    tr.update(training)
    if regularizers is not None:
        tr["regularizers"] = regularizers
    return {
        "name": "test",
        "seed": 0,
        "dataset": dataset or {"kind": "modular", "p": 11, "operation": "add", "trainFraction": 0.6},
        "model": {"layers": layers},
        "training": tr,
    }


def start_command(exp: Dict[str, Any], data_dir: str, device: str = "cpu") -> Dict[str, Any]:
    return {"type": "start", "experiment": exp, "backend": "torch", "device": device, "dataDir": data_dir}


def mlp(p: int = 11, hidden: int = 64) -> List[Dict[str, Any]]:
    return [
        {"type": "dense", "units": hidden, "useBias": True, "init": "glorot"},
        {"type": "activation", "fn": "relu"},
        {"type": "dense", "units": p, "useBias": True, "init": "glorot"},
    ]
