"""Layers RegLens defines that torch does not have. Users' models may import these (the
engine builds its nestedDropout layers from here too, so there is one implementation)."""
from __future__ import annotations

import bisect
import math
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NestedDropout", "nested_cdf"]


def nested_cdf(units: int, distribution: str = "halfGaussian", sigma: float = 10.0, rho: float = 0.9) -> List[float]:
    """Unnormalised CDF over the kept prefix length k = 1..units, as src/engine/model.ts
    nestedSampler builds it: halfGaussian p(k) ~ exp(-((k - 1) / sigma)^2) (mu = 0 on a
    0-based index, as in Chen et al.'s code); geometric p(k) = (1 - rho) rho^(k - 1),
    truncated at units."""
    if units < 1:
        raise ValueError(f"nested dropout needs at least one unit, got {units}")
    if distribution not in ("halfGaussian", "geometric"):
        raise ValueError(f'nested dropout distribution must be "halfGaussian" or "geometric", got {distribution!r}')
    cdf: List[float] = []
    total = 0.0
    for k in range(1, units + 1):
        if distribution == "geometric":
            total += (1 - rho) * rho ** (k - 1)
        else:
            total += math.exp(-(((k - 1) / sigma) ** 2))
        cdf.append(total)
    return cdf


class NestedDropout(nn.Module):
    """Nested dropout (Rippel et al. 2014; Chen et al. 2022): while training, one prefix
    length k is drawn per mini-batch and only the first k features (last axis) are kept;
    identity in eval mode. No rescaling: the prefix is the representation.

    generator: where k is drawn from (a CPU torch.Generator); None uses torch's default
    CPU generator, like nn.Dropout uses the global RNG.
    """

    def __init__(
        self,
        distribution: str = "halfGaussian",
        sigma: float = 10.0,
        rho: float = 0.9,
        units: Optional[int] = None,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        if distribution == "halfGaussian" and not sigma > 0:
            raise ValueError(f"nested dropout sigma must be positive, got {sigma}")
        if distribution == "geometric" and not 0 < rho < 1:
            raise ValueError(f"nested dropout rho must be in (0, 1), got {rho}")
        self.distribution = distribution
        self.sigma = float(sigma)
        self.rho = float(rho)
        self.units = units
        self.generator = generator
        self._cdf: List[float] = nested_cdf(units, distribution, sigma, rho) if units else []

    def extra_repr(self) -> str:
        shape = f"sigma={self.sigma}" if self.distribution == "halfGaussian" else f"rho={self.rho}"
        return f"distribution={self.distribution}, {shape}, units={self.units}"

    def sample_k(self, units: Optional[int] = None) -> int:
        """One prefix length in 1..units by inverse CDF (the same table search as model.ts)."""
        units = units or self.units
        if units is None:
            raise ValueError("NestedDropout.sample_k: the number of units is not known yet (give units, or call forward once)")
        if len(self._cdf) != units:
            self._cdf = nested_cdf(units, self.distribution, self.sigma, self.rho)
        u = torch.rand((), generator=self.generator, dtype=torch.float64).item() * self._cdf[-1]
        return min(bisect.bisect_left(self._cdf, u), units - 1) + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        units = x.shape[-1]
        k = self.sample_k(units)
        if k >= units:
            return x
        # Keep the prefix and pad zeros back: one op, and the gradient of the tail is exactly 0.
        return F.pad(x[..., :k], (0, units - k))
