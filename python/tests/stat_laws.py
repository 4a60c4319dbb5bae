"""Exact laws of the stochastic regularizers and the tests that judge samples against them
(issue 12, item 6c). Used by the pytest suite on torch draws (test_conformance_laws.py)
and by the cross-engine driver on the TF.js engine's draws (conformance_driver.py), so both
engines are judged by the same code against the same exact law.

Every test is set for a false-alarm probability below FALSE_ALARM = 1e-6 and returns the
numbers it decided on, so an assertion message shows them.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

FALSE_ALARM = 1e-6
# Two-sided normal bound: P(|Z| > 5) = 5.7e-7 < FALSE_ALARM.
Z_BOUND = 5.0


# ---- chi-square ----


def _gamma_p_series(a: float, x: float) -> float:
    term = total = 1.0 / a
    n = a
    for _ in range(10000):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-16:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_fraction(a: float, x: float) -> float:
    # Lentz's continued fraction for the upper regularized gamma (Numerical Recipes gcf).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(x: float, df: int) -> float:
    """P(chi2_df > x)."""
    if x <= 0:
        return 1.0
    a, y = df / 2, x / 2
    return 1 - _gamma_p_series(a, y) if y < a + 1 else _gamma_q_fraction(a, y)


def _pool(expected: np.ndarray, *observed: np.ndarray, minimum: float = 5.0) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Merges adjacent bins (from the right) until every expected count is >= minimum, so the
    chi-square approximation holds."""
    e_out: List[float] = []
    o_out: List[List[float]] = [[] for _ in observed]
    acc_e, acc_o = 0.0, [0.0] * len(observed)
    for i in range(len(expected)):
        acc_e += float(expected[i])
        for j, o in enumerate(observed):
            acc_o[j] += float(o[i])
        if acc_e >= minimum:
            e_out.append(acc_e)
            for j in range(len(observed)):
                o_out[j].append(acc_o[j])
            acc_e, acc_o = 0.0, [0.0] * len(observed)
    if acc_e > 0 and e_out:  # the remainder joins the last bin
        e_out[-1] += acc_e
        for j in range(len(observed)):
            o_out[j][-1] += acc_o[j]
    return np.asarray(e_out), [np.asarray(o) for o in o_out]


