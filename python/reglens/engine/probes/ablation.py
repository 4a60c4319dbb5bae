"""Accuracy with hidden units masked out (port of src/engine/probes/ablation.ts).

Used by the ablation score (METHODS §1: corrupted-train accuracy drop minus clean drop
when a unit is zeroed), cumulative pruning and the nested-dropout truncation curve
(METHODS §2). Two exact ways to ablate, as in the TS engine:
- rank-1: the layer feeds the output dense directly, so logits without unit j are
  logits - h_j W_out[j, :], evaluated in float64 from the float32 logits as the TS engine
  does in JavaScript numbers;
- batched masks: h is tiled to [B*N, H], masked, and the rest of the network runs once on
  the stack (float32, like the TS engine's tf passes).
A prediction is the FIRST maximal class (tf.argMax's and the TS loops' tie rule).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .network import HiddenLayer, ProbeNetwork, inference

CLEAN, CORRUPTED, TEST = 0, 1, 2


@dataclass
class EvalData:
    """Train rows first, then test; what the masked passes score."""

    x: torch.Tensor  # float32 [N, d] on the CPU
    labels: np.ndarray  # int64 [N]: the label trained on (possibly corrupted), or the test label
    group: np.ndarray  # uint8 [N]: CLEAN, CORRUPTED or TEST
    counts: Tuple[int, int, int]
    n_train: int

    @staticmethod
    def build(x_train: torch.Tensor, x_test: torch.Tensor, train_labels: np.ndarray, corrupted: np.ndarray, test_labels: np.ndarray) -> "EvalData":
        train_labels = np.asarray(train_labels, dtype=np.int64).reshape(-1)
        test_labels = np.asarray(test_labels, dtype=np.int64).reshape(-1)
        bad = np.asarray(corrupted).reshape(-1).astype(bool)
        group = np.concatenate([np.where(bad, CORRUPTED, CLEAN), np.full(len(test_labels), TEST)]).astype(np.uint8)
        counts = (int((~bad).sum()), int(bad.sum()), len(test_labels))
        x = torch.cat([x_train.detach().to("cpu", torch.float32), x_test.detach().to("cpu", torch.float32)], 0)
        return EvalData(x, np.concatenate([train_labels, test_labels]), group, counts, len(train_labels))


def to_accuracy(hits: np.ndarray, counts: Tuple[int, int, int]) -> Dict[str, Optional[float]]:
    """hits: [3] per group -> {cleanTrain, corruptedTrain (None without corrupted rows), test}."""
    return {
        "cleanTrain": int(hits[CLEAN]) / counts[CLEAN] if counts[CLEAN] else 0.0,
        "corruptedTrain": int(hits[CORRUPTED]) / counts[CORRUPTED] if counts[CORRUPTED] else None,
        "test": int(hits[TEST]) / counts[TEST] if counts[TEST] else 0.0,
    }


def first_argmax_is(values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Whether target is the first maximal index along the last axis (strictly above
    earlier classes, not below later ones). target: values.shape[:-1], int64."""
    c = torch.arange(values.shape[-1], device=values.device)
    t = target.unsqueeze(-1)
    vt = values.gather(-1, t)
    miss = ((values >= vt) & (c < t)) | ((values > vt) & (c > t))
    return ~miss.any(-1)


