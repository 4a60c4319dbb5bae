"""The per-unit probes on the user's own module (model.pytorch): memorization scores,
cumulative pruning and nested ordering of the module at a dotted path, through the forward
hooks of reglens.hooks (the whole model runs; one module's output is masked), with the
engine's payload functions. IPR applies where the data is modular and the module is the
Linear reading the one-hot inputs (in_features = 2p).

Paths are the user's (`"fc1"`, as model.named_modules() names them); the UserModel wrapper
holds the module as `net`, so hooks get `net.<path>` and payloads report `<path>`.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from reglens import hooks
from reglens.engine.user_model import UserModel, submodule

from .ablation import EvalData
from .fourier import ipr_to_memorization, neuron_ipr
from .network import HiddenLayer
from .payloads import Scores, pruning_probe
from .pruned_model import PRUNED_MODEL_DIR, pruned_units

Payload = Dict[str, Any]


def default_layer(model: UserModel) -> str:
    """The last hidden nn.Linear (the one before the last Linear), else an error saying to name one."""
    linears = [n for n, m in model.net.named_modules() if isinstance(m, nn.Linear)]
    if len(linears) < 2:
        raise ValueError(f'{model.spec["class"]} has {len(linears)} nn.Linear module(s), so no hidden Linear to score by default; name the module with probes.memorization.layer (e.g. a conv block)')
    return linears[-2]


def _module(model: UserModel, path: str, field: str) -> nn.Module:
    return submodule(model.net, path, model.spec, field)


def ipr_applies(model: UserModel, path: str, modular_p: Optional[int]) -> bool:
    m = _module(model, path, "probes.memorization.layer")
    return modular_p is not None and isinstance(m, nn.Linear) and m.in_features == 2 * modular_p


def memorization_scores(model: UserModel, data: EvalData, modular_p: Optional[int], want: str, path: Optional[str], warn: Callable[[str], None]) -> Tuple[Scores, Payload]:
    """Scores of the module at `path` (default: the last hidden Linear) and their neuronScores payload."""
    path = path or default_layer(model)
    module = _module(model, path, "probes.memorization.layer")
    applies = ipr_applies(model, path, modular_p)
    method = ("ipr" if applies else "ablation") if want == "auto" else want
    if method == "ipr" and not applies:
        warn(f"probes.memorization: IPR needs the nn.Linear reading a modular-arithmetic model's one-hot inputs; using ablation on {path}")
        method = "ablation"
    if method == "ipr":
        weight = module.weight.detach().to("cpu", torch.float32).numpy().T  # type: ignore[union-attr]
        r = neuron_ipr(weight, int(modular_p))  # type: ignore[arg-type]
        scores = ipr_to_memorization(r.ipr)
        payload: Payload = {"kind": "neuronScores", "layer": path, "method": "ipr", "scores": scores, "raw": r.ipr, "detail": {"spectrum": r.spectrum}}
        units = len(scores)
    else:
        payload = hooks.ablation_probe(model, f"net.{path}", data)
        payload["layer"] = path
        scores, units = payload["scores"], len(payload["scores"])
    raw = payload["raw"]
    return Scores(HiddenLayer(path, -1, units, -1, False), method, list(scores), list(raw)), payload


def pruning(model: UserModel, s: Scores, data: EvalData, steps: int) -> Payload:
    module = _module(model, s.layer.name, "probes.memorization.layer")
    return pruning_probe(None, s, data, steps, lambda masks: hooks.masked_hits(model, module, data, masks, s.layer.units))


def save_pruned_state_dict(run_dir: str, model: UserModel, s: Scores, pruned: int) -> str:
    """<run_dir>/pruned-model/state_dict.pt: the user's module's state_dict with the `pruned`
    most memorizing units of s.layer zeroed (the rows of that module's own parameters whose
    first axis is its units: its output there is 0, as the masks made it). The live model is
    not changed. Returns the path relative to run_dir."""
    path = s.layer.name
    module = _module(model, path, "probes.memorization.layer")
    units = pruned_units(s, pruned)
    state = {k: v.detach().to("cpu").clone() for k, v in model.net.state_dict().items()}
    zeroed = []
    for name, p in module.named_parameters(recurse=False):
        if p.dim() >= 1 and p.shape[0] == s.layer.units:
            state[f"{path}.{name}"][units] = 0
            zeroed.append(name)
    if "weight" not in zeroed:
        raise ValueError(f"{path} ({type(module).__name__}) has no weight of its own with one row per unit; prune a Linear or Conv module")
    folder = os.path.join(run_dir, PRUNED_MODEL_DIR)
    os.makedirs(folder, exist_ok=True)
    torch.save(state, os.path.join(folder, "state_dict.pt"))
    return os.path.join(PRUNED_MODEL_DIR, "state_dict.pt")


def nested_ordering(model: UserModel, data: EvalData, path: Optional[str]) -> Payload:
    payload = hooks.nested_ordering_probe(model, data, f"net.{path}" if path else None)
    payload["layer"] = payload["layer"][len("net.") :] if str(payload["layer"]).startswith("net.") else payload["layer"]
    return payload


def also_layers(model: UserModel, also: Any) -> List[str]:
    """probes.memorization.alsoLayers for a user's module: "all" is every Linear but the last."""
    if also == "all":
        return [n for n, m in model.net.named_modules() if isinstance(m, nn.Linear)][:-1]
    return list(also or [])
