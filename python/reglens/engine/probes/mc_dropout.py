"""Monte Carlo dropout uncertainty (port of src/engine/probes/mcDropout.ts; METHODS §3).

Only the dropout layers are active (batch norm and the rest stay in inference mode,
METHODS §10), with masks drawn from the probe's own torch.Generator. The part before the
first dropout layer runs once per chunk of examples; its output is tiled T times so all
passes go through the rest of the network as one stack.

The examples scored are drawn as the TS engine draws them (prng.ts stream 'mc-sample'),
so both engines score the same rows. The payload is assembled from the T probability
matrices by `mc_payload`, a pure function: from equal probabilities both engines give
equal payloads (MC dropout with rate 0 is deterministic, item 6b).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from .ablation import CLEAN, CORRUPTED, TEST, EvalData
from .network import ProbeNetwork, inference
from .prng import derive_rng, sample_rows
from .stats import ece, histogram, min_max

Payload = Dict[str, Any]

NO_DROPOUT_MESSAGE = (
    "The model has no dropout layer with rate > 0: every Monte Carlo pass would be identical, giving zero variance "
    "and zero mutual information. Add a dropout layer (for example after the first hidden layer) to measure uncertainty."
)

_SPLITS = ("clean", "corrupted", "test")


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Natural-log entropy, 0 log 0 = 0."""
    safe = np.where(p > 0, p, 1.0)
    return -(np.where(p > 0, p * np.log(safe), 0.0)).sum(axis)


