"""The training loop's regularizers (src/engine/regularizers/ on the TS side, METHODS.md):
their per-batch random choices and the losses they change."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from reglens.engine.model import ImageShape

# Masked-out logits get this added: exp underflows to exactly 0, with no inf - inf NaNs.
MASKED = -1e9


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, candidates: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Per-sample CE against soft targets [n, K]; candidates: 0/1 over K (loss.ts perSampleCE)."""
    if candidates is not None:
        logits = logits + (1 - candidates) * MASKED
        # Classes outside the candidate set carry target 0, so 0 * -1e9 stays exactly 0.
        targets = targets * candidates
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)


def smoothed_one_hot(labels: torch.Tensor, classes: int, eps: float) -> torch.Tensor:
    """(1 - eps) one-hot + eps / K (loss.ts smooth)."""
    y = F.one_hot(labels, classes).to(torch.float32)
    return y * (1 - eps) + eps / classes if eps else y


def forget_rate(epochs_completed: int, tau: float, tk: int) -> float:
    """Co-teaching R(T) = min(T tau / T_k, tau), T = epochs completed (0 in the first)."""
    return min(epochs_completed * tau / tk, tau)


def small_loss_indices(losses: torch.Tensor, rate: float) -> torch.Tensor:
    """Indices of the floor((1 - rate) n) smallest losses (at least one), ties by index."""
    n = losses.shape[0]
    keep = max(1, math.floor((1 - rate) * n))
    order = torch.sort(losses, stable=True).indices
    return order[:keep]


def candidate_mask(rng: np.random.Generator, classes: int, keep: float, targets: np.ndarray) -> np.ndarray:
    """0/1 over the classes: ceil(keep K) ones, always the batch's targets, the rest a
    uniform random subset (sampling.ts candidateMask)."""
    m = np.zeros(classes, dtype=np.float32)
    m[np.unique(targets)] = 1
    kept = int(m.sum())
    want = max(kept, math.ceil(keep * classes))
    rest = np.flatnonzero(m == 0)
    if want > kept and rest.size:
        m[rng.permutation(rest)[: want - kept]] = 1
    return m


def group_matrix(groups: Sequence[Sequence[int]], d: int) -> torch.Tensor:
    """[G, d] with 1 where column j belongs to group g."""
    g = torch.zeros(len(groups), d)
    for i, cols in enumerate(groups):
        g[i, list(cols)] = 1
    return g


def feature_group_keep(dropped: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Keep-mask [n, d] from per-sample group drops [n, G] (0/1): a dropped group's columns
    are zeroed all together, without rescaling (a missing modality, not noise)."""
    return 1 - (dropped @ groups).clamp(max=1)


@dataclass(frozen=True)
class CutmixDraw:
    """One CutMix choice: the box (half-open pixel ranges) pasted from perm[i] into i."""

    perm: np.ndarray
    box: Tuple[int, int, int, int]  # x1, y1, x2, y2
    sampled_lambda: float
    lam: float  # 1 - box area / image area: the label weight of the original image


def draw_cutmix(rng: np.random.Generator, n: int, image: ImageShape, beta: float) -> CutmixDraw:
    """lambda ~ Beta(beta, beta); a box of side sqrt(1 - lambda) around a uniform centre,
    clipped to the image; lambda recomputed from the clipped area (cutmix.ts)."""
    H, W = image.height, image.width
    sampled = float(rng.beta(beta, beta))
    perm = rng.permutation(n)
    cut = math.sqrt(1 - sampled)
    rw, rh = math.floor(W * cut), math.floor(H * cut)
    cx, cy = int(rng.integers(W)), int(rng.integers(H))
    clip = lambda v, hi: min(max(v, 0), hi)  # noqa: E731
    x1, y1, x2, y2 = clip(cx - (rw >> 1), W), clip(cy - (rh >> 1), H), clip(cx + (rw >> 1), W), clip(cy + (rh >> 1), H)
    lam = 1 - (x2 - x1) * (y2 - y1) / (W * H)
    return CutmixDraw(perm, (x1, y1, x2, y2), sampled, lam)


def apply_cutmix(x: torch.Tensor, targets: torch.Tensor, image: ImageShape, draw: CutmixDraw) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pastes the box from the permuted batch into every flat HWC row; mixes the (possibly
    smoothed) soft targets by the pasted area."""
    n = x.shape[0]
    perm = torch.from_numpy(draw.perm).to(x.device)
    x1, y1, x2, y2 = draw.box
    images = x.reshape(n, image.height, image.width, image.channels)
    out = images.clone()
    out[:, y1:y2, x1:x2, :] = images[perm, y1:y2, x1:x2, :]
    y = targets * draw.lam + targets[perm] * (1 - draw.lam)
    return out.reshape(n, -1), y


def l2_penalty(kernels: List[torch.Tensor], weight: float) -> torch.Tensor:
    """Coupled L2: weight * sum ||W||^2 over kernels (not biases, not batch-norm parameters)."""
    return weight * sum((k * k).sum() for k in kernels)
