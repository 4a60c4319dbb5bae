"""Small statistics the probes share (port of src/engine/probes/stats.ts), in float64."""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np


def js_round(x: float) -> int:
    """JavaScript's Math.round: halves go up (Python's round goes to even)."""
    r = math.floor(x)
    return int(r + 1 if x - r >= 0.5 else r)


def ranks(values: Sequence[float]) -> List[float]:
    """1-based ranks, ties share their average rank."""
    idx = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and values[idx[j + 1]] == values[idx[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for k in range(i, j + 1):
            r[idx[k]] = avg
        i = j + 1
    return r


def _pearson(a: Sequence[float], b: Sequence[float]) -> float:
    n = len(a)
    ma = sum(a) / n
    mb = sum(b) / n
    sab = saa = sbb = 0.0
    for x, y in zip(a, b):
        sab += (x - ma) * (y - mb)
        saa += (x - ma) ** 2
        sbb += (y - mb) ** 2
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else 0.0


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho (Pearson on average ranks); 0 when either side is constant."""
    return _pearson(ranks(a), ranks(b))


def min_max(values: Sequence[float]) -> List[float]:
    """Min-max normalisation to [0, 1]; all zeros when constant."""
    if not len(values):
        return []
    lo = min(values)
    hi = max(values)
    r = hi - lo
    return [(v - lo) / r if r > 0 else 0.0 for v in values]


def ece(confidence: Sequence[float], correct: Sequence[float], bins: int = 15) -> Tuple[float, List[Dict[str, float]]]:
    """Expected calibration error over equal-width bins (b/B, (b+1)/B]; bin 0 also holds 0."""
    n = len(confidence)
    sum_conf = [0.0] * bins
    sum_acc = [0.0] * bins
    count = [0] * bins
    for c, ok in zip(confidence, correct):
        b = min(bins - 1, max(0, math.ceil(c * bins) - 1))
        sum_conf[b] += c
        sum_acc[b] += ok
        count[b] += 1
    e = 0.0
    reliability = []
    for b in range(bins):
        conf = sum_conf[b] / count[b] if count[b] else 0.0
        acc = sum_acc[b] / count[b] if count[b] else 0.0
        if count[b]:
            e += (count[b] / n) * abs(acc - conf)
        reliability.append({"lower": b / bins, "upper": (b + 1) / bins, "confidence": conf, "accuracy": acc, "count": count[b]})
    return (e if n else 0.0), reliability


def otsu_threshold(values: Sequence[float], bins: int = 64) -> float:
    """Otsu's cut between the two modes of a histogram; the low mode is {v <= t}."""
    lo = min(values)
    hi = max(values)
    if not hi > lo:
        return hi
    hist = [0.0] * bins
    width = (hi - lo) / bins
    for v in values:
        hist[min(bins - 1, math.floor((v - lo) / width))] += 1
    total = len(values)
    sum_all = sum(b * hist[b] for b in range(bins))
    w_b = sum_b = 0.0
    best = -1.0
    best_b = 0
    for b in range(bins - 1):
        w_b += hist[b]
        if w_b == 0:
            continue
        w_f = total - w_b
        if w_f == 0:
            break
        sum_b += b * hist[b]
        m_b = sum_b / w_b
        m_f = (sum_all - sum_b) / w_f
        between = w_b * w_f * (m_b - m_f) ** 2
        if between > best:
            best = between
            best_b = b
    return lo + (best_b + 1) * width


def histogram(values: Sequence[float], group: np.ndarray, bins: int = 20) -> Dict[str, List[float]]:
    """Counts per bin over shared edges [0, max], for each split (group 0/1/2)."""
    hi = 0.0
    for v in values:
        hi = max(hi, v)
    if not hi > 0:
        hi = 1.0
    edges = [(hi * i) / bins for i in range(bins + 1)]
    counts = [[0] * bins for _ in range(3)]
    for v, g in zip(values, group):
        counts[int(g)][min(bins - 1, max(0, math.floor((v / hi) * bins)))] += 1
    return {"edges": edges, "clean": counts[0], "corrupted": counts[1], "test": counts[2]}
