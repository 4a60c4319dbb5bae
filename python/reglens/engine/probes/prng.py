"""Port of src/engine/prng.ts (mulberry32, deriveRng, shuffle), bit for bit.

The probes draw their seeded choices (which examples MC dropout scores) from the same
streams as the TF.js engine, so both engines score the same examples from the same seed.
All arithmetic is on unsigned 32-bit integers, as JavaScript's ``>>> 0`` / ``Math.imul``.
"""
from __future__ import annotations

from typing import Callable, List, MutableSequence

from reglens.engine.seeds import stream_seed

Rng = Callable[[], float]

_MASK = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & _MASK


def mulberry32(seed: int) -> Rng:
    """Uniform floats in [0, 1); the same sequence as prng.ts's mulberry32(seed)."""
    state = [seed & _MASK]

    def draw() -> float:
        a = (state[0] + 0x6D2B79F5) & _MASK
        state[0] = a
        t = _imul(a ^ (a >> 15), a | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & _MASK
        return ((t ^ (t >> 14)) & _MASK) / 4294967296.0

    return draw


def derive_rng(seed: int, stream: str) -> Rng:
    """A child generator for one purpose: deriveRng(seed, stream) of prng.ts."""
    return mulberry32(stream_seed(seed, stream))


def shuffle(rng: Rng, items: MutableSequence[int]) -> None:
    """In-place Fisher-Yates shuffle drawing j = floor(rng() * (i + 1)), as prng.ts."""
    for i in range(len(items) - 1, 0, -1):
        j = int(rng() * (i + 1))
        items[i], items[j] = items[j], items[i]


def sample_rows(seed: int, stream: str, n: int, k: int) -> List[int]:
    """The first k of a seeded shuffle of 0..n-1, in increasing order."""
    order = list(range(n))
    shuffle(derive_rng(seed, stream), order)
    return sorted(order[: min(n, k)])