def chi_square_fit(counts: Sequence[int], probs: Sequence[float]) -> Dict[str, float]:
    """Goodness of fit of category counts to exact probabilities (bins pooled to >= 5 expected)."""
    counts_a = np.asarray(counts, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    n = counts_a.sum()
    expected, (observed,) = _pool(n * p / p.sum(), counts_a)
    stat = float(((observed - expected) ** 2 / expected).sum())
    df = len(expected) - 1
    return {"stat": stat, "df": df, "p": chi2_sf(stat, df), "bins": len(expected)}


def chi_square_two_sample(a: Sequence[int], b: Sequence[int]) -> Dict[str, float]:
    """Homogeneity of two histograms over the same categories (bins pooled on the combined counts)."""
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = a_.sum(), b_.sum()
    combined, (pa, pb) = _pool((a_ + b_) * min(na, nb) / (na + nb), a_, b_)
    total = pa + pb
    keep = total > 0
    pa, pb, total = pa[keep], pb[keep], total[keep]
    stat = float(((pa * math.sqrt(nb / na) - pb * math.sqrt(na / nb)) ** 2 / total).sum())
    df = len(total) - 1
    return {"stat": stat, "df": df, "p": chi2_sf(stat, df), "bins": len(total)}


# ---- a rate, a mean ----


def z_rate(successes: int, trials: int, p: float) -> float:
    """z of a binomial count against rate p (normal approximation, trials * p(1-p) >> 1)."""
    return (successes - trials * p) / math.sqrt(trials * p * (1 - p))


def binomial_dispersion(counts: Sequence[int], trials: int, p: float) -> Dict[str, float]:
    """Counts each out of `trials` (the kept units of every row, or of every column) against
    Binomial(trials, p): sum of squared z ~ chi2 with len(counts) df. Masks shared across
    rows, or drawn in blocks, inflate it."""
    c = np.asarray(counts, dtype=np.float64)
    stat = float((((c - trials * p) ** 2) / (trials * p * (1 - p))).sum())
    return {"stat": stat, "df": len(c), "p": chi2_sf(stat, len(c))}


def z_mean(samples: Sequence[float], mean: float, variance: float) -> float:
    """z of a sample mean against an exact mean and variance (CLT)."""
    x = np.asarray(samples, dtype=np.float64)
    return float((x.mean() - mean) / math.sqrt(variance / len(x)))


# ---- Kolmogorov-Smirnov with the DKW bound ----


def ks_distance(samples: Sequence[float], cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(x)
    f = cdf(x)
    return float(max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max()))


def ks_bound(n: int) -> float:
    """Dvoretzky-Kiefer-Wolfowitz (Massart's constant): P(D_n > eps) <= 2 exp(-2 n eps^2), an
    exact bound for every n, set to FALSE_ALARM."""
    return math.sqrt(math.log(2 / FALSE_ALARM) / (2 * n))


# ---- the laws ----


def beta_moment_z(samples: Sequence[float], beta: float) -> Dict[str, float]:
    """z of the sample mean and the sample variance of Beta(beta, beta) draws against the exact
    mean 1/2 and variance 1 / (4 (2 beta + 1)); the variance's own variance from the exact
    fourth central moment (excess kurtosis -6 / (2 beta + 3))."""
    x = np.asarray(samples, dtype=np.float64)
    n = len(x)
    var = 1 / (4 * (2 * beta + 1))
    mu4 = var * var * (3 - 6 / (2 * beta + 3))
    return {"mean": z_mean(x, 0.5, var), "variance": float((x.var() - var) / math.sqrt((mu4 - var * var) / n))}


def nested_law(units: int, distribution: str, sigma: float, rho: float) -> np.ndarray:
    """p(k), k = 1..units, of nested dropout's prefix length (METHODS §2), normalised;
    written from the formula, not from the engines' tables."""
    k = np.arange(1, units + 1, dtype=np.float64)
    w = (1 - rho) * rho ** (k - 1) if distribution == "geometric" else np.exp(-(((k - 1) / sigma) ** 2))
    return w / w.sum()


def beta_cdf(beta: float) -> Callable[[np.ndarray], np.ndarray]:
    """CDF of Beta(beta, beta) in closed form for the betas the tests use."""
    if beta == 1.0:
        return lambda x: np.clip(x, 0, 1)
    if beta == 0.5:
        return lambda x: 2 / math.pi * np.arcsin(np.sqrt(np.clip(x, 0, 1)))
    if beta == 2.0:
        return lambda x: (lambda c: 3 * c**2 - 2 * c**3)(np.clip(x, 0, 1))
    raise ValueError(f"no closed-form Beta({beta}, {beta}) CDF here (use 0.5, 1 or 2)")


def _side_moments(size: int, cut: int) -> Tuple[float, float]:
    """E[w], E[w^2] of a box side clipped to [0, size): centre c uniform in 0..size-1,
    ends clip(c - (cut >> 1)) and clip(c + (cut >> 1)), as cutmix.ts draws it."""
    half = cut >> 1
    w = np.array([min(max(c + half, 0), size) - min(max(c - half, 0), size) for c in range(size)], dtype=np.float64)
    return float(w.mean()), float((w * w).mean())


def cutmix_lambda_moments(height: int, width: int, beta: float) -> Dict[str, float]:
    """Exact E[lambda] and Var[lambda] of CutMix's label weight lambda = 1 - clipped box area
    / image area, with lambda_0 ~ Beta(beta, beta), box sides floor(W sqrt(1 - lambda_0)) and
    floor(H sqrt(1 - lambda_0)), centre uniform over the pixels; and the same moments without
    clipping (a negative control: the bound must tell the two apart)."""
    cdf = beta_cdf(beta)
    # The box sides are step functions of lambda_0: sum over the intervals where they are constant.
    cuts = {0.0, 1.0}
    for size in (height, width):
        for a in range(size + 1):
            s = 1 - (a / size) ** 2
            if 0 < s < 1:
                cuts.add(s)
    edges = sorted(cuts)
    m1 = m2 = u1 = 0.0
    area = height * width
    for lo, hi in zip(edges, edges[1:]):
        mass = float(cdf(np.array([hi]))[0] - cdf(np.array([lo]))[0])
        if mass <= 0:
            continue
        cut = math.sqrt(1 - (lo + hi) / 2)
        rw, rh = math.floor(width * cut), math.floor(height * cut)
        ew, ew2 = _side_moments(width, rw)
        eh, eh2 = _side_moments(height, rh)
        m1 += mass * (1 - ew * eh / area)
        # E[(1 - A/S)^2] = 1 - 2 E[A]/S + E[A^2]/S^2, sides independent given lambda_0.
        m2 += mass * (1 - 2 * ew * eh / area + ew2 * eh2 / area**2)
        u1 += mass * (1 - (2 * (rw >> 1)) * (2 * (rh >> 1)) / area)
    return {"mean": m1, "variance": m2 - m1 * m1, "unclippedMean": u1}
