"""A run's checkpoint on the torch engine (training.checkpointEvery; a Slurm member requeued
or resubmitted continues from it): the weights and optimizer state of both co-teaching
networks, every random stream the loop draws from (the batch order, feature-group and
nested-dropout generators, the numpy streams of CutMix and candidate dropout, torch's global
RNG that dropout uses), early stopping's state, the epoch and the timings. One file,
<runDir>/checkpoint.pt, replaced by rename so a task killed while writing leaves the previous
one whole. Loaded with weights_only where torch has it: a checkpoint is data, never code."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

CHECKPOINT_FILE = "checkpoint.pt"


def identity(experiment: Dict[str, Any]) -> str:
    """The experiment minus training.epochs (a resumed run may be given more epochs)."""
    training = {k: v for k, v in experiment["training"].items() if k != "epochs"}
    return json.dumps({**experiment, "training": training}, sort_keys=True)


def save_checkpoint(run_dir: str, experiment: Dict[str, Any], tensors: Dict[str, Any], meta: Dict[str, Any]) -> None:
    """Writes `tensors` (tensors, state_dicts' tensor parts) and `meta` (JSON-able: numbers,
    accuracies, optimizer param_groups, numpy generator states) atomically. Everything but
    tensors goes in as JSON text, since torch 1.13's weights_only loader reads no floats."""
    payload = {"tensors": tensors, "meta": json.dumps({**meta, "identity": identity(experiment)})}
    path = os.path.join(run_dir, CHECKPOINT_FILE)
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(run_dir: str, experiment: Dict[str, Any], device: torch.device) -> Optional[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(tensors, meta) as saved, or None without a checkpoint. Raises ValueError when it
    belongs to another experiment."""
    path = os.path.join(run_dir, CHECKPOINT_FILE)
    if not os.path.exists(path):
        return None
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except TypeError:  # a torch without weights_only
        payload = torch.load(path, map_location=device)
    meta = json.loads(payload["meta"])
    if meta.get("identity") != identity(experiment):
        raise ValueError(f"{path} was written for a different experiment (spec.json changed since); delete it to start this run over")
    return payload["tensors"], meta


def optimizer_parts(opt: torch.optim.Optimizer) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """An optimizer's state_dict as (tensor state, JSON-able param_groups)."""
    sd = opt.state_dict()
    return sd["state"], sd["param_groups"]


def numpy_state(rng: np.random.Generator) -> Dict[str, Any]:
    return rng.bit_generator.state
