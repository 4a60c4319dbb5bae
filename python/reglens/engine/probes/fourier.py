"""Fourier inverse participation ratio of a neuron's weights (port of fourier.ts; METHODS §1).

Convention (the TF.js engine's, documented in docs/results.md): for neuron k, take the
full complex DFT over the p residues of its input rows U[k, :] (weights from one-hot(m))
and V[k, :] (from one-hot(n)), CONCATENATE the two power spectra (2p bins) and compute
IPR = sum_j |x_j|^4 / (sum_j |x_j|^2)^2. A pure single frequency gives 1/4, random
Gaussian weights about 1/p. The output column W[:, k] is reported apart (`outputIpr`:
one p-bin spectrum, pure frequency -> 1/2). float64 throughout, as the TS engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np


@dataclass
class NeuronIpr:
    ipr: List[float]
    output_ipr: Optional[List[float]]
    # Per neuron, power per frequency 0..floor(p/2) summed over both input halves and over
    # f and p - f, normalised to sum 1 and rounded to 1e-4: what the dashboard plots.
    spectrum: List[List[float]]


def _power(values: np.ndarray) -> np.ndarray:
    """|DFT|^2 along axis 0."""
    f = np.fft.fft(values, axis=0)
    return f.real * f.real + f.imag * f.imag


def _ipr_of_power(power: np.ndarray) -> np.ndarray:
    """sum P^2 / (sum P)^2 along axis 0; 0 for an all-zero vector."""
    s = power.sum(0)
    s2 = (power * power).sum(0)
    return np.where(s > 0, s2 / np.where(s > 0, s * s, 1.0), 0.0)


def _js_round_nonneg(x: np.ndarray) -> np.ndarray:
    r = np.floor(x)
    return r + (x - r >= 0.5)


def neuron_ipr(kernel: np.ndarray, p: int, out_kernel: Optional[np.ndarray] = None) -> NeuronIpr:
    """kernel: the first dense layer's weights [2p, units] (rows 0..p-1 one-hot(m),
    p..2p-1 one-hot(n)); out_kernel: the next layer's [units, p]."""
    k = np.asarray(kernel, dtype=np.float32).astype(np.float64)
    if k.ndim != 2 or k.shape[0] != 2 * p:
        raise ValueError(f"neuron_ipr: kernel has shape {tuple(k.shape)}, expected [2p, units] with p = {p}")
    both = np.concatenate([_power(k[:p]), _power(k[p:])], 0)  # [2p, units]
    ipr = _ipr_of_power(both)
    per_f = both[:p] + both[p:]
    half = p // 2
    folded = np.zeros((half + 1, k.shape[1]))
    for f in range(p):
        folded[min(f, p - f)] += per_f[f]
    total = per_f.sum(0)
    safe = np.where(total > 0, total, 1.0)
    spectrum = np.where(total > 0, _js_round_nonneg((folded / safe) * 1e4) / 1e4, 0.0)
    output_ipr = None
    if out_kernel is not None:
        w = np.asarray(out_kernel, dtype=np.float32).astype(np.float64)
        output_ipr = [float(v) for v in _ipr_of_power(_power(w.T))]
    return NeuronIpr([float(v) for v in ipr], output_ipr, spectrum.T.tolist())


def ipr_to_memorization(ipr: List[float]) -> List[float]:
    """Memorization score from IPR: 1 - IPR min-max normalised over the layer."""
    lo = min(ipr)
    hi = max(ipr)
    r = hi - lo
    return [1 - (v - lo) / r if r > 0 else 0.0 for v in ipr]
