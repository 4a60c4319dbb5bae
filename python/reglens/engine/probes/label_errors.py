"""Finding the wrong labels (METHODS §11), pure numpy: port of
src/engine/probes/labelErrors.ts and labelErrorsPayload.ts.

Per training example a suspicion score per method (higher = more likely mislabeled), and,
where the corrupted mask is known, how well each ranking finds it (AUROC, precision and
recall at k = the number corrupted, the precision-recall curve). Rankings break ties by
index, as the TS side does, so both engines give the same payload from the same inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

Payload = Dict[str, Any]

METHODS = ("aum", "forgetting", "smallLoss", "confidentLearning", "mcDropout")
PR_POINTS = 100
_MIN_PROB = 1e-7


def aum_scores(margin_sum: np.ndarray, epochs: int) -> np.ndarray:
    """Area under the margin (Pleiss et al. 2020): -(mean margin over the epochs tracked)."""
    m = np.asarray(margin_sum, dtype=np.float64)
    return -m / epochs if epochs > 0 else np.zeros_like(m)


def forgetting_scores(forgets: np.ndarray, ever_correct: np.ndarray, epochs: int) -> np.ndarray:
    """Forgetting events (Toneva et al. 2019); never learned = epochs + 1 (ranks first)."""
    return np.where(np.asarray(ever_correct, dtype=bool), np.asarray(forgets, dtype=np.float64), float(epochs + 1))


def small_loss_scores(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """-log p(y|x), p clamped at 1e-7."""
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(labels)), labels]
    return -np.log(np.maximum(_MIN_PROB, p))


def mc_disagreement_scores(mean_given_prob: np.ndarray) -> np.ndarray:
    """1 - mean_t p_t(y|x)."""
    return 1 - np.asarray(mean_given_prob, dtype=np.float64)


@dataclass
class ConfidentLearning:
    thresholds: np.ndarray  # NaN for a class nobody carries
    joint: np.ndarray  # [K, K] int
    flagged: np.ndarray  # bool [n]
    scores: np.ndarray


def rank_by_score(scores: np.ndarray) -> np.ndarray:
    """Indices by score, highest first, ties by index."""
    s = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(len(s)), -s))


def confident_learning(probs: np.ndarray, labels: np.ndarray, classes: int) -> ConfidentLearning:
    """cleanlab's find_label_issues(filter_by='prune_by_noise_rate'), ranked by self-confidence:
    flagged examples first (1 + (1 - p(y|x))), then the rest by 1 - p(y|x)."""
    p = np.asarray(probs, dtype=np.float64).reshape(len(labels), classes)
    y = np.asarray(labels, dtype=np.int64)
    n, k = p.shape
    count = np.bincount(y, minlength=k).astype(np.float64)
    total = np.bincount(y, weights=p[np.arange(n), y], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        thresholds = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    above = (p >= np.where(np.isnan(thresholds), np.inf, thresholds)[None, :]) & ~np.isnan(thresholds)[None, :]
    masked = np.where(above, p, -np.inf)
    best = masked.argmax(1)  # first maximal class among those above their threshold
    has = above.any(1)
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (y[has], best[has]), 1)
    flagged = np.zeros(n, dtype=bool)
    for i in range(k):
        row_sum = joint[i].sum()
        if not row_sum:
            continue
        members = np.nonzero(y == i)[0]
        for j in range(k):
            if j == i:
                continue
            # round half away from zero, as Math.round for the positive counts here
            prune = int(np.floor(joint[i, j] / row_sum * count[i] + 0.5))
            if not prune:
                continue
            margin = p[members, j] - p[members, i]
            order = members[np.lexsort((members, -margin))]
            flagged[order[:prune]] = True
    scores = flagged.astype(np.float64) + (1 - p[np.arange(n), y])
    return ConfidentLearning(thresholds, joint, flagged, scores)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v), dtype=np.float64)
    sorted_v = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def auroc(scores: np.ndarray, truth: np.ndarray) -> Optional[float]:
    """Mann-Whitney with average ranks for ties; None without both classes."""
    t = np.asarray(truth).astype(bool)
    pos = int(t.sum())
    neg = len(t) - pos
    if not pos or not neg:
        return None
    r = _average_ranks(scores)
    return float((r[t].sum() - pos * (pos + 1) / 2) / (pos * neg))


def ranking_metrics(scores: np.ndarray, truth: np.ndarray, points: int = PR_POINTS) -> Optional[Payload]:
    t = np.asarray(truth).astype(bool)
    n = len(t)
    positives = int(t.sum())
    if not positives or positives == n:
        return None
    order = rank_by_score(scores)
    hits = np.concatenate([[0], np.cumsum(t[order])])
    ranks = np.arange(1, n + 1)
    ap = float((hits[1:] / ranks)[t[order]].sum() / positives)
    m = min(points, n)
    ks = sorted({int(-(-((i + 1) * n) // m)) for i in range(m)})
    return {
        "auroc": auroc(scores, t),
        "k": positives,
        "precisionAtK": float(hits[positives] / positives),
        "recallAtK": float(hits[positives] / positives),
        "averagePrecision": ap,
        "pr": {"k": ks, "precision": [float(hits[k] / k) for k in ks], "recall": [float(hits[k] / positives) for k in ks]},
    }


class LabelErrorTracker:
    """O(n) per-example bookkeeping across epochs: the margin sum, forgetting events, ever correct."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = np.asarray(labels, dtype=np.int64)
        n = len(self.labels)
        self.margin_sum = np.zeros(n, dtype=np.float64)
        self.forgets = np.zeros(n, dtype=np.int64)
        self.ever_correct = np.zeros(n, dtype=bool)
        self._was_correct = np.zeros(n, dtype=bool)
        self.epochs = 0

    def update(self, pred: np.ndarray, margin: np.ndarray) -> None:
        pred = np.asarray(pred)
        margin = np.asarray(margin)
        n = len(self.labels)
        if pred.shape != (n,) or margin.shape != (n,):
            raise ValueError(f"labelErrors: expected {n} predictions and margins, got {pred.shape} and {margin.shape}")
        correct = pred == self.labels
        self.forgets += self._was_correct & ~correct
        self._was_correct = correct
        self.ever_correct |= correct
        # float32 margins summed in float64 (the TS side adds its Float32Array into a Float64Array)
        self.margin_sum += margin.astype(np.float32).astype(np.float64)
        self.epochs += 1

    def state(self) -> Dict[str, np.ndarray]:
        """The bookkeeping for a run's checkpoint (copies; float64 margins kept exactly)."""
        return {"margin_sum": self.margin_sum.copy(), "forgets": self.forgets.copy(), "ever_correct": self.ever_correct.copy(), "was_correct": self._was_correct.copy()}

    def restore(self, epochs: int, state: Dict[str, np.ndarray]) -> None:
        n = len(self.labels)
        if any(np.shape(state[k]) != (n,) for k in ("margin_sum", "forgets", "ever_correct", "was_correct")):
            raise ValueError(f"labelErrors: the checkpoint's bookkeeping is not for {n} training examples")
        self.margin_sum = np.asarray(state["margin_sum"], dtype=np.float64).copy()
        self.forgets = np.asarray(state["forgets"], dtype=np.int64).copy()
        self.ever_correct = np.asarray(state["ever_correct"], dtype=bool).copy()
        self._was_correct = np.asarray(state["was_correct"], dtype=bool).copy()
        self.epochs = int(epochs)


