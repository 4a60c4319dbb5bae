"""The labelErrors probe on the torch side: the pure scores and metrics on hand examples (the
same ones as test/unit/engine/probes/labelErrors.test.ts), the checkpoint handling, and the
probe inside the engine's training loop."""
from __future__ import annotations

import copy
import math
import threading
from typing import Any, Dict, List

import numpy as np
import pytest
import torch

from datasets import experiment, mlp, start_command, write_meta, write_split
from reglens.engine.probes.label_errors import (
    LabelErrorTracker,
    aum_scores,
    auroc,
    confident_learning,
    forgetting_scores,
    label_errors_payload,
    rank_by_score,
    ranking_metrics,
    small_loss_scores,
    top_examples,
)
from reglens.engine.probes.label_errors_run import LabelErrorsRun, margins_of
from reglens.engine.train import train

CL_LABELS = np.array([0, 0, 0, 1, 1, 2])
CL_PROBS = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.85, 0.05], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)


def test_auroc_of_perfect_inverse_constant_and_tied_rankings():
    truth = np.array([1, 1, 0, 0, 0])
    assert auroc(np.array([5, 4, 3, 2, 1]), truth) == 1
    assert auroc(np.array([1, 2, 3, 4, 5]), truth) == 0
    assert auroc(np.full(5, 7.0), truth) == 0.5
    assert auroc(np.array([1, 1, 0]), np.array([1, 0, 0])) == 0.75
    assert auroc(np.array([1, 2]), np.array([0, 0])) is None


def test_precision_recall_at_k_and_the_pr_curve_match_a_hand_ranking():
    scores, truth = np.array([0.9, 0.7, 0.2, 0.8, 0.1]), np.array([1, 1, 0, 0, 1])
    assert list(rank_by_score(scores)) == [0, 3, 1, 2, 4]
    assert list(rank_by_score(np.array([1, 2, 2, 1]))) == [1, 2, 0, 3]
    m = ranking_metrics(scores, truth)
    assert m["k"] == 3 and m["precisionAtK"] == pytest.approx(2 / 3) and m["recallAtK"] == pytest.approx(2 / 3)
    assert m["averagePrecision"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert m["pr"] == {"k": [1, 2, 3, 4, 5], "precision": pytest.approx([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5]), "recall": pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 1])}
    big = ranking_metrics(-np.arange(1000.0), (np.arange(1000) < 100).astype(int))
    assert len(big["pr"]["k"]) == 100 and big["pr"]["k"][-1] == 1000 and big["precisionAtK"] == 1 and big["auroc"] == 1


