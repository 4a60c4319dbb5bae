"""The torch half of the cross-engine conformance test (test/unit/engine/conformance.test.ts,
issue 12 item 6). Not a pytest module: the mocha test writes a job (JSON + .npy files in a
temporary folder), runs `python conformance_driver.py job.json` with PYTHONPATH=python, and
compares what this writes back with what the TF.js engine computed in-process.

Job keys (all optional):
- training: [{name, dataDir, experiment, orders, mutant}] -- trains `experiment` with the
  engine's own loop (reglens.engine.train._Run) on the hand-over folder `dataDir` (written by
  src/engine/data/datasetNpy.ts, initial weights included), each epoch visiting the rows in
  the order of orders.npy [epochs, n] (the TS loop's shuffles), so both engines take the same
  steps on the same mini-batches. `mutant` deliberately breaks one semantic (a negative control:
  the test checks that its tolerance would catch that bug).
- probes: [{name, layers, inputSize, image, weights, data, modularP, memorization,
  pruningSteps, mc}] -- every deterministic probe payload from the given weights (TF.js names).
- dynamics: [[point, ...], ...] -- detect_dynamics of each series.
- forgetRates: [[T, tau, Tk], ...] -- co-teaching's R(T).
- smallLoss: [{losses, rate}] -- co-teaching's small-loss selection.
- labelErrors: [{labels, classes, source, corrupted, preds, margins, probs, mcGiven, methods,
  checkpointEpoch}] -- the labelErrors payload (label_errors.py) from the same per-epoch
  predictions and margins and the same checkpoint probabilities as the TS side.
- laws: {nested, cutmix, dropout} -- the TF.js engine's draws, judged by stat_laws.py (the
  functions the pytest suite applies to torch's draws); nested also draws torch's k for a
  two-sample test.
Writes <out>/result.json and the trained weights as <out>/<case>/<TF.js name>.npy.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from reglens.engine.data import load_dataset
from reglens.engine.model import BatchNorm, ImageShape, build_model, contract_name
from reglens.engine.probes.ablation import EvalData
from reglens.engine.probes.dynamics import detect_dynamics
from reglens.engine.probes.label_errors import LabelErrorTracker, label_errors_payload
from reglens.engine.probes.mc_dropout import eval_probabilities, mc_payload, mc_probabilities
from reglens.engine.probes.network import ProbeNetwork
from reglens.engine.probes.payloads import memorization_scores, nested_ordering_layer, nested_ordering_probe, pruning_probe
from reglens.engine.probes.prng import sample_rows
from reglens.engine.probes.pruned_model import weight_names
from reglens.engine.regularizers import forget_rate, small_loss_indices
from reglens.engine.train import _Run
from reglens.nn import NestedDropout
from stat_laws import (
    Z_BOUND,
    beta_cdf,
    beta_moment_z,
    binomial_dispersion,
    chi_square_fit,
    chi_square_two_sample,
    cutmix_lambda_moments,
    ks_bound,
    ks_distance,
    nested_law,
    z_mean,
    z_rate,
)

Json = Dict[str, Any]


class _ConformanceRun(_Run):
    """The engine's run with the TS engine's batch order and, for negative controls, one
    semantic changed after the run is built."""

    def __init__(self, command: Json, orders: np.ndarray, mutant: Optional[str], emit: Any) -> None:
        super().__init__(command, load_dataset(command["dataDir"]), torch.device("cpu"), "cpu", emit, threading.Event())
        self.orders = orders
        self.mutant = mutant

    def _epoch_order(self, epoch: int, n: int) -> torch.Tensor:
        order = self.orders[epoch - 1]
        assert order.shape == (n,), f"orders.npy row {epoch - 1} has {order.shape}, the training split {n} rows"
        return torch.from_numpy(order.astype(np.int64))

    def _optimizer(self, model: Any) -> torch.optim.Optimizer:
        opt = super()._optimizer(model)
        if self.mutant == "adamEps1e-8":  # torch's default epsilon instead of TF.js's 1e-7
            for g in opt.param_groups:
                g["eps"] = 1e-8
        return opt

    def _build(self) -> None:
        super()._build()
        m = self.mutant
        if m is None or m == "adamEps1e-8":
            return
        if m == "noDecay":
            self.decay = 1.0
        elif m == "halfL2":  # the (lambda / 2) ||W||^2 convention
            self.l2 /= 2
        elif m == "smoothOverOthers":  # eps / (K - 1) to the other classes instead of eps / K to all
            k = self.data.classes
            self.eps = self.eps * k / (k - 1)
        elif m == "torchMomentum":  # torch's BatchNorm momentum convention: r <- (1 - m) r + m batch
            for layer in self.model.modules():
                if isinstance(layer, BatchNorm):
                    layer.momentum = 1 - layer.momentum
        else:
            raise ValueError(f"unknown mutant {m!r}")


def _save_weights(folder: str, specs: List[Json], weights: Dict[str, np.ndarray]) -> List[str]:
    """Writes the weights under their TF.js engine names (the contract's translation)."""
    names = []
    for tfjs, contract in weight_names(specs):
        path = os.path.join(folder, f"{tfjs}.npy")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, np.ascontiguousarray(weights[contract], dtype=np.float32))
        names.append(tfjs)
    return names


