"""Fourier IPR (fourier.py) and the neuronScores payload of modular models."""
import math

import numpy as np

from probe_fixtures import FixtureModel, act, dense, net_of, random_data
from reglens.engine.probes.fourier import ipr_to_memorization, neuron_ipr
from reglens.engine.probes.payloads import memorization_scores

P = 11


def fourier_kernel(units: int, freqs, rng) -> np.ndarray:
    """[2p, units]: unit k is a pure frequency freqs[k] (or Gaussian where None)."""
    k = np.zeros((2 * P, units), dtype=np.float32)
    m = np.arange(P)
    for j, f in enumerate(freqs):
        if f is None:
            k[:, j] = rng.standard_normal(2 * P)
        else:
            k[:P, j] = np.cos(2 * np.pi * f * m / P + 0.3)
            k[P:, j] = np.cos(2 * np.pi * f * m / P - 1.1)
    return k


def test_a_pure_frequency_has_the_maximal_ipr_a_quarter():
    rng = np.random.default_rng(0)
    r = neuron_ipr(fourier_kernel(3, [2, None, 5], rng), P)
    assert math.isclose(r.ipr[0], 0.25, rel_tol=1e-6) and math.isclose(r.ipr[2], 0.25, rel_tol=1e-6)
    assert r.ipr[1] < 0.25
    assert r.output_ipr is None
    # The spectrum folds f and p - f and both halves: all the power at bin f.
    assert r.spectrum[0][2] == 1.0 and sum(r.spectrum[0]) == 1.0
    assert len(r.spectrum[0]) == P // 2 + 1
    assert abs(sum(r.spectrum[1]) - 1) < 1e-3
    assert np.allclose(ipr_to_memorization(r.ipr), [0.0, 1.0, 0.0], atol=1e-12)


def test_output_column_ipr_of_a_pure_frequency_is_a_half():
    rng = np.random.default_rng(1)
    out = np.stack([np.cos(2 * np.pi * 3 * np.arange(P) / P), rng.standard_normal(P)]).astype(np.float32)
    r = neuron_ipr(fourier_kernel(2, [1, 1], rng), P, out)
    assert math.isclose(r.output_ipr[0], 0.5, rel_tol=1e-6) and r.output_ipr[1] < 0.5


def test_a_zero_neuron_has_ipr_zero():
    k = np.zeros((2 * P, 1), dtype=np.float32)
    r = neuron_ipr(k, P)
    assert r.ipr == [0.0] and r.spectrum == [[0.0] * (P // 2 + 1)]


def modular_model(freqs, seed=0):
    model = FixtureModel([dense(len(freqs)), act("square"), dense(P)], 2 * P, seed=seed)
    w = model.get_weights()
    w["dense_0/kernel"] = fourier_kernel(len(freqs), freqs, np.random.default_rng(seed))
    model.set_weights(w)
    return model


def test_memorization_on_modular_data_is_ipr_of_dense_0():
    model = modular_model([1, None, 4, None])
    data = random_data(30, 10, 2 * P, P, seed=2)
    scores, payload = memorization_scores(net_of(model), data, P)
    assert payload["method"] == "ipr" and payload["layer"] == "dense_0"
    assert np.allclose([payload["scores"][0], payload["scores"][2]], 0.0, atol=1e-12)
    assert max(payload["scores"]) == 1.0 and min(payload["scores"][1], payload["scores"][3]) > 0.5
    assert len(payload["detail"]["spectrum"]) == 4 and len(payload["detail"]["outputIpr"]) == 4
    assert scores.raw == payload["raw"]


def test_ipr_where_it_does_not_apply_falls_back_to_ablation_with_a_warning():
    model = FixtureModel([dense(4), act("relu"), dense(3)], 5)
    warnings = []
    _, payload = memorization_scores(net_of(model), random_data(20, 10, 5, 3), None, "ipr", warn=warnings.append)
    assert payload["method"] == "ablation" and set(payload["detail"]) == {"cleanDrop", "corruptedDrop", "testDrop"}
    assert warnings == ["probes.memorization: IPR needs the first layer of a modular-arithmetic model; using ablation on dense_0"]
