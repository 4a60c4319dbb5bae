"""The laws of the torch engine's stochastic regularizers, tested against the exact law
with a fixed seed and a stated false-alarm bound (issue 12, item 6c; stat_laws.py). Each
test also checks that its bound rejects a nearby wrong law on the same draws, so it can
fail. The TF.js engine's draws are judged by the same functions in
test/unit/engine/conformance.test.ts (through conformance_driver.py)."""
from __future__ import annotations

import math
import threading
from typing import Any, List

import numpy as np
import pytest
import torch

from datasets import experiment, mlp, start_command, write_modular
from reglens.engine.data import load_dataset
from reglens.engine.model import ImageShape, build_model
from reglens.engine.probes.network import ProbeNetwork
from reglens.engine.regularizers import apply_cutmix, draw_cutmix, feature_group_keep, forget_rate, group_matrix, smoothed_one_hot
from reglens.engine.train import _Batch, _Run
from reglens.nn import NestedDropout
from stat_laws import FALSE_ALARM, Z_BOUND, beta_cdf, beta_moment_z, binomial_dispersion, chi_square_fit, cutmix_lambda_moments, ks_bound, ks_distance, nested_law, z_mean, z_rate


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_dropout_keeps_each_unit_independently_with_probability_1_minus_rate(rate):
    """The engine's dropout layer (training mode, torch's global RNG) and the MC probe's
    masks (ProbeNetwork.mc_rest, its own generator): kept fraction within Z_BOUND sigma of
    1 - rate, per-row counts binomial (independent units), kept units scaled by 1 / (1 - rate)."""
    rows, width = 400, 500
    keep = 1 - rate
    specs = [{"type": "dropout", "rate": rate}, {"type": "dense", "units": width, "useBias": False, "init": "glorot"}]
    model = build_model(specs, width, None, None, torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.layers[1].weight.copy_(torch.eye(width))  # the MC pass's output is then its masked input
    x = torch.ones(rows, width)
    with torch.random.fork_rng():
        torch.manual_seed(11)
        layer_out = model.train().run(x, 0, 1)
    model.eval()
    net = ProbeNetwork(model)
    with torch.no_grad():
        mc_out = net.mc_rest(x, 0, net.generator(12))
    for name, out in (("dropout layer", layer_out), ("MC probe", mc_out)):
        kept = (out != 0).sum(1).numpy()
        z = z_rate(int(kept.sum()), rows * width, keep)
        assert abs(z) < Z_BOUND, f"{name}: kept {kept.sum()} of {rows * width}, z = {z:.2f} for keep {keep}"
        wrong = z_rate(int(kept.sum()), rows * width, keep + 0.01)
        assert abs(wrong) > Z_BOUND, f"{name}: the bound cannot tell keep {keep} from {keep + 0.01} (z = {wrong:.2f})"
        d = binomial_dispersion(kept, width, keep)
        assert d["p"] > FALSE_ALARM, f"{name}: per-row counts over-dispersed {d}"
        torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 1 / keep))
        cols = binomial_dispersion((out != 0).sum(0).numpy(), rows, keep)
        assert cols["p"] > FALSE_ALARM, f"{name}: per-column counts over-dispersed {cols}"
    # One mask shared by every row (a per-batch mask) would fail the column test.
    shared = binomial_dispersion((layer_out[:1].expand(rows, -1) != 0).sum(0).numpy(), rows, keep)
    assert shared["p"] < FALSE_ALARM, f"the dispersion test cannot see a shared mask: {shared}"


