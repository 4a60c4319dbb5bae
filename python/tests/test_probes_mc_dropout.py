"""Monte Carlo dropout (mc_dropout.py)."""
import numpy as np
import torch

from probe_fixtures import FixtureModel, act, dense, eval_data, net_of, random_data
from reglens.engine.probes.mc_dropout import NO_DROPOUT_MESSAGE, eval_probabilities, mc_dropout_probe, mc_payload, mc_probabilities, mc_stats
from reglens.engine.probes.prng import sample_rows


def dropout_model(rate: float, bn: bool = False, seed: int = 0) -> FixtureModel:
    specs = [dense(16), act("relu")]
    if bn:
        specs.append({"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5})
    specs += [{"type": "dropout", "rate": rate}, dense(4)]
    return FixtureModel(specs, 6, seed=seed)


def test_rate_zero_gives_zero_mutual_information_and_the_deterministic_prediction():
    data = random_data(50, 30, 6, 4, seed=1)
    net = net_of(dropout_model(0.0))
    rows = sample_rows(9, "mc-sample", 80, 40)
    xs = data.x[rows]
    probs = mc_probabilities(net, xs, 5, 9, include_zero_rate=True)
    base = eval_probabilities(net, xs)
    assert np.allclose(probs, base[None], atol=1e-6)
    payload = mc_payload(data, rows, probs, base, 0)
    s = payload["summary"]
    assert s["meanMutualInformation"]["clean"] < 1e-6 and s["meanMutualInformation"]["test"] < 1e-6
    assert s["meanVariationRatio"]["test"] == 0.0 and s["meanVariance"]["test"] < 1e-12
    for u in payload["mostUncertain"]:
        i = rows.index(u["index"] if u["split"] != "test" else u["index"] + data.n_train)
        assert u["predicted"] == int(base[i].argmax())
        assert abs(u["entropy"] + float((base[i] * np.log(base[i])).sum())) < 1e-5
    # The deterministic pass equals U_full, so STAR's ranking is the entropy ranking.
    assert [a["index"] for a in payload["activeLearning"][:5]] == [u["index"] for u in payload["mostUncertain"] if u["split"] == "test"][:5]


def test_a_model_without_dropout_is_reported_unavailable():
    data = random_data(20, 10, 6, 4)
    for model in (FixtureModel([dense(8), act("relu"), dense(4)], 6), dropout_model(0.0)):
        p = mc_dropout_probe(net_of(model), data, 10, 100, 0, 0)
        assert p == {"kind": "mcDropout", "passes": 10, "examples": 0, "unavailable": NO_DROPOUT_MESSAGE}


def test_dropout_gives_positive_mutual_information_seeded_and_without_side_effects():
    data = random_data(120, 80, 6, 4, seed=2)
    model = dropout_model(0.5, bn=True, seed=3)
    model.train()
    net = net_of(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(123)
    rng_before = torch.get_rng_state()
    a = mc_dropout_probe(net, data, 20, 150, 7, 2)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert all(m.training for m in model.modules())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert a == mc_dropout_probe(net, data, 20, 150, 7, 2)
    assert a != mc_dropout_probe(net, data, 20, 150, 8, 2)
    assert a["examples"] == 150 and a["passes"] == 20
    s = a["summary"]
    assert s["meanMutualInformation"]["test"] > 0 and s["meanVariationRatio"]["clean"] > 0
    assert s["eceOn"] == "test" and sum(b["count"] for b in a["reliability"]) == sum(a["entropyHistogram"]["test"])
    hist = a["entropyHistogram"]
    assert sum(hist["clean"]) + sum(hist["corrupted"]) + sum(hist["test"]) == 150
    assert len(a["mostUncertain"]) == 20 and len(a["activeLearning"]) == 50
    ent = [u["entropy"] for u in a["mostUncertain"]]
    assert ent == sorted(ent, reverse=True)
    scores = [r["score"] for r in a["activeLearning"]]
    assert scores == sorted(scores, reverse=True) and max(scores) <= 1.0


def test_batch_norm_stays_in_inference_mode_during_mc_passes():
    """With dropout rate 0 the MC path equals the eval pass only if batch norm uses its
    running statistics (batch statistics would differ with a non-trivial running state)."""
    data = random_data(40, 20, 6, 4, seed=4)
    model = dropout_model(0.0, bn=True)
    bn = model.layers[2]
    with torch.no_grad():
        bn.running_mean.fill_(3.0)
        bn.running_var.fill_(9.0)
    net = net_of(model)
    probs = mc_probabilities(net, data.x, 3, 1, include_zero_rate=True)
    assert np.allclose(probs[0], eval_probabilities(net, data.x), atol=1e-6)


def test_most_uncertain_carries_the_images():
    r = np.random.default_rng(0)
    x = r.random((30, 6)).astype(np.float32)
    data = eval_data(x[:20], r.integers(0, 4, 20), np.zeros(20, bool), x[20:], r.integers(0, 4, 10))
    p = mc_dropout_probe(net_of(dropout_model(0.5)), data, 5, 30, 0, 0, image=(3, 2))
    for u in p["mostUncertain"]:
        row = u["index"] + (data.n_train if u["split"] == "test" else 0)
        assert u["image"]["width"] == 3 and u["image"]["height"] == 2
        assert u["image"]["pixels"] == [float(v) for v in x[row]]
    assert p["summary"]["meanEntropy"]["corrupted"] is None


def test_mc_stats_by_hand():
    # Two passes that disagree completely on one example: H(mean) = ln 2, E[H] = 0.
    probs = np.array([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=np.float32)
    s = mc_stats(probs)
    assert np.isclose(s["predictiveEntropy"][0], np.log(2)) and s["expectedEntropy"][0] == 0
    assert np.isclose(s["mutualInformation"][0], np.log(2))
    assert s["variationRatio"][0] == 0.5 and np.isclose(s["variance"][0], 0.25)
    assert s["predicted"][0] == 0 and s["confidence"][0] == 0.5