def _group_counts(hit: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """hit [..., n] bool, group [n] -> [..., 3] int64 hits per group."""
    onehot = torch.nn.functional.one_hot(group, 3).to(torch.float64)
    return torch.round(hit.to(torch.float64) @ onehot).to(torch.int64)


def hits_of_logits(logits: torch.Tensor, labels: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Hits per group [3] from logits [n, C]."""
    dev = logits.device
    hit = first_argmax_is(logits, torch.as_tensor(labels, device=dev))
    return _group_counts(hit, torch.as_tensor(group.astype(np.int64), device=dev)).cpu().numpy()


@inference
def hidden_and_logits(net: ProbeNetwork, layer: HiddenLayer, data: EvalData) -> Tuple[torch.Tensor, torch.Tensor]:
    """Inference-mode activations of `layer` and logits for every row (on the device)."""

    def both(x: torch.Tensor) -> torch.Tensor:
        h = net.hidden_of(x, layer)
        return torch.cat([h.reshape(h.shape[0], -1), net.logits_from(h, layer)], 1)

    out = net.map_rows(both, data.x, net.max_width(data.x.shape[1]))
    return out[:, : layer.units], out[:, layer.units :]


@inference
def masked_hits(
    net: ProbeNetwork,
    layer: HiddenLayer,
    data: EvalData,
    masks: np.ndarray,
    masks_per_pass: Optional[int] = None,
    h: Optional[torch.Tensor] = None,
) -> np.ndarray:
    """Hits per group for each mask row (masks [M, units], 1 = keep): int64 [M, 3]."""
    units = layer.units
    masks_t = torch.as_tensor(np.asarray(masks, dtype=np.float32).reshape(-1, units))
    m_total = masks_t.shape[0]
    n_total = len(data.labels)
    row_budget = net.rows_per_chunk(net.max_width())
    example_chunk = max(1, min(n_total, row_budget))
    per_pass = masks_per_pass or max(1, row_budget // example_chunk)
    dev = net.device
    if h is None:
        h = net.map_rows(lambda x: net.hidden_of(x, layer), data.x, net.max_width(data.x.shape[1]))
    h = h.reshape(h.shape[0], -1)
    masks_t = masks_t.to(dev)
    labels = torch.as_tensor(data.labels, device=dev)
    group = torch.as_tensor(data.group.astype(np.int64), device=dev)
    out = torch.zeros((m_total, 3), dtype=torch.int64, device=dev)
    for s in range(0, n_total, example_chunk):
        hc = h[s : s + example_chunk]
        n = hc.shape[0]
        for m0 in range(0, m_total, per_pass):
            mk = masks_t[m0 : m0 + per_pass]
            b = mk.shape[0]
            stacked = (hc.unsqueeze(0) * mk.unsqueeze(1)).reshape(b * n, units)
            logits = net.logits_from(stacked, layer)
            hit = first_argmax_is(logits.reshape(b, n, -1), labels[s : s + n].expand(b, n))
            out[m0 : m0 + b] += _group_counts(hit, group[s : s + n])
    return out.cpu().numpy()


def rank1_hits(h: torch.Tensor, logits: torch.Tensor, w: np.ndarray, data: EvalData, floats_per_pass: int) -> np.ndarray:
    """Hits per group with unit j alone zeroed, from logits - h_j W_out[j, :]: int64 [units, 3]."""
    dev = logits.device
    units, classes = w.shape
    h64 = h.to(torch.float64)
    l64 = logits.to(torch.float64)
    w64 = torch.as_tensor(w, device=dev).to(torch.float64)
    labels = torch.as_tensor(data.labels, device=dev)
    group = torch.as_tensor(data.group.astype(np.int64), device=dev)
    out = torch.zeros((units, 3), dtype=torch.int64, device=dev)
    chunk = max(1, floats_per_pass // max(1, units * classes))
    for s in range(0, h64.shape[0], chunk):
        hc = h64[s : s + chunk]
        ablated = l64[s : s + chunk].unsqueeze(1) - hc.unsqueeze(2) * w64.unsqueeze(0)
        n = hc.shape[0]
        hit = first_argmax_is(ablated, labels[s : s + n].unsqueeze(1).expand(n, units))
        out += _group_counts(hit.T, group[s : s + n])
    return out.cpu().numpy()


@dataclass
class AblationResult:
    base: Dict[str, Optional[float]]
    clean_drop: List[float]
    corrupted_drop: List[float]
    test_drop: List[float]
    # corruptedDrop - cleanDrop (high = the unit carries the corrupted labels); without
    # corrupted examples: -testDrop (units whose removal hurts held-out accuracy memorize least).
    score: List[float]
    strategy: str


@inference
def ablation_scores(net: ProbeNetwork, layer: HiddenLayer, data: EvalData, strategy: str = "auto") -> AblationResult:
    """Ablation score of every unit in `layer` (strategy: auto | rank1 | batched | loop)."""
    units = layer.units
    chosen = ("rank1" if layer.feeds_output else "batched") if strategy == "auto" else strategy
    if chosen == "rank1" and not layer.feeds_output:
        raise ValueError(f"rank-1 ablation needs a layer feeding the output; {layer.name} does not")
    h, logits = hidden_and_logits(net, layer, data)
    base_hits = hits_of_logits(logits, data.labels, data.group)
    if chosen == "rank1":
        hits = rank1_hits(h, logits, net.out_kernel(layer), data, net.floats_per_pass)
    else:
        masks = np.ones((units, units), dtype=np.float32)
        np.fill_diagonal(masks, 0)
        hits = masked_hits(net, layer, data, masks, masks_per_pass=1 if chosen == "loop" else None, h=h)
    base = to_accuracy(base_hits, data.counts)
    clean_drop: List[float] = []
    corrupted_drop: List[float] = []
    test_drop: List[float] = []
    score: List[float] = []
    for j in range(units):
        a = to_accuracy(hits[j], data.counts)
        clean_drop.append(base["cleanTrain"] - a["cleanTrain"])
        corrupted_drop.append(0.0 if base["corruptedTrain"] is None or a["corruptedTrain"] is None else base["corruptedTrain"] - a["corruptedTrain"])
        test_drop.append(base["test"] - a["test"])
        score.append(corrupted_drop[j] - clean_drop[j] if data.counts[CORRUPTED] else -test_drop[j])
    return AblationResult(base, clean_drop, corrupted_drop, test_drop, score, chosen)


@inference
def prefix_hits(net: ProbeNetwork, layer: HiddenLayer, data: EvalData) -> np.ndarray:
    """Hits per group keeping only the first k units, k = 1..units: int64 [units, 3].

    A layer feeding the output accumulates b + sum_{j<k} h_j W_j in float64 (the TS sweep);
    otherwise prefix masks go through batched passes.
    """
    units = layer.units
    if not layer.feeds_output:
        masks = np.tril(np.ones((units, units), dtype=np.float32))
        return masked_hits(net, layer, data, masks)
    h, _ = hidden_and_logits(net, layer, data)
    dev = h.device
    w = torch.as_tensor(net.out_kernel(layer), device=dev).to(torch.float64)
    bias_np = net.out_bias(layer)
    classes = w.shape[1]
    bias = torch.as_tensor(bias_np, device=dev).to(torch.float64) if bias_np is not None else torch.zeros(classes, dtype=torch.float64, device=dev)
    labels = torch.as_tensor(data.labels, device=dev)
    group = torch.as_tensor(data.group.astype(np.int64), device=dev)
    out = torch.zeros((units, 3), dtype=torch.int64, device=dev)
    chunk = max(1, net.floats_per_pass // max(1, (units + 1) * classes))
    h64 = h.to(torch.float64)
    for s in range(0, h64.shape[0], chunk):
        hc = h64[s : s + chunk]
        n = hc.shape[0]
        terms = torch.cat([bias.expand(n, 1, classes), hc.unsqueeze(2) * w.unsqueeze(0)], 1)
        acc = torch.cumsum(terms, 1)[:, 1:]
        hit = first_argmax_is(acc, labels[s : s + n].unsqueeze(1).expand(n, units))
        out += _group_counts(hit.T, group[s : s + n])
    return out.cpu().numpy()