@pytest.mark.parametrize(
    "spec, wrong",
    [
        ({"distribution": "halfGaussian", "sigma": 4.0, "rho": 0.9}, {"distribution": "halfGaussian", "sigma": 4.4, "rho": 0.9}),
        ({"distribution": "geometric", "sigma": 10.0, "rho": 0.8}, {"distribution": "geometric", "sigma": 10.0, "rho": 0.82}),
    ],
)
def test_nested_dropout_prefix_length_follows_the_exact_law(spec, wrong):
    """k read off the layer's training output (the kept prefix), chi-square against p(k)."""
    units, draws = 16, 20000
    layer = NestedDropout(spec["distribution"], spec["sigma"], spec["rho"], units=units, generator=torch.Generator().manual_seed(3)).train()
    x = torch.ones(2, units)
    ks = np.array([int((layer(x)[0] != 0).sum()) for _ in range(draws)])
    counts = np.bincount(ks, minlength=units + 1)
    assert counts[0] == 0, "k is at least 1"
    fit = chi_square_fit(counts[1:], nested_law(units, spec["distribution"], spec["sigma"], spec["rho"]))
    assert fit["p"] > FALSE_ALARM, f"k does not follow {spec}: {fit}, counts {counts[1:].tolist()}"
    off = chi_square_fit(counts[1:], nested_law(units, wrong["distribution"], wrong["sigma"], wrong["rho"]))
    assert off["p"] < FALSE_ALARM, f"the test cannot tell {spec} from {wrong}: {off}"


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_cutmix_lambda_is_beta_and_the_label_weight_is_the_clipped_unpasted_area(beta):
    """lambda_0 ~ Beta(beta, beta) (Kolmogorov-Smirnov with the DKW bound, and its mean and
    variance by z); the label weight
    equals 1 - the fraction of pixels actually pasted, and its mean is the exact clipped-box
    mean (not the unclipped one)."""
    im = ImageShape(7, 9, 1)
    n, draws = 3, 6000
    rng = np.random.default_rng(21)
    x = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, im.height * im.width)
    y = smoothed_one_hot(torch.arange(n), n, 0.0)
    sampled, lam, pasted = [], [], []
    for i in range(draws):
        d = draw_cutmix(rng, n, im, beta)
        if i < 300:  # the pixels really pasted (every image a distinct constant) and the labels
            xm, ym = apply_cutmix(x, y, im, d)
            moved = np.flatnonzero(d.perm != np.arange(n))
            if len(moved):
                pasted.append(float((xm[moved[0]] != x[moved[0]]).float().mean()))
                assert math.isclose(pasted[-1], 1 - d.lam, abs_tol=1e-6), "label weight != unpasted area"
            torch.testing.assert_close(ym, d.lam * y + (1 - d.lam) * y[torch.from_numpy(d.perm)])
        sampled.append(d.sampled_lambda)
        lam.append(d.lam)
    dist = ks_distance(sampled, beta_cdf(beta))
    assert dist < ks_bound(draws), f"lambda_0 is not Beta({beta}, {beta}): KS {dist:.4f} >= {ks_bound(draws):.4f}"
    assert ks_distance(sampled, beta_cdf(1.0 if beta != 1.0 else 2.0)) > ks_bound(draws), "KS cannot tell the betas apart"
    z = beta_moment_z(sampled, beta)
    assert abs(z["mean"]) < Z_BOUND and abs(z["variance"]) < Z_BOUND, f"Beta({beta}, {beta}) moments: {z}"
    off = beta_moment_z(sampled, beta * 1.3)
    assert abs(off["variance"]) > Z_BOUND, f"the variance test cannot tell beta {beta} from {beta * 1.3}: {off}"
    m = cutmix_lambda_moments(im.height, im.width, beta)
    z = z_mean(lam, m["mean"], m["variance"])
    assert abs(z) < Z_BOUND, f"mean lambda {np.mean(lam):.4f} vs exact {m['mean']:.4f} (z = {z:.2f})"
    z_unclipped = z_mean(lam, m["unclippedMean"], m["variance"])
    assert abs(z_unclipped) > Z_BOUND, f"cannot tell clipping from no clipping (z = {z_unclipped:.2f})"


def test_feature_group_dropout_drops_each_group_with_probability_rate():
    """The loop's draw (torch.rand < rate per sample and group) through feature_group_keep."""
    groups = group_matrix([[0, 1], [2], [3, 4, 5]], 6)
    rate, n = 0.3, 40000
    g = torch.Generator().manual_seed(5)
    dropped = (torch.rand(n, 3, generator=g) < rate).float()
    keep = feature_group_keep(dropped, groups)
    per_group = torch.stack([keep[:, 0], keep[:, 2], keep[:, 3]], 1)
    assert torch.equal(keep[:, 0], keep[:, 1]) and torch.equal(keep[:, 3], keep[:, 5]), "a group is dropped all together"
    for j in range(3):
        z = z_rate(int((per_group[:, j] == 0).sum()), n, rate)
        assert abs(z) < Z_BOUND, f"group {j}: z = {z:.2f}"
    both = int(((per_group[:, 0] == 0) & (per_group[:, 2] == 0)).sum())
    z = z_rate(both, n, rate * rate)
    assert abs(z) < Z_BOUND, f"groups are not dropped independently (z = {z:.2f})"


class _Recording(_Run):
    """Records the size of every (sub-)batch each network trains on."""

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        self.sizes: List[List[int]] = []

    def _epoch_order(self, epoch: int, n: int) -> torch.Tensor:
        self.sizes.append([])
        return super()._epoch_order(epoch, n)

    def _step(self, m, kernels, opt, b: _Batch):  # type: ignore[override]
        self.sizes[-1].append(int(b.x.shape[0]))
        return super()._step(m, kernels, opt, b)


def test_co_teaching_keeps_floor_1_minus_R_of_each_batch_on_the_schedule(tmp_path):
    """R(T) = min(T tau / Tk, tau) with T = epochs completed; each network hands
    max(1, floor((1 - R) b)) of every batch of b rows to its peer."""
    d = str(tmp_path)
    write_modular(d, p=11, train_fraction=0.6, noise=0.3)
    tau, tk, bs, epochs = 0.3, 3, 16, 5
    exp = experiment(mlp(11, 16), epochs=epochs, batchSize=bs)
    exp["training"]["regularizers"] = {"coTeaching": {"forgetRate": tau, "gradualEpochs": tk}}
    r = _Recording(start_command(exp, d), load_dataset(d), torch.device("cpu"), "cpu", lambda e: None, threading.Event())
    assert r.run() == 0
    n = r.data.train.n
    batches = [min(bs, n - s) for s in range(0, n, bs)]
    for t, sizes in enumerate(r.sizes):
        rate = forget_rate(t, tau, tk)
        assert rate == min(t * tau / tk, tau)
        want = [max(1, math.floor((1 - rate) * b)) for b in batches for _ in (0, 1)]  # model's, then peer's
        assert sizes == want, f"epoch {t + 1}: R = {rate}"
    kept = sum(r.sizes[-1]) / (2 * n)
    assert 1 - tau - len(batches) / n <= kept <= 1 - tau, f"kept fraction {kept} at R = tau"
