"""Unlearning and degradation epochs from synthetic series (dynamics.py)."""
from reglens.engine.probes.dynamics import detect_dynamics, dynamics_payload


def series(corrupted, test_loss=None, train_loss=None):
    n = len(corrupted)
    test_loss = test_loss or [1.0] * n
    train_loss = train_loss or [1.0 - 0.01 * i for i in range(n)]
    return [{"epoch": i + 1, "trainLoss": train_loss[i], "testLoss": test_loss[i], "corruptedTrain": corrupted[i]} for i in range(n)]


def test_unlearning_is_the_peak_before_a_steady_fall():
    corrupted = [0.1, 0.4, 0.8, 0.9, 0.85, 0.7, 0.5, 0.3, 0.1, 0.0]
    assert detect_dynamics(series(corrupted))["unlearningEpoch"] == 4


def test_a_one_epoch_dip_is_not_unlearning():
    corrupted = [0.5, 0.6, 0.7, 0.3, 0.7, 0.75, 0.8, 0.8]
    assert detect_dynamics(series(corrupted))["unlearningEpoch"] is None


def test_no_corrupted_series_means_no_unlearning_epoch():
    assert detect_dynamics(series([None] * 6))["unlearningEpoch"] is None


def test_degradation_is_the_epoch_after_the_test_loss_minimum():
    test = [1.0, 0.8, 0.6, 0.5, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4]
    d = detect_dynamics(series([None] * 10, test_loss=test))
    # 5-epoch trailing means: ..., 0.68, 0.6 (epoch 6), 0.6, 0.68 (> 0.6 * 1.02, epoch 8):
    # the minimum is epoch 6 (the first of the equal pair); reported: the epoch after it.
    assert d["degradationEpoch"] == 7


def test_rising_test_loss_with_rising_train_loss_is_not_degradation():
    test = [1.0, 0.8, 0.6, 0.5, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4]
    assert detect_dynamics(series([None] * 10, test_loss=test, train_loss=test))["degradationEpoch"] is None


def test_payload_carries_the_series():
    p = dynamics_payload(series([0.5, None]))
    assert p["kind"] == "dynamics" and p["series"]["epoch"] == [1, 2] and p["series"]["corruptedTrain"] == [0.5, None]
    assert p["unlearningEpoch"] is None
