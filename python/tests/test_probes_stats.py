"""Shared statistics (stats.py), checked on cases whose answer is known by hand."""
import math

import numpy as np

from reglens.engine.probes.stats import ece, histogram, js_round, min_max, otsu_threshold, ranks, spearman


def test_js_round_rounds_halves_up():
    assert [js_round(v) for v in (0.5, 1.5, 2.5, -0.5, 2.4999)] == [1, 2, 3, 0, 2]


def test_ranks_average_ties_and_spearman_signs():
    assert ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1]
    assert spearman([1, 2, 3, 4], [1, 4, 9, 16]) == 1
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1
    assert spearman([1, 2, 3], [7, 7, 7]) == 0


def test_min_max():
    assert min_max([2, 4, 3]) == [0, 1, 0.5]
    assert min_max([3, 3]) == [0, 0]


def test_otsu_splits_two_modes():
    values = [0.01, 0.012, 0.011, 0.013, 0.24, 0.25, 0.245]
    t = otsu_threshold(values)
    assert 0.013 <= t < 0.24
    assert otsu_threshold([0.5, 0.5]) == 0.5


def test_ece_is_zero_when_confidence_matches_accuracy():
    e, bins = ece([1.0, 1.0, 0.5, 0.5], [1, 1, 1, 0])
    assert math.isclose(e, 0.0, abs_tol=1e-12)
    assert sum(b["count"] for b in bins) == 4 and len(bins) == 15
    e2, _ = ece([0.9, 0.9], [0, 0])
    assert math.isclose(e2, 0.9)


def test_histogram_counts_each_split():
    h = histogram([0.0, 1.0, 2.0, 2.0], np.array([0, 1, 2, 2], dtype=np.uint8), bins=4)
    assert h["edges"] == [0, 0.5, 1.0, 1.5, 2.0]
    assert h["clean"] == [1, 0, 0, 0] and h["corrupted"] == [0, 0, 1, 0] and h["test"] == [0, 0, 0, 2]
