"""Paired comparison in one process for `npm run bench`: an epoch of the torch engine's own
training loop (reglens.engine.train._Run: the same _train_epoch and _evaluate that
`python -m reglens.engine` runs) against an epoch of the hand-written peer (torch_epoch.Peer),
alternating epoch by epoch (who goes first alternates too), so that the load of a shared
machine falls on both alike. The ratio is the median of the per-pair ratios.

    PYTHONPATH=python /usr/bin/python3 bench/peer/engine_vs_peer.py --command CMD.json --model relu-mlp --pairs 30 --threads 1

CMD.json: a start command whose dataDir holds the hand-over (bench/bench.ts writes one per
model with torchBridge.prepareTorchRun / torchStartCommand). Prints one JSON object.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--command", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args()


ARGS = parse_args()
# OpenBLAS reads its thread count once, when torch loads it (see torch_epoch.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch_epoch import Peer  # noqa: E402

from reglens.engine.data import load_dataset  # noqa: E402
from reglens.engine.train import _Run  # noqa: E402


def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    with open(args.command, encoding="utf-8") as f:
        command = json.load(f)
    data = load_dataset(command["dataDir"])
    run = _Run(command, data, torch.device("cpu"), "cpu", lambda event: None, threading.Event())
    run._build()
    peer = Peer(args.model, int(command["experiment"]["training"]["batchSize"]))

    def engine_epoch(epoch: int):
        trained = run._train_epoch(epoch)
        assert trained is not None  # never cancelled here
        _, train_seconds, _ = trained
        t0 = time.perf_counter()
        run._evaluate()
        return train_seconds, train_seconds + time.perf_counter() - t0

    engine, hand = [], []
    for i in range(args.pairs + 1):
        if i % 2:
            e = engine_epoch(i + 1)
            p = peer.epoch()[:2]
        else:
            p = peer.epoch()[:2]
            e = engine_epoch(i + 1)
        if i:  # the first pair is warm-up
            engine.append(e)
            hand.append(p)
    train_ratios = [a[0] / b[0] for a, b in zip(engine, hand)]
    epoch_ratios = [a[1] / b[1] for a, b in zip(engine, hand)]
    print(json.dumps({
        "model": args.model,
        "threads": args.threads,
        "pairs": len(engine),
        "engineTrain": statistics.median(a[0] for a in engine),
        "peerTrain": statistics.median(b[0] for b in hand),
        "engineEpoch": statistics.median(a[1] for a in engine),
        "peerEpoch": statistics.median(b[1] for b in hand),
        "engineOverPeerTrain": statistics.median(train_ratios),
        "engineOverPeerEpoch": statistics.median(epoch_ratios),
        "pairsEngineFasterTrain": sum(r < 1 for r in train_ratios),
    }))


if __name__ == "__main__":
    main(ARGS)