def test_confident_learning_on_the_hand_example():
    cl = confident_learning(CL_PROBS, CL_LABELS, 3)
    f = CL_PROBS.astype(np.float64)
    assert cl.thresholds[0] == pytest.approx((f[0, 0] + f[1, 0] + f[2, 0]) / 3, abs=1e-12)
    assert cl.thresholds[1] == pytest.approx((f[3, 1] + f[4, 1]) / 2, abs=1e-12)
    assert cl.joint.tolist() == [[2, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert cl.flagged.tolist() == [False, False, True, False, False, False]
    assert rank_by_score(cl.scores)[0] == 2
    none = confident_learning(np.array([[0.2, 0.8], [0.9, 0.1]], dtype=np.float32), np.array([0, 0]), 2)
    assert math.isnan(none.thresholds[1]) and none.joint.tolist() == [[1, 0], [0, 0]]


def test_forgetting_aum_and_small_loss():
    t = LabelErrorTracker(np.array([0, 0, 0]))
    preds = [[0, 0, 1], [1, 0, 1], [0, 0, 1], [1, 0, 1]]
    margins = [[1, 2, -1], [-1, 2, -2], [1, 4, -3], [-3, 4, -2]]
    for p, m in zip(preds, margins):
        t.update(np.array(p), np.array(m, dtype=np.float32))
    assert t.forgets.tolist() == [2, 0, 0]
    assert forgetting_scores(t.forgets, t.ever_correct, t.epochs).tolist() == [2, 0, 5]
    assert aum_scores(t.margin_sum, t.epochs).tolist() == [0.5, -3, 2]
    with pytest.raises(ValueError, match="expected 3 predictions"):
        t.update(np.array([0]), np.array([1.0]))
    assert small_loss_scores(np.array([[0.25, 0.75]]), np.array([1]))[0] == pytest.approx(-math.log(0.75))


def test_margins_of_logits():
    pred, margin = margins_of(torch.tensor([[1.0, 3.0, 2.0], [5.0, -1.0, 0.0]]), torch.tensor([2, 0]))
    assert pred.tolist() == [1, 0] and margin.tolist() == [-1, 5]


def test_payload_matches_the_ts_hand_case(event_validator):
    t = LabelErrorTracker(CL_LABELS)
    t.update(np.array([0, 0, 1, 1, 0, 2]), np.array([2, 2, -1, 2, -0.5, 2], dtype=np.float32))
    p = label_errors_payload(["aum", "forgetting", "smallLoss", "confidentLearning", "mcDropout"], t, CL_LABELS, 3, np.arange(10, 16), np.array([0, 0, 1, 0, 0, 0]), "bestTestAccuracy", 1, CL_PROBS, "no dropout")
    assert p["suggested"] == [0, 0, 1, 1, 1, 2] and p["corrupted"] == [0, 0, 1, 0, 0, 0]
    cl = next(m for m in p["methods"] if m["method"] == "confidentLearning")
    assert cl["flagged"] == 1 and cl["metrics"]["precisionAtK"] == 1 and cl["metrics"]["auroc"] == 1
    assert p["methods"][-1] == {"method": "mcDropout", "unavailable": "no dropout"}
    event_validator.validate({"type": "probe", "epoch": 1, "probe": p})
    assert 2 in top_examples(p, 2)
    blind = label_errors_payload(["aum"], t, CL_LABELS, 3, np.arange(6), np.zeros(6), "last", 1, CL_PROBS, "x")
    assert "corrupted" not in blind and "metrics" not in blind["methods"][0]


def test_the_best_epochs_weights_give_the_probabilities_and_the_final_ones_come_back():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(4, 2))
    x = torch.tensor([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]])
    labels = np.array([0, 1, 1])
    spec = {"methods": ["smallLoss", "mcDropout"], "topK": 3, "checkpoint": "bestTestAccuracy", "mcPasses": 3}
    run = LabelErrorsRun(spec, model, None, x, labels, np.array([False, True, False]), np.arange(3), 2, None, 1)
    model.eval()
    with torch.no_grad():
        at_best = torch.softmax(model(x), -1).numpy()
    model.train()
    run.after_epoch(1, 0.9, np.array([0, 1, 1]), np.zeros(3, dtype=np.float32))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(-2)
    later = copy.deepcopy(model.state_dict())
    run.after_epoch(2, 0.5, np.array([0, 1, 1]), np.zeros(3, dtype=np.float32))
    rng_state = torch.get_rng_state()
    payload = run.finish(2)
    assert torch.equal(torch.get_rng_state(), rng_state) and model.training
    assert payload["checkpointEpoch"] == 1
    loss = payload["methods"][0]["scores"]
    assert loss == pytest.approx([-math.log(at_best[i, y]) for i, y in enumerate(labels)], abs=1e-6)
    mc = payload["methods"][1]["scores"]
    assert all(0 <= v <= 1 for v in mc)
    for k, v in model.state_dict().items():
        assert torch.equal(v, later[k])


def _run(cmd: Dict[str, Any]) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = []
    assert train(cmd, events.append, threading.Event()) == 0
    return events