def run_training(case: Json, out: str) -> Json:
    events: List[Json] = []
    command = {"type": "start", "experiment": case["experiment"], "backend": "torch", "device": "cpu", "dataDir": case["dataDir"]}
    r = _ConformanceRun(command, np.load(case["orders"]), case.get("mutant"), events.append)
    code = r.run()
    failed = [e for e in events if e["type"] == "failed"]
    if code != 0 or failed:
        raise RuntimeError(f"training case {case['name']} failed: {failed}")
    specs = case["experiment"]["model"]["layers"]
    names = _save_weights(os.path.join(out, case["name"]), specs, r.model.get_weights())
    return {"weights": names, "losses": [e["loss"] for e in events if e["type"] == "epoch"], "probes": [e["probe"] for e in events if e["type"] == "probe"]}


def run_label_errors(case: Json) -> Json:
    labels = np.asarray(case["labels"], dtype=np.int64)
    tracker = LabelErrorTracker(labels)
    for pred, margin in zip(case["preds"], case["margins"]):
        tracker.update(np.asarray(pred), np.asarray(margin, dtype=np.float32))
    k = int(case["classes"])
    mc = case["mcGiven"]
    return label_errors_payload(
        case["methods"], tracker, labels, k, np.asarray(case["source"]), np.asarray(case["corrupted"]), "bestTestAccuracy", int(case["checkpointEpoch"]),
        np.asarray(case["probs"], dtype=np.float32).reshape(len(labels), k), mc if isinstance(mc, str) else np.asarray(mc, dtype=np.float32),
    )


def _array(folder: str, name: str) -> np.ndarray:
    return np.load(os.path.join(folder, f"{name}.npy"))


def run_probes(case: Json) -> Json:
    image = ImageShape(**case["image"]) if case.get("image") else None
    model = build_model(case["layers"], int(case["inputSize"]), None, image, torch.Generator().manual_seed(0))
    model.set_weights({contract_name(n): _array(case["weights"], n) for n in case["weightNames"]})
    model.eval()
    d = case["data"]
    data = EvalData.build(
        torch.from_numpy(_array(d, "x_train")),
        torch.from_numpy(_array(d, "x_test")),
        _array(d, "train_labels"),
        _array(d, "corrupted").astype(bool),
        _array(d, "test_labels"),
    )
    net = ProbeNetwork(model)
    p = case.get("modularP")
    result: Json = {"memorization": []}
    first = None
    for ask in case["memorization"]:
        scores, payload = memorization_scores(net, data, p, ask["want"], ask.get("layer"))
        result["memorization"].append(payload)
        first = first or scores
    result["pruning"] = pruning_probe(net, first, data, int(case["pruningSteps"]))
    result["nestedOrdering"] = nested_ordering_probe(net, nested_ordering_layer(net, None), data)
    mc = case.get("mc")
    if mc:
        # Rate 0: every pass is the deterministic one, so the payload is a pure function of
        # the weights on both engines (the TS side adapts its network the same way).
        rows = sample_rows(int(mc["seed"]), "mc-sample", len(data.labels), int(mc["examples"]))
        xs = data.x[torch.as_tensor(rows, dtype=torch.int64)]
        probs = mc_probabilities(net, xs, int(mc["passes"]), int(mc["seed"]), include_zero_rate=True)
        img = (image.width, image.height) if image else None
        result["mcDropout"] = mc_payload(data, rows, probs, eval_probabilities(net, xs), int(mc["round"]), img)
    return result


