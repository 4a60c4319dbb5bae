"""PyTorch peer for `npm run bench`: seconds per epoch of the same models, data and
optimizer as the TF.js engine's speed rows (bench/bench.ts), so the benchmark can report
wasm/PyTorch ratios measured side by side in one run (RECIPES section 3).

    /usr/bin/python3 bench/peer/torch_epoch.py --model relu-mlp --epochs 8 --threads 1

Prints one JSON object on stdout: per-epoch seconds of the training steps alone and of
training plus the per-epoch evaluation the engine also does (predict on the full train
and test sets). Needs python3-torch and libopenblas0-pthread (Debian).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn

P = 97


def modular_addition(seed: int):
    """All p^2 pairs (a, b) -> (a + b) mod p, one-hot (2p inputs), split 50/50."""
    g = torch.Generator().manual_seed(seed)
    a = torch.arange(P).repeat_interleave(P)
    b = torch.arange(P).repeat(P)
    x = torch.cat([nn.functional.one_hot(a, P), nn.functional.one_hot(b, P)], dim=1).float()
    y = (a + b) % P
    perm = torch.randperm(P * P, generator=g)
    n_train = round(0.5 * P * P)
    return x[perm[:n_train]], y[perm[:n_train]], x[perm[n_train:]], y[perm[n_train:]]


class Square(nn.Module):
    def forward(self, x):
        return x * x


def build(model_id: str) -> nn.Module:
    if model_id == "relu-mlp":
        return nn.Sequential(nn.Linear(2 * P, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, P))
    if model_id == "grok-quadratic":
        return nn.Sequential(nn.Linear(2 * P, 512, bias=False), Square(), nn.Linear(512, P, bias=False))
    raise SystemExit(f"unknown model {model_id}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = modular_addition(0)
    model = build(args.model)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, betas=(0.9, 0.98), weight_decay=5.0)
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    train_s, total_s = [], []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for s in range(0, n, args.batch):
            idx = order[s : s + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        loss.item()
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            train_acc = (model(x_train).argmax(1) == y_train).float().mean().item()
            test_acc = (model(x_test).argmax(1) == y_test).float().mean().item()
        t2 = time.perf_counter()
        train_s.append(t1 - t0)
        total_s.append(t2 - t0)
    # The first epoch carries one-time allocation; drop it as the engine bench does for wasm.
    keep = slice(1, None) if args.epochs > 2 else slice(None)
    print(json.dumps({
        "model": args.model,
        "threads": args.threads,
        "torch": torch.__version__,
        # Debian's torch calls whichever libblas.so.3 the alternatives system points at.
        "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "trainSeconds": statistics.median(train_s[keep]),
        "epochSeconds": statistics.median(total_s[keep]),
        "trainSamples": train_s,
        "epochSamples": total_s,
        "finalTrainAcc": train_acc,
        "finalTestAcc": test_acc,
    }))


if __name__ == "__main__":
    main()
