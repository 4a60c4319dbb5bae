"""Per-batch choices of the loop-level regularizers: their distributions (issue 12, 6c)."""
from __future__ import annotations

import math

import numpy as np
import torch

from reglens.engine.model import ImageShape
from reglens.engine.regularizers import (
    apply_cutmix,
    candidate_mask,
    draw_cutmix,
    feature_group_keep,
    forget_rate,
    group_matrix,
    small_loss_indices,
    smoothed_one_hot,
    soft_cross_entropy,
)


def test_cutmix_lambda_is_the_unpasted_area():
    im = ImageShape(7, 9, 2)
    rng = np.random.default_rng(0)
    n = 6
    # Every image a constant distinct value: pasted pixels are exactly those that changed.
    x = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, im.height * im.width * im.channels)
    y = smoothed_one_hot(torch.arange(n) % 3, 3, 0.0)
    lams, sampled = [], []
    for _ in range(400):
        d = draw_cutmix(rng, n, im, 1.0)
        xm, ym = apply_cutmix(x, y, im, d)
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 <= x2 <= im.width and 0 <= y1 <= y2 <= im.height
        moved = d.perm != np.arange(n)
        changed = (xm != x).reshape(n, -1).float().mean(1).numpy()
        assert np.allclose(changed[moved], 1 - d.lam)
        assert np.allclose(changed[~moved], 0)
        assert math.isclose(d.lam, 1 - (x2 - x1) * (y2 - y1) / (im.width * im.height))
        torch.testing.assert_close(ym, d.lam * y + (1 - d.lam) * y[torch.from_numpy(d.perm)])
        lams.append(d.lam)
        sampled.append(d.sampled_lambda)
    # Beta(1, 1) is uniform; clipping only shrinks the box, so lambda >= the sampled value on average.
    assert abs(np.mean(sampled) - 0.5) < 0.05
    assert np.mean(lams) >= np.mean(sampled) - 0.02


def test_co_teaching_forget_schedule_and_small_loss_selection():
    assert [forget_rate(t, 0.4, 10) for t in (0, 5, 10, 20)] == [0.0, 0.2, 0.4, 0.4]
    losses = torch.tensor([0.5, 0.1, 0.9, 0.1, 0.3])
    assert small_loss_indices(losses, 0.0).tolist() == [1, 3, 4, 0, 2]  # ties by index
    assert small_loss_indices(losses, 0.4).tolist() == [1, 3, 4]  # floor(0.6 * 5)
    assert small_loss_indices(losses, 0.99).tolist() == [1]  # at least one


def test_candidate_mask_keeps_the_targets_and_ceil_keep_k():
    rng = np.random.default_rng(1)
    hits = np.zeros(10)
    for _ in range(2000):
        m = candidate_mask(rng, 10, 0.45, np.array([2, 2, 7]))
        assert m[2] == 1 and m[7] == 1 and m.sum() == 5  # ceil(4.5)
        hits += m
    others = np.delete(hits, [2, 7]) / 2000
    assert np.allclose(others, 3 / 8, atol=0.04)  # the other 3 uniformly among 8
    assert candidate_mask(rng, 4, 0.25, np.array([0, 1, 2])).sum() == 3  # the targets win over keep


def test_candidate_loss_is_a_softmax_over_the_subset():
    logits = torch.tensor([[1.0, 2.0, 0.5, -1.0]])
    cand = torch.tensor([1.0, 0.0, 1.0, 1.0])
    y = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    sub = logits[:, [0, 2, 3]]
    want = -torch.log_softmax(sub, 1)[0, 1]
    torch.testing.assert_close(soft_cross_entropy(logits, y, cand)[0], want)


def test_feature_groups_drop_whole_groups_without_rescaling():
    g = group_matrix([[0, 1], [3]], 5)
    gen = torch.Generator().manual_seed(0)
    dropped = (torch.rand(4000, 2, generator=gen) < 0.25).float()
    keep = feature_group_keep(dropped, g)
    assert set(keep.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(keep[:, 0], keep[:, 1]) and keep[:, 2].all() and keep[:, 4].all()
    assert abs((keep[:, 0] == 0).float().mean().item() - 0.25) < 0.03
    assert abs((keep[:, 3] == 0).float().mean().item() - 0.25) < 0.03