def _nested_counts(spec: Json) -> np.ndarray:
    """k of the torch NestedDropout layer (the engine's own, its own generator)."""
    units = int(spec["units"])
    layer = NestedDropout(spec["distribution"], spec["sigma"], spec["rho"], units=units, generator=torch.Generator().manual_seed(int(spec["seed"])))
    return np.bincount([layer.sample_k() for _ in range(int(spec["draws"]))], minlength=units + 1)[1:]


def judge_nested(spec: Json) -> Json:
    """The TS sampler's and torch's k against the exact law, against each other, and the TS
    draws against a nearby wrong law (the test must reject it)."""
    units, dist = int(spec["units"]), spec["distribution"]
    law = nested_law(units, dist, spec["sigma"], spec["rho"])
    wrong = nested_law(units, dist, spec["sigma"] * 1.1, spec["rho"]) if dist == "halfGaussian" else nested_law(units, dist, spec["sigma"], spec["rho"] + 0.02)
    torch_counts = _nested_counts(spec)
    return {
        "distribution": dist,
        "tsFit": chi_square_fit(spec["tsCounts"], law),
        "torchFit": chi_square_fit(torch_counts, law),
        "twoSample": chi_square_two_sample(spec["tsCounts"], torch_counts),
        "wrongFit": chi_square_fit(spec["tsCounts"], wrong),
    }


def judge_cutmix(spec: Json) -> Json:
    m = cutmix_lambda_moments(int(spec["height"]), int(spec["width"]), float(spec["beta"]))
    return {
        "beta": spec["beta"],
        "ks": ks_distance(spec["sampled"], beta_cdf(float(spec["beta"]))),
        "ksBound": ks_bound(len(spec["sampled"])),
        "moments": beta_moment_z(spec["sampled"], float(spec["beta"])),
        "z": z_mean(spec["lam"], m["mean"], m["variance"]),
        "zUnclipped": z_mean(spec["lam"], m["unclippedMean"], m["variance"]),
        "zBound": Z_BOUND,
    }


def judge_dropout(spec: Json) -> Json:
    keep = 1 - float(spec["rate"])
    rows, width = int(spec["rowsN"]), int(spec["width"])
    return {
        "rate": spec["rate"],
        "z": z_rate(int(sum(spec["rowCounts"])), rows * width, keep),
        "rows": binomial_dispersion(spec["rowCounts"], width, keep),
        "columns": binomial_dispersion(spec["columnCounts"], rows, keep),
    }


def main(job_path: str) -> None:
    torch.set_num_threads(1)
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    out = job["out"]
    laws = job.get("laws", {})
    result: Json = {
        "torch": torch.__version__,
        "training": {c["name"]: run_training(c, out) for c in job.get("training", [])},
        "probes": {c["name"]: run_probes(c) for c in job.get("probes", [])},
        "dynamics": [detect_dynamics(points) for points in job.get("dynamics", [])],
        "labelErrors": [run_label_errors(c) for c in job.get("labelErrors", [])],
        "forgetRates": [forget_rate(int(t), float(tau), int(tk)) for t, tau, tk in job.get("forgetRates", [])],
        "smallLoss": [small_loss_indices(torch.tensor(c["losses"], dtype=torch.float64), float(c["rate"])).tolist() for c in job.get("smallLoss", [])],
        "laws": {
            "nested": [judge_nested(s) for s in laws.get("nested", [])],
            "cutmix": [judge_cutmix(s) for s in laws.get("cutmix", [])],
            "dropout": [judge_dropout(s) for s in laws.get("dropout", [])],
        },
    }
    with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, allow_nan=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: conformance_driver.py job.json")
    main(sys.argv[1])
