"""The saved pruned model (probes.pruning.save), in the TF.js engine's layout.

<run folder>/pruned-model/ gets what src/engine/modelSource.ts saveModel writes:
model.json ({format: 'reglens-layers', generatedBy, pruned: {...}, inputSize, layers,
weightsManifest}) and weights.bin (float32 little-endian, manifest order = layer order),
with the weight names of src/engine/model.ts namedWeights (dense_<i>/kernel [in, out],
conv_<j>/kernel, batch_norm_<j>/gamma, /beta, /moving_mean, /moving_variance), so
`model.topology` reloads it on either engine and "Save pruned model" copies it. For torch
users the same weights also go to state_dict.pt (the EngineModel's own state_dict).

Zeroing unit j of dense_i's block output equals zeroing row j of the next dense kernel, so
the saved model is a plain model: no mask to carry.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch

from .network import ProbeNetwork
from .payloads import Scores, memorizing_order

PRUNED_MODEL_DIR = "pruned-model"
SAVED_FORMAT = "reglens-layers"

# TF.js engine name -> the EngineModel's (docs/torch-engine.md) for the layers named differently.
_BATCH_NORM = (("gamma", "gamma"), ("beta", "beta"), ("moving_mean", "movingMean"), ("moving_variance", "movingVariance"))


def weight_names(specs: Sequence[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(TF.js engine name, EngineModel name) of every weight, in the TF.js engine's order."""
    out: List[Tuple[str, str]] = []
    dense = conv = bn = 0
    for s in specs:
        if s["type"] == "dense":
            out.append((f"dense_{dense}/kernel",) * 2)
            if s.get("useBias", True):
                out.append((f"dense_{dense}/bias",) * 2)
            dense += 1
        elif s["type"] == "conv2d":
            out.append((f"conv_{conv}/kernel", f"conv2d_{conv}/kernel"))
            if s.get("useBias", True):
                out.append((f"conv_{conv}/bias", f"conv2d_{conv}/bias"))
            conv += 1
        elif s["type"] == "batchNorm":
            out.extend((f"batch_norm_{bn}/{ts}", f"batchNorm_{bn}/{py}") for ts, py in _BATCH_NORM)
            bn += 1
    return out


def pruned_units(s: Scores, pruned: int) -> List[int]:
    """The `pruned` most memorizing units of the scored layer, in increasing order."""
    return sorted(memorizing_order(s)[:pruned])


def save_pruned_model(
    run_dir: str,
    net: ProbeNetwork,
    input_size: int,
    s: Scores,
    pruned: int,
    accuracy: Dict[str, Any],
) -> str:
    """Writes <run_dir>/pruned-model/ with the memorizing mode of s.layer pruned; returns
    the path of its model.json relative to run_dir (the pruning probe's savedModel)."""
    units = pruned_units(s, pruned)
    nxt = f"dense_{s.layer.dense_index + 1}/kernel"
    weights = net.weights()
    pruned_weights = {k: v.copy() for k, v in weights.items()}
    pruned_weights[nxt][units, :] = 0
    names = weight_names(net.specs)
    missing = [py for _, py in names if py not in pruned_weights]
    if missing:
        raise ValueError(f"the model reports no weight {', '.join(missing)}")

    folder = os.path.join(run_dir, PRUNED_MODEL_DIR)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        for _, py in names:
            f.write(np.ascontiguousarray(pruned_weights[py], dtype="<f4").tobytes())
    doc = {
        "format": SAVED_FORMAT,
        "generatedBy": "RegLens",
        "pruned": {"layer": s.layer.name, "method": s.method, "units": units, "of": s.layer.units, "accuracy": accuracy},
        "inputSize": int(input_size),
        "layers": list(net.specs),
        "weightsManifest": [
            {"paths": ["weights.bin"], "weights": [{"name": ts, "shape": list(pruned_weights[py].shape), "dtype": "float32"} for ts, py in names]}
        ],
    }
    with open(os.path.join(folder, "model.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2) + "\n")

    clone = copy.deepcopy(net.model)
    clone.set_weights(pruned_weights)
    torch.save(clone.state_dict(), os.path.join(folder, "state_dict.pt"))
    return f"{PRUNED_MODEL_DIR}/model.json"


def load_saved_weights(folder: str) -> Dict[str, np.ndarray]:
    """Reads a saved model's weights.bin by its manifest (TF.js engine names)."""
    with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
        doc = json.load(f)
    out: Dict[str, np.ndarray] = {}
    for group in doc["weightsManifest"]:
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(blob, dtype="<f4", count=n, offset=offset).reshape(w["shape"]).copy()
            offset += 4 * n
    return out
