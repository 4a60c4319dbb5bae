"""Training dynamics read off the per-epoch series (port of src/engine/probes/dynamics.ts).

- Unlearning (Doshi et al. 2024, METHODS §1): the epoch reported is the peak of
  corrupted-train accuracy before its 5-epoch moving average has fallen 10 points below
  its running maximum (a steady fall, not a one-epoch dip).
- Multi-epoch degradation (Xue et al. 2023, METHODS §8): the epoch after the minimum of
  the smoothed test loss, once the smoothed test loss has risen 2% above that minimum
  while the smoothed training loss is below its value at the minimum.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

_WINDOW = 5
_UNLEARN_DROP = 0.1
_RISE = 0.02


def _trailing_mean(v: Sequence[float]) -> List[float]:
    out: List[float] = []
    total = 0.0
    for i, x in enumerate(v):
        total += x
        if i >= _WINDOW:
            total -= v[i - _WINDOW]
        out.append(total / min(i + 1, _WINDOW))
    return out


def detect_dynamics(points: Sequence[Dict[str, Any]]) -> Dict[str, Optional[int]]:
    """points: {epoch, trainLoss, testLoss, corruptedTrain (None without corrupted rows)}."""
    unlearning: Optional[int] = None
    corrupted = [p["corruptedTrain"] for p in points]
    if corrupted and all(c is not None for c in corrupted):
        s = _trailing_mean(corrupted)
        run_max = float("-inf")
        for i, v in enumerate(s):
            run_max = max(run_max, v)
            if v <= run_max - _UNLEARN_DROP:
                peak = 0
                for j in range(1, i + 1):
                    if corrupted[j] > corrupted[peak]:
                        peak = j
                unlearning = int(points[peak]["epoch"])
                break
    degradation: Optional[int] = None
    test = _trailing_mean([p["testLoss"] for p in points])
    train = _trailing_mean([p["trainLoss"] for p in points])
    min_at = 0
    for i in range(1, len(test)):
        if test[i] < test[min_at]:
            min_at = i
        elif test[i] > test[min_at] * (1 + _RISE) and train[i] < train[min_at] and min_at + 1 < len(points):
            degradation = int(points[min_at + 1]["epoch"])
            break
    return {"unlearningEpoch": unlearning, "degradationEpoch": degradation}


def dynamics_payload(points: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """The dynamics probe: the two epochs and the series they were derived from."""
    return {
        "kind": "dynamics",
        **detect_dynamics(points),
        "series": {
            "epoch": [int(p["epoch"]) for p in points],
            "trainLoss": [float(p["trainLoss"]) for p in points],
            "testLoss": [float(p["testLoss"]) for p in points],
            "corruptedTrain": [None if p["corruptedTrain"] is None else float(p["corruptedTrain"]) for p in points],
        },
    }
