"""The dataset engine.js materialises into <runDir>/data/ (docs/torch-engine.md
"Dataset hand-over"), loaded into CPU tensors. No dataset is built here: split, label
noise, standardisation and images all come from src/engine/data."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from reglens.engine.jsonschema_lite import SchemaValidationError
from reglens.engine.model import ImageShape
from reglens.engine.schemas import DATASET_META, load_validator


class DatasetError(ValueError):
    """The data folder is missing or does not match the contract (names the file and the fix)."""


@dataclass(frozen=True)
class FeatureGroup:
    name: str
    columns: List[int]


@dataclass
class Split:
    x: torch.Tensor  # float32 [n, inputSize], images HWC per row
    labels: torch.Tensor  # int64 [n]: trained on (train) / scored against (test)
    true_labels: torch.Tensor  # int64 [n]
    source: torch.Tensor  # int64 [n]: index in the source (pair, digit, CSV row)
    corrupted: torch.Tensor  # bool [n]; all False for the test split
    pairs: Optional[torch.Tensor] = None  # int64 [n], modular only: m * p + n

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


@dataclass
class Dataset:
    kind: str
    input_size: int
    classes: int
    noise_rate: float
    corrupted_count: int
    image: Optional[ImageShape]
    feature_names: Optional[List[str]]
    feature_groups: Optional[List[FeatureGroup]]
    modular_p: Optional[int]
    train: Split
    test: Split
    # A saved RegLens model given as model.topology: its weights by contract name, TF layout.
    initial_weights: Optional[Dict[str, np.ndarray]] = None


_FIX = "it is written by engine.js (src/engine/torchBridge.ts) before Python starts; rerun the experiment from RegLens"


def _load(folder: str, name: str, dtype: str, shape: Optional[tuple]) -> np.ndarray:
    """One array of the folder; shape: None entries match any size, None itself any shape."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise DatasetError(f"{path} is missing; {_FIX}")
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises ValueError / OSError / EOFError for a bad file
        raise DatasetError(f"{path} is not a readable .npy file ({e}); {_FIX}") from e
    if a.dtype != np.dtype(dtype):
        raise DatasetError(f"{path} has dtype {a.dtype}, the contract says {dtype}; {_FIX}")
    if shape is not None and (a.ndim != len(shape) or any(want is not None and got != want for got, want in zip(a.shape, shape))):
        want = "[" + ", ".join("n" if s is None else str(s) for s in shape) + "]"
        raise DatasetError(f"{path} has shape {list(a.shape)}, expected {want}; {_FIX}")
    return a


def _long(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.astype(np.int64))


def _split(folder: str, prefix: str, meta: Dict[str, Any], with_noise: bool) -> Split:
    d, k = int(meta["inputSize"]), int(meta["classes"])
    x = _load(folder, f"{prefix}_x.npy", "<f4", (None, d))
    n = x.shape[0]
    labels = _load(folder, f"{prefix}_labels.npy", "<i4", (n,))
    true_labels = _load(folder, f"{prefix}_true_labels.npy", "<i4", (n,))
    source = _load(folder, f"{prefix}_source.npy", "<i4", (n,))
    for name, a in (("labels", labels), ("true_labels", true_labels)):
        if n and (a.min() < 0 or a.max() >= k):
            raise DatasetError(f"{os.path.join(folder, f'{prefix}_{name}.npy')} has labels outside 0..{k - 1} (meta.json classes = {k}); {_FIX}")
    if with_noise:
        corrupted = _load(folder, f"{prefix}_corrupted.npy", "|u1", (n,)).astype(bool)
    else:
        corrupted = np.zeros(n, dtype=bool)
    pairs = None
    if meta.get("modular"):
        pairs = _long(_load(folder, f"modular_{prefix}_pairs.npy", "<i4", (n,)))
    return Split(
        x=torch.from_numpy(np.ascontiguousarray(x)),
        labels=_long(labels),
        true_labels=_long(true_labels),
        source=_long(source),
        corrupted=torch.from_numpy(corrupted),
        pairs=pairs,
    )


def load_dataset(folder: str) -> Dataset:
    meta_path = os.path.join(folder, "meta.json")
    if not os.path.isdir(folder):
        raise DatasetError(f"the data folder {folder} does not exist; {_FIX}")
    if not os.path.isfile(meta_path):
        raise DatasetError(f"{meta_path} is missing; {_FIX}")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise DatasetError(f"{meta_path} is not valid JSON ({e}); {_FIX}") from e
    if isinstance(meta, dict) and meta.get("format") != 1:
        raise DatasetError(f"{meta_path} has format {meta.get('format')!r}; this engine reads format 1 (engine.js and this Python engine must come from the same RegLens)")
    try:
        load_validator(DATASET_META).validate(meta)
    except SchemaValidationError as e:
        raise DatasetError(f"{meta_path} does not match dataset-meta.schema.json: {e}; {_FIX}") from e
    train = _split(folder, "train", meta, with_noise=True)
    test = _split(folder, "test", meta, with_noise=False)
    for name, split in (("train", train), ("test", test)):
        if int(meta[name]) != split.n:
            raise DatasetError(f"{meta_path} says {name} has {meta[name]} rows but {name}_x.npy has {split.n}; {_FIX}")
    corrupted_count = int(train.corrupted.sum())
    if "corruptedCount" in meta and int(meta["corruptedCount"]) != corrupted_count:
        raise DatasetError(f"{meta_path} says corruptedCount {meta['corruptedCount']} but train_corrupted.npy marks {corrupted_count}; {_FIX}")
    im = meta.get("image")
    image = ImageShape(int(im["height"]), int(im["width"]), int(im["channels"])) if im else None
    d = int(meta["inputSize"])
    if image and image.height * image.width * image.channels != d:
        raise DatasetError(f"{meta_path}: image {image.height}x{image.width}x{image.channels} does not match inputSize {d}; {_FIX}")
    groups = None
    if meta.get("featureGroups"):
        groups = []
        for g in meta["featureGroups"]:
            cols = [int(c) for c in g["columns"]]
            bad = [c for c in cols if not 0 <= c < d]
            if bad:
                raise DatasetError(f"{meta_path}: feature group {g['name']!r} has columns {bad} outside 0..{d - 1}; {_FIX}")
            groups.append(FeatureGroup(str(g["name"]), cols))
    modular = meta.get("modular")
    initial = None
    if meta.get("initialWeights"):
        initial = {name: _load(folder, os.path.join("initial", f"{name}.npy"), "<f4", None) for name in meta["initialWeights"]}
    return Dataset(
        kind=str(meta["kind"]),
        input_size=d,
        classes=int(meta["classes"]),
        noise_rate=float(meta.get("noiseRate", 0.0)),
        corrupted_count=corrupted_count,
        image=image,
        feature_names=meta.get("featureNames"),
        feature_groups=groups,
        modular_p=int(modular["p"]) if modular else None,
        train=train,
        test=test,
        initial_weights=initial,
    )

