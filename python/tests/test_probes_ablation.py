"""Ablation scores and masked accuracies (ablation.py) on hand-built and random models."""
import numpy as np
import pytest
import torch

from probe_fixtures import FixtureModel, act, carrier_model, dense, net_of, random_data
from reglens.engine.probes.ablation import ablation_scores, first_argmax_is, hidden_and_logits, masked_hits, prefix_hits


@pytest.mark.parametrize("extra_layer", [False, True])
def test_the_unit_carrying_only_corrupted_examples_scores_highest(extra_layer):
    model, data = carrier_model(extra_layer=extra_layer)
    net = net_of(model)
    layer = net.hidden[-1]
    a = ablation_scores(net, layer, data)
    assert a.strategy == "rank1"
    assert a.base == {"cleanTrain": 1.0, "corruptedTrain": 1.0, "test": 1.0}
    assert a.corrupted_drop == [1.0, 0.0, 0.0]
    assert a.clean_drop == [0.0, 0.0, 1.0]
    assert a.test_drop == [0.0, 0.0, 1.0]
    assert a.score == [1.0, 0.0, -1.0]


def test_a_layer_not_feeding_the_output_uses_masked_passes():
    model, data = carrier_model(extra_layer=True)
    net = net_of(model)
    a = ablation_scores(net, net.hidden[0], data)
    assert a.strategy == "batched"
    assert a.score == [1.0, 0.0, -1.0]
    with pytest.raises(ValueError, match="rank-1 ablation needs a layer feeding the output; dense_0"):
        ablation_scores(net, net.hidden[0], data, "rank1")


def test_without_corrupted_examples_the_score_is_minus_the_test_drop():
    model, data = carrier_model(n_corrupted=0)
    a = ablation_scores(net_of(model), net_of(model).hidden[0], data)
    assert a.corrupted_drop == [0.0, 0.0, 0.0]
    assert a.score == [-d for d in a.test_drop] and a.test_drop[2] == 1.0


def test_rank1_batched_and_loop_agree_on_a_random_model():
    data = random_data(150, 60, 8, 5, seed=3)
    model = FixtureModel([dense(24), act("relu"), {"type": "dropout", "rate": 0.3}, dense(5)], 8, seed=4)
    net = net_of(model)
    layer = net.hidden[0]
    assert layer.feeds_output
    results = [ablation_scores(net, layer, data, s) for s in ("rank1", "batched", "loop")]
    for r in results[1:]:
        assert r.score == results[0].score and r.test_drop == results[0].test_drop
    assert any(v != 0 for v in results[0].score)


def test_masked_hits_equal_a_brute_force_masked_forward():
    data = random_data(80, 40, 6, 4, seed=5)
    model = FixtureModel([dense(10), act("tanh"), dense(7), act("gelu"), dense(4)], 6, seed=6)
    net = net_of(model)
    layer = net.hidden[0]
    masks = (np.random.default_rng(0).random((5, 10)) > 0.4).astype(np.float32)
    hits = masked_hits(net, layer, data, masks)
    for m in range(5):
        with torch.no_grad():
            h = model.run(data.x, 0, layer.position) * torch.as_tensor(masks[m])
            pred = model.run(h, layer.position, len(model.specs)).argmax(1).numpy()
        ok = pred == data.labels
        expect = [int(ok[data.group == g].sum()) for g in range(3)]
        assert hits[m].tolist() == expect


def test_prefix_hits_feeding_the_output_equal_prefix_masks():
    data = random_data(100, 50, 5, 3, seed=8)
    model = FixtureModel([dense(12), act("relu"), dense(3)], 5, seed=9)
    net = net_of(model)
    layer = net.hidden[0]
    swept = prefix_hits(net, layer, data)
    masked = masked_hits(net, layer, data, np.tril(np.ones((12, 12), np.float32)))
    assert swept.tolist() == masked.tolist()


def test_ties_go_to_the_first_class():
    v = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 1.0, 3.0]])
    assert first_argmax_is(v, torch.tensor([0, 1, 0])).tolist() == [True, True, True]
    assert first_argmax_is(v, torch.tensor([1, 2, 2])).tolist() == [False, False, False]


def test_probes_restore_modes_and_leave_weights_alone():
    data = random_data(40, 20, 4, 3, seed=1)
    model = FixtureModel([dense(6), act("relu"), {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5}, dense(3)], 4)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    net = net_of(model)
    ablation_scores(net, net.hidden[0], data)
    hidden_and_logits(net, net.hidden[0], data)
    assert all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