def _write_blobs(folder: str, n_train: int = 300, n_test: int = 100, classes: int = 3, noise: float = 0.3, seed: int = 2) -> None:
    """Gaussian blobs in 6-D, one per class, with symmetric label noise on the training split."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, size=(classes, 6))

    def make(count: int):
        y = rng.integers(classes, size=count)
        return (centres[y] + rng.normal(0, 1, size=(count, 6))).astype(np.float32), y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    labels, corrupted = ytr.copy(), np.zeros(n_train, dtype=np.uint8)
    for i in rng.choice(n_train, size=round(noise * n_train), replace=False):
        labels[i] = (labels[i] + 1 + rng.integers(classes - 1)) % classes
        corrupted[i] = 1
    write_split(folder, "train", xtr, labels, ytr, np.arange(n_train), corrupted)
    write_split(folder, "test", xte, yte, yte, np.arange(n_test))
    write_meta(folder, kind="csv", train=n_train, test=n_test, inputSize=6, classes=classes, noiseRate=noise, corruptedCount=int(corrupted.sum()))


def test_the_probe_in_a_noisy_training_run(tmp_path, event_validator):
    d = str(tmp_path)
    _write_blobs(d)
    layers = mlp(3, 64)
    layers.insert(2, {"type": "dropout", "rate": 0.2})
    exp = experiment(layers, dataset={"kind": "csv", "path": "blobs.csv"}, epochs=30, batchSize=32)
    exp["probes"] = {"labelErrors": {"methods": ["aum", "forgetting", "smallLoss", "confidentLearning", "mcDropout"], "topK": 5, "checkpoint": "bestTestAccuracy", "mcPasses": 4}}
    events = _run(start_command(exp, d))
    for e in events:
        event_validator.validate(e)
    assert not [e for e in events if e["type"] == "log" and e["level"] != "info"]
    probes = [e["probe"] for e in events if e["type"] == "probe"]
    assert [p["kind"] for p in probes] == ["labelErrors"]
    p = probes[0]
    n = p["examples"]
    assert n == 300 and p["epochsTracked"] == 30 and 1 <= p["checkpointEpoch"] <= 30 and "images" not in p
    assert [m["method"] for m in p["methods"]] == ["aum", "forgetting", "smallLoss", "confidentLearning", "mcDropout"]
    for m in p["methods"]:
        assert len(m["scores"]) == n and m["metrics"]["k"] == sum(p["corrupted"]) == 90
        assert m["metrics"]["auroc"] > 0.8, (m["method"], m["metrics"]["auroc"])


def test_the_recorder_ranks_a_users_noisy_labels_and_leaves_the_model_as_trained(tmp_path, event_validator):
    import reglens

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(3, 6, generator=g) * 2
    y_true = torch.randint(3, (400,), generator=g)
    x = centres[y_true] + torch.randn(400, 6, generator=g)
    mask = torch.rand(300, generator=g) < 0.3
    y = torch.where(mask, (y_true[:300] + 1) % 3, y_true[:300])
    model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    run = reglens.init(name="blobs, 30% noisy", runs_dir=str(tmp_path), epochs=25)
    run.watch(model, probe=reglens.ProbeSet(x[:300], y, corrupted=mask, x_test=x[300:], y_test=y_true[300:]), every=100, label_errors={"top_k": 4, "mc_passes": 4})
    for epoch in range(25):
        model.train()
        for s in range(0, 300, 50):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[s : s + 50]), y[s : s + 50]).backward()
            opt.step()
        run.log_epoch(epoch, loss=0.5)
    final = copy.deepcopy(model.state_dict())
    run.finish()
    for k, v in model.state_dict().items():
        assert torch.equal(v, final[k]), k
    with open(f"{run.dir}/events.jsonl", encoding="utf-8") as f:
        import json

        events = [json.loads(line) for line in f]
    for e in events:
        event_validator.validate(e)
    probes = [e for e in events if e["type"] == "probe"]
    assert [p["probe"]["kind"] for p in probes] == ["labelErrors"] and probes[0]["seconds"] >= 0
    p = probes[0]["probe"]
    assert p["examples"] == 300 and p["epochsTracked"] == 25 and p["checkpoint"] == "bestTestAccuracy"
    assert p["corrupted"] == [int(v) for v in mask]
    for m in p["methods"]:
        assert m["metrics"]["auroc"] > 0.8, (m["method"], m["metrics"]["auroc"])
    with pytest.raises(TypeError, match="unexpected key"):
        run.watch(model, probe=reglens.ProbeSet(x[:300], y), label_errors={"topk": 3})
