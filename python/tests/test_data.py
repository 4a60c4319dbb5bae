"""Loading the dataset hand-over folder (docs/torch-engine.md) written by numpy."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from datasets import write_images, write_modular
from reglens.engine.data import DatasetError, load_dataset


def test_loads_a_modular_folder(tmp_path):
    written = write_modular(str(tmp_path), p=7, noise=0.2)
    d = load_dataset(str(tmp_path))
    assert (d.kind, d.input_size, d.classes, d.modular_p, d.image) == ("modular", 14, 7, 7, None)
    assert d.train.n == len(written["train"]) and d.test.n == 49 - d.train.n
    assert d.train.x.dtype == torch.float32 and d.train.labels.dtype == torch.int64
    assert np.array_equal(d.train.labels.numpy(), written["labels"])
    assert np.array_equal(d.train.corrupted.numpy(), written["corrupted"].astype(bool))
    assert d.corrupted_count == int(written["corrupted"].sum()) > 0
    assert not d.test.corrupted.any()
    assert np.array_equal(d.train.pairs.numpy(), written["train"])
    # Corrupted rows train on a label that is not the true one.
    c = d.train.corrupted
    assert (d.train.labels[c] != d.train.true_labels[c]).all() and (d.train.labels[~c] == d.train.true_labels[~c]).all()


def test_loads_images_and_feature_groups(tmp_path):
    write_images(str(tmp_path), h=4, w=6)
    meta = json.load(open(tmp_path / "meta.json"))
    meta["featureGroups"] = [{"name": "left", "columns": [0, 1, 2]}]
    json.dump(meta, open(tmp_path / "meta.json", "w"))
    d = load_dataset(str(tmp_path))
    assert d.image is not None and (d.image.height, d.image.width, d.image.channels) == (4, 6, 1)
    assert d.feature_groups[0].columns == [0, 1, 2] and d.modular_p is None and d.train.pairs is None


def test_errors_name_the_file_and_what_is_wrong(tmp_path):
    folder = str(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(os.path.join(folder, "nope"))
    write_modular(folder, p=5)
    os.remove(tmp_path / "test_source.npy")
    with pytest.raises(DatasetError, match=r"test_source\.npy is missing; it is written by engine\.js"):
        load_dataset(folder)
    write_modular(folder, p=5)
    np.save(tmp_path / "train_labels.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(DatasetError, match=r"train_labels\.npy has dtype int64, the contract says <i4"):
        load_dataset(folder)
    np.save(tmp_path / "train_labels.npy", np.zeros(3, dtype=np.int32))
    with pytest.raises(DatasetError, match=r"train_labels\.npy has shape \[3\], expected \[\d+\]"):
        load_dataset(folder)
    write_modular(folder, p=5)
    np.save(tmp_path / "train_x.npy", np.zeros((15, 9), dtype=np.float32))
    with pytest.raises(DatasetError, match=r"train_x\.npy has shape \[15, 9\], expected \[n, 10\]"):
        load_dataset(folder)
    write_modular(folder, p=5, noise=0.2)
    meta = json.load(open(tmp_path / "meta.json"))
    json.dump({**meta, "corruptedCount": 0}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match="corruptedCount 0 but train_corrupted.npy marks"):
        load_dataset(folder)
    json.dump({**meta, "format": 2}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match="format 2; this engine reads format 1"):
        load_dataset(folder)
    json.dump({**meta, "classes": 3}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match="labels outside 0..2"):
        load_dataset(folder)


def test_meta_json_is_checked_against_its_schema(tmp_path):
    folder = str(tmp_path)
    write_modular(folder, p=5)
    meta = json.load(open(tmp_path / "meta.json"))
    json.dump({**meta, "kind": "cifar"}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match=r'does not match dataset-meta\.schema\.json: kind: must be one of "modular"'):
        load_dataset(folder)
    json.dump({**meta, "train": meta["train"] + 1}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match=r"says train has \d+ rows but train_x\.npy has \d+"):
        load_dataset(folder)


def test_initial_weights_are_loaded_by_name(tmp_path):
    folder = str(tmp_path)
    write_modular(folder, p=5)
    (tmp_path / "initial" / "dense_0").mkdir(parents=True)
    kernel = np.arange(30, dtype=np.float32).reshape(10, 3)
    np.save(tmp_path / "initial" / "dense_0" / "kernel.npy", kernel)
    meta = json.load(open(tmp_path / "meta.json"))
    json.dump({**meta, "initialWeights": ["dense_0/kernel", "dense_0/bias"]}, open(tmp_path / "meta.json", "w"))
    with pytest.raises(DatasetError, match=r"initial/dense_0/bias\.npy is missing"):
        load_dataset(folder)
    json.dump({**meta, "initialWeights": ["dense_0/kernel"]}, open(tmp_path / "meta.json", "w"))
    assert np.array_equal(load_dataset(folder).initial_weights["dense_0/kernel"], kernel)
