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


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=512)
    return ap.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Debian's torch calls OpenBLAS, whose own thread pool ignores torch.set_num_threads and
    # defaults to every core; it reads this only when it loads, i.e. before `import torch`.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

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


class Peer:
    """The hand-written training loop: AdamW, cross-entropy, one randperm per epoch, then
    the accuracy of the whole train and test sets (what the engine evaluates per epoch)."""

    def __init__(self, model_id: str, batch: int = 512) -> None:
        torch.manual_seed(0)
        self.x_train, self.y_train, self.x_test, self.y_test = modular_addition(0)
        self.model = build(model_id)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=5e-3, betas=(0.9, 0.98), weight_decay=5.0)
        self.loss_fn = nn.CrossEntropyLoss()
        self.batch = batch

    def epoch(self):
        """(seconds of the training steps, seconds with the evaluation, train acc, test acc)."""
        model, opt, x_train, y_train = self.model, self.opt, self.x_train, self.y_train
        n = x_train.shape[0]
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for s in range(0, n, self.batch):
            idx = order[s : s + self.batch]
            opt.zero_grad(set_to_none=True)
            loss = self.loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        loss.item()
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            train_acc = (model(x_train).argmax(1) == y_train).float().mean().item()
            test_acc = (model(self.x_test).argmax(1) == self.y_test).float().mean().item()
        return t1 - t0, time.perf_counter() - t0, train_acc, test_acc


def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    peer = Peer(args.model, args.batch)
    train_s, total_s = [], []
    for _ in range(args.epochs):
        t_train, t_total, train_acc, test_acc = peer.epoch()
        train_s.append(t_train)
        total_s.append(t_total)
    # The first epoch carries one-time allocation; drop it as the engine bench does for wasm.
    keep = slice(1, None) if args.epochs > 2 else slice(None)
    print(json.dumps({
        "model": args.model,
        "threads": args.threads,
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
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
    main(ARGS)