def mc_stats(probs: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-example MC statistics from probabilities [T, n, C] (float64 arithmetic).

    MI is clamped at 0: H[p_bar] >= E[H[p_t]] by concavity, a negative value is rounding.
    """
    passes, n, classes = probs.shape
    p32 = np.asarray(probs, dtype=np.float32)
    p = p32.astype(np.float64)
    mean = p.sum(0) / passes
    sq = (p * p).sum(0)
    expected = _entropy(p).sum(0) / passes
    predictive = _entropy(mean)
    votes = np.zeros((n, classes), dtype=np.int64)
    winners = p32.argmax(-1)  # first maximal class of each pass
    for t in range(passes):
        votes[np.arange(n), winners[t]] += 1
    predicted = mean.argmax(-1)
    return {
        "predictiveEntropy": predictive,
        "expectedEntropy": expected,
        "mutualInformation": np.maximum(0.0, predictive - expected),
        "variance": np.maximum(0.0, (sq / passes - mean * mean).sum(-1) / classes),
        "variationRatio": 1 - votes.max(-1) / passes,
        "predicted": predicted,
        "confidence": mean[np.arange(n), predicted],
    }


@inference
def mc_probabilities(net: ProbeNetwork, x: torch.Tensor, passes: int, seed: int, include_zero_rate: bool = False) -> np.ndarray:
    """T stochastic probability matrices [T, n, C] (float32) for the rows of x.

    include_zero_rate lets a model whose dropout rates are all 0 run the MC path (the
    deterministic check); the probe itself reports such models as unavailable.
    """
    start = net.mc_start(include_zero_rate)
    if start is None:
        raise ValueError(NO_DROPOUT_MESSAGE)
    rng = derive_rng(seed, "mc-dropout")
    generator = net.generator(int(rng() * 2**31))
    n = x.shape[0]
    width = net.max_width(x.shape[1])
    outer = net.rows_per_chunk(width)
    inner = max(1, outer // passes)
    out: List[np.ndarray] = []
    dev = net.device
    for s in range(0, n, outer):
        # The deterministic prefix once per chunk of examples, then T tiled passes of the rest.
        prefix = net.run(x[s : s + outer].to(dev), 0, start)
        for i in range(0, prefix.shape[0], inner):
            h0 = prefix[i : i + inner]
            c = h0.shape[0]
            # Row t * c + i is pass t of example i: one mask draw covers all passes.
            tiled = h0.repeat(passes, *([1] * (h0.dim() - 1)))
            probs = torch.softmax(net.mc_rest(tiled, start, generator), -1)
            out.append(probs.reshape(passes, c, -1).float().cpu().numpy())
    return np.concatenate(out, 1)


@inference
def eval_probabilities(net: ProbeNetwork, x: torch.Tensor) -> np.ndarray:
    """Inference-mode softmax [n, C] (float32)."""
    logits = net.map_rows(net.logits, x, net.max_width(x.shape[1]))
    return torch.softmax(logits, -1).float().cpu().numpy()


def _mean_by(values: np.ndarray, group: np.ndarray) -> Dict[str, Optional[float]]:
    def m(g: int) -> float:
        sel = values[group == g]
        return float(sel.sum() / len(sel)) if len(sel) else 0.0

    return {"clean": m(CLEAN), "corrupted": m(CORRUPTED) if (group == CORRUPTED).any() else None, "test": m(TEST)}


def mc_payload(
    data: EvalData,
    rows: List[int],
    probs: np.ndarray,
    base_probs: np.ndarray,
    round_index: int,
    image: Optional[Tuple[int, int]] = None,
    top: int = 20,
) -> Payload:
    """The mcDropout payload from MC probabilities [T, n, C] and deterministic ones [n, C]
    of data's rows `rows`. image: (width, height) when rows are grayscale images."""
    passes = probs.shape[0]
    n = len(rows)
    stats = mc_stats(probs)
    base_entropy = _entropy(np.asarray(base_probs, dtype=np.float32).astype(np.float64))
    rows_a = np.asarray(rows, dtype=np.int64)
    group = data.group[rows_a]
    labels = data.labels[rows_a]

    def split_index(r: int) -> int:
        return r if r < data.n_train else r - data.n_train

    # Calibration on held-out examples against their (true) labels; every example only when
    # the sample has no test rows (training labels may be corrupted on purpose).
    test_rows = [i for i in range(n) if group[i] == TEST]
    calib = test_rows if test_rows else list(range(n))
    e, reliability = ece(
        [float(stats["confidence"][i]) for i in calib],
        [1.0 if stats["predicted"][i] == labels[i] else 0.0 for i in calib],
        15,
    )

    entropy = stats["predictiveEntropy"]
    by_entropy = sorted(range(n), key=lambda i: -entropy[i])[:top]
    most: List[Payload] = []
    for i in by_entropy:
        item: Payload = {
            "index": split_index(int(rows[i])),
            "split": _SPLITS[int(group[i])],
            "label": int(labels[i]),
            "predicted": int(stats["predicted"][i]),
            "entropy": float(entropy[i]),
            "mutualInformation": float(stats["mutualInformation"][i]),
            "variance": float(stats["variance"][i]),
            "variationRatio": float(stats["variationRatio"][i]),
        }
        if image:
            width, height = image
            pixels = data.x[int(rows[i])].reshape(-1)[: width * height]
            item["image"] = {"width": width, "height": height, "pixels": [float(v) for v in pixels.tolist()]}
        most.append(item)

    # STAR dynamic uncertainty (METHODS §3): U_t = lambda_t U_full + (1 - lambda_t) U_base,
    # lambda_t = 0.1 (t + 1), both min-max normalised over the pool; U_full = MC predictive
    # entropy, U_base = entropy of the deterministic pass, pool = the held-out rows.
    pool = test_rows if test_rows else list(range(n))
    lam = min(1.0, 0.1 * (round_index + 1))
    full = min_max([float(entropy[i]) for i in pool])
    base = min_max([float(base_entropy[i]) for i in pool])
    ranked = sorted(
        ({"index": split_index(int(rows[i])), "score": lam * full[k] + (1 - lam) * base[k]} for k, i in enumerate(pool)),
        key=lambda a: -a["score"],
    )[:50]

    return {
        "kind": "mcDropout",
        "passes": passes,
        "examples": n,
        "summary": {
            "meanEntropy": _mean_by(entropy, group),
            "meanMutualInformation": _mean_by(stats["mutualInformation"], group),
            "ece": e,
            "meanVariance": _mean_by(stats["variance"], group),
            "meanVariationRatio": _mean_by(stats["variationRatio"], group),
            "eceOn": "test" if test_rows else "all",
        },
        "entropyHistogram": histogram([float(v) for v in entropy], group),
        "mutualInformationHistogram": histogram([float(v) for v in stats["mutualInformation"]], group),
        "reliability": reliability,
        "mostUncertain": most,
        "activeLearning": ranked,
    }


def mc_dropout_probe(
    net: ProbeNetwork,
    data: EvalData,
    passes: int,
    examples: int,
    seed: int,
    round_index: int,
    image: Optional[Tuple[int, int]] = None,
    top: int = 20,
) -> Payload:
    """The mcDropout probe: `examples` rows sampled (seeded) from train and test together,
    `passes` MC passes each; `unavailable` when the model has no dropout with rate > 0."""
    if not net.has_dropout:
        return {"kind": "mcDropout", "passes": passes, "examples": 0, "unavailable": NO_DROPOUT_MESSAGE}
    rows = sample_rows(seed, "mc-sample", len(data.labels), examples)
    xs = data.x[torch.as_tensor(rows, dtype=torch.int64)]
    probs = mc_probabilities(net, xs, passes, seed)
    return mc_payload(data, rows, probs, eval_probabilities(net, xs), round_index, image, top)
