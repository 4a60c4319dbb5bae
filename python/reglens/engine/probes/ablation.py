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
    return torch.stack([(hit & (group == g)).sum(-1) for g in range(3)], -1)


def _group_sums(values: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """values [n] int64, group [n] -> [3] int64 sums per group."""
    return torch.stack([values[group == g].sum() for g in range(3)])


def _exact_device(dev: torch.device) -> torch.device:
    """Where the float64 scans run: the model's device, except MPS (no float64 there)."""
    return torch.device("cpu") if dev.type == "mps" else dev


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


def _margins(logits: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Whether each row is a hit, and |logit_t - best other logit|: how far the row is
    from changing its status."""
    lt = logits.gather(1, labels.unsqueeze(1)).squeeze(1)
    others = logits.scatter(1, labels.unsqueeze(1), float("-inf"))
    best_other = others.max(1).values if logits.shape[1] > 1 else torch.full_like(lt, float("-inf"))
    return logits.argmax(1) == labels, (lt - best_other).abs()


# Screening slack, relative to the magnitudes involved: far above float64 rounding
# (~1e-16 per operation, H operations at most), far below any margin that matters.
_SLACK = 1e-9


def rank1_hits(h: torch.Tensor, logits: torch.Tensor, w: np.ndarray, data: EvalData) -> np.ndarray:
    """Hits per group with unit j alone zeroed, from logits - h_j W_out[j, :]: int64 [units, 3].

    Exact, as the TS scan: the ablated logits are float64 (float32 logits and weights, as
    JavaScript numbers). Zeroing unit j moves any logit difference by at most
    |h_j| (max W_j - min W_j); a row whose margin exceeds that keeps its status, so only
    the other (row, unit) pairs are evaluated.
    """
    dev = _exact_device(logits.device)
    units = w.shape[0]
    a = h.to(dev, torch.float64)
    lg = logits.to(dev, torch.float64)
    w64 = torch.as_tensor(w, device=dev).to(torch.float64)
    labels = torch.as_tensor(data.labels, device=dev)
    group = torch.as_tensor(data.group.astype(np.int64), device=dev)
    base_hit, gap = _margins(lg, labels)
    spread = w64.max(1).values - w64.min(1).values
    slack = _SLACK * (lg.abs().max(1).values + a.abs().max(1).values * w64.abs().max())
    open_ = (a.abs() * spread.unsqueeze(0) + slack.unsqueeze(1) >= gap.unsqueeze(1)) & (a != 0)
    base_counts = _group_counts(base_hit, group)
    out = base_counts.repeat(units, 1)
    for j in range(units):
        rows = open_[:, j].nonzero().squeeze(1)
        if rows.numel() == 0:
            continue
        ablated = lg.index_select(0, rows) - a.index_select(0, rows)[:, j : j + 1] * w64[j]
        change = (ablated.argmax(1) == labels[rows]).to(torch.int64) - base_hit[rows].to(torch.int64)
        out[j] += _group_sums(change, group[rows])
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
        hits = rank1_hits(h, logits, net.out_kernel(layer), data)
    else:
        masks = np.ones((units, units), dtype=np.float32)
        np.fill_diagonal(masks, 0)
        hits = masked_hits(net, layer, data, masks, masks_per_pass=1 if chosen == "loop" else None, h=h)
    return ablation_from_hits(base_hits, hits, data.counts, chosen)


def ablation_from_hits(base_hits: np.ndarray, hits: np.ndarray, counts: Tuple[int, int, int], strategy: str) -> AblationResult:
    """The ablation scores (METHODS §1) from hits per group without any unit ([3]) and with
    unit j alone zeroed ([units, 3]): shared by the engine and the hook-based probes
    (reglens.hooks), so both define the score the same way."""
    units = len(hits)
    base = to_accuracy(base_hits, counts)
    clean_drop: List[float] = []
    corrupted_drop: List[float] = []
    test_drop: List[float] = []
    score: List[float] = []
    for j in range(units):
        a = to_accuracy(hits[j], counts)
        clean_drop.append(base["cleanTrain"] - a["cleanTrain"])
        corrupted_drop.append(0.0 if base["corruptedTrain"] is None or a["corruptedTrain"] is None else base["corruptedTrain"] - a["corruptedTrain"])
        test_drop.append(base["test"] - a["test"])
        score.append(corrupted_drop[j] - clean_drop[j] if counts[CORRUPTED] else -test_drop[j])
    return AblationResult(base, clean_drop, corrupted_drop, test_drop, score, strategy)


@inference
def prefix_hits(net: ProbeNetwork, layer: HiddenLayer, data: EvalData) -> np.ndarray:
    """Hits per group keeping only the first k units, k = 1..units: int64 [units, 3].

    A layer feeding the output accumulates b + sum_{j<k} h_j W_j in float64 unit by unit,
    the TS sweep's arithmetic; otherwise prefix masks go through batched passes. Rows are
    dropped from the sweep once the units left cannot change their status (the sum of
    |h_j| (max W_j - min W_j) over the remaining units is below their final margin).
    """
    units = layer.units
    if not layer.feeds_output:
        masks = np.tril(np.ones((units, units), dtype=np.float32))
        return masked_hits(net, layer, data, masks)
    h, _ = hidden_and_logits(net, layer, data)
    dev = _exact_device(h.device)
    w = torch.as_tensor(net.out_kernel(layer), device=dev).to(torch.float64)
    bias_np = net.out_bias(layer)
    classes = w.shape[1]
    bias = torch.as_tensor(bias_np, device=dev).to(torch.float64) if bias_np is not None else torch.zeros(classes, dtype=torch.float64, device=dev)
    labels = torch.as_tensor(data.labels, device=dev)
    group = torch.as_tensor(data.group.astype(np.int64), device=dev)
    a = h.to(dev, torch.float64)
    # Final status (all units kept) from a product; rows near a tie stay in the sweep to the end.
    full_hit, gap = _margins(bias + a @ w, labels)
    reach = a.abs() * (w.max(1).values - w.min(1).values).unsqueeze(0)
    tail = torch.flip(torch.cumsum(torch.flip(reach, [1]), 1), [1])  # tail[:, k] = sum_{j>=k}
    slack = _SLACK * (bias.abs().max() + a.abs().sum(1) * w.abs().max())
    # Last k (1-based) whose prefix may differ from the full status; later prefixes do not.
    open_k = ((tail + slack.unsqueeze(1)) >= gap.unsqueeze(1)).to(torch.int64)
    last = torch.where(open_k.any(1), units - torch.argmax(torch.flip(open_k, [1]), 1), torch.zeros_like(gap, dtype=torch.int64))
    # The sweep runs on rows sorted by how long they stay open: the open rows are a prefix.
    order = torch.argsort(last, descending=True)
    last_sorted = last[order]
    a_s, labels_s, group_s = a[order], labels[order], group[order]
    full_counts = _group_counts(full_hit, group)
    out = full_counts.repeat(units, 1)
    acc = bias.expand(a.shape[0], classes).clone()
    for k in range(units):
        n_open = int((last_sorted > k).sum())
        if n_open == 0:
            break
        acc_open = acc[:n_open]
        acc_open += a_s[:n_open, k : k + 1] * w[k]
        hit = acc_open.argmax(1) == labels_s[:n_open]
        full = full_hit[order[:n_open]]
        change = hit.to(torch.int64) - full.to(torch.int64)
        out[k] += _group_sums(change, group_s[:n_open])
    return out.cpu().numpy()
