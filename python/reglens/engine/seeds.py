"""Seeded random streams, one per purpose, derived from the experiment seed the way
src/engine/prng.ts deriveRng does (FNV-1a over the stream name). The streams themselves
are torch / numpy generators, not mulberry32: the same seed gives the same run on torch
every time, but not the same draws as the TF.js engine."""
from __future__ import annotations

import numpy as np
import torch


def stream_seed(seed: int, stream: str) -> int:
    """The 32-bit seed of deriveRng(seed, stream) in prng.ts."""
    h = (2166136261 ^ (seed & 0xFFFFFFFF)) & 0xFFFFFFFF
    for ch in stream:
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return h


def torch_stream(seed: int, stream: str) -> torch.Generator:
    """A CPU torch.Generator for one purpose (init, batches, ...)."""
    return torch.Generator().manual_seed(stream_seed(seed, stream))


def numpy_stream(seed: int, stream: str) -> np.random.Generator:
    """A numpy Generator for host-side per-batch draws (CutMix boxes, candidate sets)."""
    return np.random.default_rng(stream_seed(seed, stream))
