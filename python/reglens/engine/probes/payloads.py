"""Memorization, pruning and nested-ordering payloads (port of src/engine/probes/probes.ts).

Each function is pure: (ProbeNetwork, EvalData, params) -> the probe payload of
src/protocol/engineMessages.ts (neuronScores, pruning, nestedOrdering), so a conformance
test can feed both engines the same weights and compare the dicts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from .ablation import AblationResult, EvalData, ablation_scores, masked_hits, prefix_hits, to_accuracy
from .fourier import ipr_to_memorization, neuron_ipr
from .network import HiddenLayer, ProbeNetwork
from .stats import js_round, otsu_threshold, spearman

Payload = Dict[str, Any]
DataSource = Union[EvalData, Callable[[], EvalData]]


@dataclass
class Scores:
    layer: HiddenLayer
    method: str  # 'ipr' | 'ablation'
    scores: List[float]  # higher = more memorizing
    raw: List[float]


def _data(source: DataSource) -> EvalData:
    return source if isinstance(source, EvalData) else source()


def ipr_applies(net: ProbeNetwork, layer: HiddenLayer, modular_p: Optional[int]) -> bool:
    """IPR reads the first layer of a modular-arithmetic model (one-hot(m) ++ one-hot(n))."""
    if modular_p is None or layer.dense_index != 0:
        return False
    return net.weights()["dense_0/kernel"].shape[0] == 2 * modular_p


def memorization_scores(
    net: ProbeNetwork,
    data: DataSource,
    modular_p: Optional[int],
    want: str = "auto",
    layer_name: Optional[str] = None,
    warn: Optional[Callable[[str], None]] = None,
) -> Tuple[Scores, Payload]:
    """Per-unit memorization scores of one hidden layer and their neuronScores payload.

    want: auto | ipr | ablation. Default layer: dense_0 for IPR on modular data, else the
    last hidden layer. IPR asked for where it does not apply falls back to ablation with a
    warning (through `warn`), as the TS engine does.
    """
    default = (net.hidden[-1] if want == "ablation" or modular_p is None else net.hidden[0]) if net.hidden else None
    layer = net.layer(layer_name) if layer_name else default
    if layer is None:
        names = ", ".join(h.name for h in net.hidden) or "none"
        raise ValueError(f"probes: no hidden layer {layer_name or ''} to score (hidden layers: {names})")
    method = ("ipr" if ipr_applies(net, layer, modular_p) else "ablation") if want == "auto" else want
    if method == "ipr" and not ipr_applies(net, layer, modular_p):
        if warn:
            warn(f"probes.memorization: IPR needs the first layer of a modular-arithmetic model; using ablation on {layer.name}")
        method = "ablation"
    if method == "ipr":
        p = int(modular_p)  # type: ignore[arg-type]
        weights = net.weights()
        nxt = weights.get("dense_1/kernel")
        out = nxt if nxt is not None and nxt.shape[1] == p else None
        r = neuron_ipr(weights["dense_0/kernel"], p, out)
        scores = ipr_to_memorization(r.ipr)
        detail: Payload = {"spectrum": r.spectrum}
        if r.output_ipr is not None:
            detail["outputIpr"] = r.output_ipr
        payload = {"kind": "neuronScores", "layer": layer.name, "method": method, "scores": scores, "raw": r.ipr, "detail": detail}
        return Scores(layer, method, scores, r.ipr), payload
    a = ablation_scores(net, layer, _data(data))
    return Scores(layer, method, a.score, a.score), ablation_payload(layer.name, a)


def ablation_payload(layer_name: str, a: AblationResult) -> Payload:
    """The neuronScores payload of ablation scores (the engine's and reglens.hooks')."""
    return {
        "kind": "neuronScores",
        "layer": layer_name,
        "method": "ablation",
        "scores": a.score,
        "raw": a.score,
        "detail": {"cleanDrop": a.clean_drop, "corruptedDrop": a.corrupted_drop, "testDrop": a.test_drop},
    }


def memorizing_order(s: Scores) -> List[int]:
    """Unit indices, most memorizing first (ties by index)."""
    return sorted(range(s.layer.units), key=lambda i: (-s.scores[i], i))


def pruning_probe(net: Optional[ProbeNetwork], s: Scores, data: EvalData, steps: int, masked: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> Payload:
    """Cumulative pruning (METHODS §1): zero units most memorizing first (and the reverse
    order as the control) and record the three accuracies. The counts are `steps` even
    points plus the Otsu split of the raw scores (the "prune the memorizing mode" point).
    masked: hits per group [M, 3] of mask rows [M, units] (default: the engine's split
    passes of `net`; a user's module passes reglens.hooks.masked_hits)."""
    units = s.layer.units
    mem_first = memorizing_order(s)
    gen_first = mem_first[::-1]
    threshold = otsu_threshold(s.raw)
    # IPR: low raw = memorizing; ablation: high raw = memorizing.
    split = sum(1 for v in s.raw if (v <= threshold if s.method == "ipr" else v > threshold))
    counts = sorted({js_round((i * units) / steps) for i in range(steps + 1)} | {split})
    masks = np.ones((2 * len(counts), units), dtype=np.float32)
    for r, k in enumerate(counts):
        masks[r, mem_first[:k]] = 0
        masks[len(counts) + r, gen_first[:k]] = 0
    hits = masked(masks) if masked is not None else masked_hits(net, s.layer, data, masks)

    def curve(offset: int) -> Payload:
        accs = [to_accuracy(hits[offset + r], data.counts) for r in range(len(counts))]
        return {"cleanTrain": [a["cleanTrain"] for a in accs], "corruptedTrain": [a["corruptedTrain"] for a in accs], "test": [a["test"] for a in accs]}

    return {
        "kind": "pruning",
        "layer": s.layer.name,
        "method": s.method,
        "pruned": counts,
        "units": units,
        "memorizingFirst": curve(0),
        "generalizingFirst": curve(len(counts)),
        "rawAtPruned": [None if k == 0 else s.raw[mem_first[k - 1]] for k in counts],
        "modeSplit": {"pruned": split, "threshold": threshold},
    }


def nested_ordering_probe(net: ProbeNetwork, layer: HiddenLayer, data: EvalData) -> Payload:
    """Truncation curve acc(k) on test, K* = argmax_k (acc_k - 1e-5 k), importance = test
    drop when the unit alone is zeroed, Spearman(index, importance) (METHODS §2)."""
    hits = prefix_hits(net, layer, data)
    return nested_ordering_payload(layer.name, hits, data.counts, ablation_scores(net, layer, data).test_drop)


def nested_ordering_payload(layer_name: str, prefix: np.ndarray, counts: Tuple[int, int, int], importance: List[float]) -> Payload:
    """The nestedOrdering payload from hits keeping the first k units (prefix [units, 3])
    and each unit's test drop (the engine's and reglens.hooks')."""
    units = len(prefix)
    accuracy = [to_accuracy(prefix[k], counts)["test"] for k in range(units)]
    k_star = 1
    for k in range(1, units + 1):
        if accuracy[k - 1] - 1e-5 * k > accuracy[k_star - 1] - 1e-5 * k_star:
            k_star = k
    return {
        "kind": "nestedOrdering",
        "layer": layer_name,
        "k": list(range(1, units + 1)),
        "accuracy": accuracy,
        "kStar": k_star,
        "importance": importance,
        "rankCorrelation": spearman(list(range(units)), importance),
    }


def nested_ordering_layer(net: ProbeNetwork, name: Optional[str]) -> HiddenLayer:
    """The layer nestedOrdering truncates: the one given, else the layer before a
    nestedDropout layer, else the last hidden layer."""
    chosen = name or (net.nested_layers[0] if net.nested_layers else (net.hidden[-1].name if net.hidden else None))
    layer = net.layer(chosen) if chosen else None
    if layer is None:
        raise ValueError(f"no hidden layer {chosen or ''} to truncate")
    return layer
