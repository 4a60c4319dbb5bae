"""nestedOrdering (payloads.nested_ordering_probe)."""
import numpy as np

from probe_fixtures import FixtureModel, act, dense, net_of, random_data
from reglens.engine.probes.payloads import nested_ordering_layer, nested_ordering_probe


def trained_like(units: int, live: int, extra_layer: bool):
    """A random net whose units from `live` on are zero (kernel columns zeroed)."""
    specs = [dense(units), act("relu"), {"type": "nestedDropout", "distribution": "halfGaussian", "sigma": 10, "rho": 0.9}]
    specs += [dense(units), act("relu"), dense(3)] if extra_layer else [dense(3)]
    model = FixtureModel(specs, 5, seed=1)
    w = model.get_weights()
    w["dense_0/kernel"][:, live:] = 0
    w["dense_0/bias"][live:] = 0
    model.set_weights(w)
    return model


def test_units_that_are_zero_add_nothing_to_the_truncation_curve():
    data = random_data(100, 200, 5, 3, seed=3)
    for extra in (False, True):
        model = trained_like(10, 4, extra)
        net = net_of(model)
        layer = nested_ordering_layer(net, None)
        assert layer.name == "dense_0" and layer.feeds_output != extra
        p = nested_ordering_probe(net, layer, data)
        assert p["k"] == list(range(1, 11)) and p["layer"] == "dense_0"
        acc = p["accuracy"]
        assert all(a == acc[3] for a in acc[4:])
        assert p["importance"][4:] == [0.0] * 6
        # K* is the smallest k reaching the best accuracy (the 1e-5 k penalty breaks ties).
        best = max(acc)
        assert p["kStar"] == acc.index(best) + 1 and p["kStar"] <= 4


def test_rank_correlation_is_negative_when_earlier_units_matter_more():
    # Unit 0 carries class 0 with weight 1, the others 0.1 each, against a class-1 bias of
    # 0.75: unit 0 alone decides (the others sum to 0.5), removing any other changes nothing.
    units = 6
    model = FixtureModel([dense(units), act("relu"), dense(2)], 2)
    w = model.get_weights()
    w["dense_0/kernel"] = np.ones((2, units), np.float32)
    w["dense_1/kernel"] = np.array([[1.0 if k == 0 else 0.1, 0.0] for k in range(units)], np.float32)
    w["dense_1/bias"] = np.array([0.0, 0.75], np.float32)
    model.set_weights(w)
    from probe_fixtures import eval_data

    x = np.full((20, 2), 0.5, np.float32)
    data = eval_data(x[:10], np.zeros(10, int), np.zeros(10, bool), x[10:], np.zeros(10, int))
    p = nested_ordering_probe(net_of(model), net_of(model).hidden[0], data)
    # h = 1 per unit: the first unit alone already wins (1 > 0.75).
    assert p["accuracy"] == [1.0] * units and p["kStar"] == 1
    assert p["importance"][0] == 1.0 and p["importance"][1:] == [0.0] * (units - 1)
    assert p["rankCorrelation"] < 0


def test_the_layer_given_wins_and_a_missing_one_is_named():
    model = trained_like(6, 6, True)
    net = net_of(model)
    assert nested_ordering_layer(net, "dense_1").name == "dense_1"
    try:
        nested_ordering_layer(net, "dense_7")
    except ValueError as err:
        assert str(err) == "no hidden layer dense_7 to truncate"
    else:
        raise AssertionError("expected an error")
