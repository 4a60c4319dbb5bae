"""What the recorder's probes cost per call (docs/results.md "Recorder probe cost").

Two models of the examples: the grok MLP (one-hot (m, n) -> 512 square units -> 97, modular
addition mod 97, half the 9409 pairs for training, 30% of their labels corrupted; no
dropout, so no MC probe) and an MNIST MLP (784 -> 128 relu -> dropout 0.3 -> 10 on 3000
shipped digits, 40% noisy labels: examples/pytorch/train_noisy_mnist.py). Each trains real
epochs with the recorder watching at every=1 and every=5; 3 repeats, medians. Prints JSON.

    /usr/bin/python3 bench/recorder_probes.py [--threads 1] [--epochs 10]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "pytorch"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import reglens  # noqa: E402


class Square(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


def grok_case(g: torch.Generator):
    p = 97
    m, n = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij") if "indexing" in torch.meshgrid.__code__.co_varnames else torch.meshgrid(torch.arange(p), torch.arange(p))
    m, n = m.reshape(-1), n.reshape(-1)
    x = torch.cat([nn.functional.one_hot(m, p), nn.functional.one_hot(n, p)], 1).float()
    y = (m + n) % p
    order = torch.randperm(len(y), generator=g)
    x, y = x[order], y[order]
    half = len(y) // 2
    corrupted = torch.rand(half, generator=g) < 0.3
    y_train = torch.where(corrupted, (y[:half] + torch.randint(1, p, (half,), generator=g)) % p, y[:half])
    model = nn.Sequential(nn.Linear(2 * p, 512, bias=False), Square(), nn.Linear(512, p, bias=False))
    probe = reglens.ProbeSet(x[:half], y_train, corrupted=corrupted, x_test=x[half:], y_test=y[half:])
    return model, probe, ["0"], 0, 512, torch.optim.Adam(model.parameters(), lr=0.005, betas=(0.9, 0.98))


def mnist_case(g: torch.Generator):
    import train_noisy_mnist as ex

    x, y = ex.load_digits(300)
    order = torch.randperm(len(y), generator=g)
    x, y = x[order], y[order]
    n_test = len(y) // 4
    corrupted = torch.rand(len(y) - n_test, generator=g) < 0.4
    y_true = y[n_test:]
    y_train = torch.where(corrupted, (y_true + torch.randint(1, 10, y_true.shape, generator=g)) % 10, y_true)
    model = ex.MLP(128, 0.3)
    probe = reglens.ProbeSet(x[n_test:], y_train, corrupted=corrupted, x_test=x[:n_test], y_test=y[:n_test])
    return model, probe, ["fc1"], 20, 64, torch.optim.Adam(model.parameters(), lr=1e-3)


def one_run(case, every: int, epochs: int, seed: int, runs_dir: str):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model, probe, layers, mc, batch, opt = case(g)
    loss_fn = nn.CrossEntropyLoss()
    run = reglens.init(name=f"bench {case.__name__} every={every}", runs_dir=runs_dir, epochs=epochs)
    run.watch(model, layers=layers, probe=probe, every=every, mc_dropout=mc)
    log_seconds = []
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(probe.y_train), generator=g).split(batch):
            opt.zero_grad()
            loss = loss_fn(model(probe.x_train[idx]), probe.y_train[idx])
            loss.backward()
            opt.step()
        t = time.perf_counter()
        run.log_epoch(epoch, loss=loss.item())
        log_seconds.append(time.perf_counter() - t)
    run.finish()
    events = [json.loads(line) for line in open(os.path.join(run.dir, "events.jsonl"))]
    probes = [e for e in events if e["type"] == "probe"]
    train = [e["trainSeconds"] for e in events if e["type"] == "epoch"]
    by_kind = {}
    for e in probes:
        by_kind.setdefault(e["probe"]["kind"], []).append(e["seconds"])
    probe_total = sum(e["seconds"] for e in probes)
    epoch_total = sum(e["seconds"] for e in events if e["type"] == "epoch")
    return {
        "trainSecondsPerEpoch": statistics.median(train),
        "probeSecondsPerCall": {k: statistics.median(v) for k, v in by_kind.items()},
        "logEpochSecondsWithoutProbes": statistics.median([s for i, s in enumerate(log_seconds) if (i + 1) % every != 0] or [float("nan")]),
        "probeShare": probe_total / (probe_total + epoch_total),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "threads": args.threads, "epochs": args.epochs, "repeats": args.repeats, "cases": {}}
    with tempfile.TemporaryDirectory() as runs_dir:
        for case in (grok_case, mnist_case):
            for every in (1, 5):
                reps = [one_run(case, every, args.epochs, seed, runs_dir) for seed in range(args.repeats)]
                med = lambda f: statistics.median(f(r) for r in reps)  # noqa: E731
                kinds = reps[0]["probeSecondsPerCall"].keys()
                out["cases"][f"{case.__name__[:-5]} every={every}"] = {
                    "trainSecondsPerEpoch": med(lambda r: r["trainSecondsPerEpoch"]),
                    "probeSecondsPerCall": {k: med(lambda r, k=k: r["probeSecondsPerCall"][k]) for k in kinds},
                    "logEpochSecondsWithoutProbes": med(lambda r: r["logEpochSecondsWithoutProbes"]) if every > 1 else None,
                    "probeShare": med(lambda r: r["probeShare"]),
                }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
