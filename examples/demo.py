"""numtorch demo: a small CNN with BatchNorm trains on scikit-learn's handwritten digits.

Shows the whole system: modules with parameters and buffers, the model summary, autograd,
Adam, a DataLoader, a training-state checkpoint written atomically, resuming from it, and the
`numtorch inspect` view of the saved file. Run with `make demo` (about half a minute on 2 cores).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits

import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F
from numtorch.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(32 * 2 * 2, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def progress(epoch: int, done: int, total: int, loss: float, started: float) -> None:
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    line = (f"epoch {epoch}  [{bar}] {done:3d}/{total}  loss {loss:.4f}  "
            f"{time.perf_counter() - started:4.1f}s")
    if sys.stdout.isatty():  # redrawn in place on a terminal
        print("\r" + line, end="\n" if done == total else "", flush=True)
    elif done == total:  # piped or redirected: one line per epoch
        print(line, flush=True)


def evaluate(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    model.train()
    return (pred == y).float().mean().item()


def train_epoch(model, loader, optimizer, epoch: int) -> None:
    started = time.perf_counter()
    for i, (xb, yb) in enumerate(loader, 1):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        progress(epoch, i, len(loader), loss.item(), started)


def main() -> None:
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    train_idx, test_idx = order[:1400], order[1400:]
    x_train, y_train = torch.from_numpy(images[train_idx]), torch.from_numpy(labels[train_idx])
    x_test, y_test = torch.from_numpy(images[test_idx]), torch.from_numpy(labels[test_idx])

    torch.manual_seed(0)
    model = DigitsCNN()
    print(torch.summary(model, input_size=(64, 1, 8, 8), depth=2))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))

    for epoch in range(1, 5):
        train_epoch(model, loader, optimizer, epoch)
    print(f"test accuracy after 4 epochs: {evaluate(model, x_test, y_test):.1%}")

    workdir = tempfile.mkdtemp(prefix="numtorch-demo-")
    path = os.path.join(workdir, "digits.ckpt")
    torch.checkpoint.save_checkpoint(path, model=model, optimizer=optimizer, loaders=loader,
                                     epoch=4)
    print(f"saved training state to {path} ({os.path.getsize(path) / 1024:.1f} KiB)")

    resumed = DigitsCNN()
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=3e-3)
    resumed_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                                generator=torch.Generator())
    state = torch.checkpoint.load_checkpoint(path, model=resumed, optimizer=resumed_opt,
                                             loaders=resumed_loader)
    print(f"resumed from epoch {state['epoch']}: accuracy "
          f"{evaluate(resumed, x_test, y_test):.1%} (same weights, buffers, Adam state and "
          "data order)")
    for epoch in range(state["epoch"] + 1, state["epoch"] + 3):
        train_epoch(resumed, resumed_loader, resumed_opt, epoch)
    accuracy = evaluate(resumed, x_test, y_test)
    print(f"test accuracy after {state['epoch'] + 2} epochs: {accuracy:.1%}")

    print(f"\n$ numtorch inspect --max-rows 16 {path}")
    subprocess.run([sys.executable, "-m", "numtorch", "inspect", "--max-rows", "16", path],
                   check=True)
    if accuracy < 0.95:
        raise SystemExit(f"accuracy {accuracy:.1%} is below the demo's 95% bar")


if __name__ == "__main__":
    main()