def label_errors_payload(
    methods: Sequence[str],
    tracker: LabelErrorTracker,
    labels: np.ndarray,
    classes: int,
    source: np.ndarray,
    corrupted: Optional[np.ndarray],
    checkpoint: str,
    checkpoint_epoch: int,
    probs: np.ndarray,
    mc_given: Union[np.ndarray, str],
) -> Payload:
    """The labelErrors payload (without images): scores of every method, truth metrics."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float32).reshape(len(y), classes)
    truth = None if corrupted is None or not np.asarray(corrupted).any() else np.asarray(corrupted).astype(bool)
    out: List[Payload] = []
    for method in methods:
        entry: Payload = {"method": method}
        if method == "aum":
            scores = aum_scores(tracker.margin_sum, tracker.epochs)
        elif method == "forgetting":
            scores = forgetting_scores(tracker.forgets, tracker.ever_correct, tracker.epochs)
        elif method == "smallLoss":
            scores = small_loss_scores(p, y)
        elif method == "confidentLearning":
            cl = confident_learning(p, y, classes)
            scores = cl.scores
            entry["flagged"] = int(cl.flagged.sum())
        elif method == "mcDropout":
            if isinstance(mc_given, str):
                out.append({"method": method, "unavailable": mc_given})
                continue
            scores = mc_disagreement_scores(mc_given)
        else:
            raise ValueError(f"labelErrors: unknown method {method!r} (known: {', '.join(METHODS)})")
        entry["scores"] = [float(v) for v in scores]
        if truth is not None:
            metrics = ranking_metrics(scores, truth)
            if metrics is not None:
                entry["metrics"] = metrics
        out.append({k: entry[k] for k in ("method", "scores", "flagged", "metrics") if k in entry})
    payload: Payload = {
        "kind": "labelErrors",
        "examples": int(len(y)),
        "epochsTracked": int(tracker.epochs),
        "checkpointEpoch": int(checkpoint_epoch),
        "checkpoint": checkpoint,
        "given": [int(v) for v in y],
        "suggested": [int(v) for v in p.argmax(1)],
        "source": [int(v) for v in np.asarray(source)],
        "methods": out,
    }
    if truth is not None:
        payload["corrupted"] = [int(v) for v in truth]
    return payload


def top_examples(payload: Payload, k: int) -> List[int]:
    """Union of every method's top k, in first-seen order."""
    seen: Dict[int, None] = {}
    for m in payload["methods"]:
        if "scores" in m:
            for i in rank_by_score(np.asarray(m["scores"]))[:k]:
                seen.setdefault(int(i), None)
    return list(seen)


def images_of(x: np.ndarray, rows: List[int], width: int, height: int) -> List[Payload]:
    """Thumbnails of the given rows, pixels rounded to two decimals (as the TS side)."""
    size = width * height
    flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    return [
        {"index": int(i), "image": {"width": width, "height": height, "pixels": [float(v) for v in _round2(flat[i, :size])]}}
        for i in rows
    ]


def _round2(v: np.ndarray) -> np.ndarray:
    # Math.round(v * 100) / 100: round half up, not numpy's half to even
    return np.floor(v.astype(np.float64) * 100 + 0.5) / 100
