"""Move a checkpoint from torch to numtorch and back.

1. torch trains a model for a few steps and saves model + Adam state with torch.save.
2. numtorch loads that file (without importing torch), continues training with the same
   optimizer state, and saves with numtorch.save.
3. torch loads numtorch's file with weights_only=True and checks it continues identically.

Needs torch installed for steps 1 and 3 (numtorch itself never imports it):

    python examples/torch_roundtrip.py
"""
from __future__ import annotations

import os
import tempfile

import numpy as np


def torch_side(path: str, x: np.ndarray, y: np.ndarray) -> None:
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    print(f"torch: saved {path} after 5 Adam steps")


def numtorch_side(src: str, dst: str, x: np.ndarray, y: np.ndarray) -> float:
    import numtorch
    nn = numtorch.nn
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = numtorch.optim.Adam(model.parameters(), lr=1e-2)
    state = numtorch.load(src)                      # weights_only=True: no code runs
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    print(f"numtorch: loaded {src}; Adam step count {opt.state_dict()['state'][0]['step']}")
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(numtorch.from_numpy(x)), numtorch.from_numpy(y))
        loss.backward()
        opt.step()
    numtorch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, dst)
    print(f"numtorch: trained 5 more steps (loss {loss.item():.5f}) and saved {dst}")
    return loss.item()


def torch_check(dst: str, x: np.ndarray, y: np.ndarray) -> None:
    import torch
    state = torch.load(dst, weights_only=True)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    model.load_state_dict(state["model"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    opt.load_state_dict(state["optimizer"])
    loss = torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
    print(f"torch: loaded numtorch's file; loss now {loss.item():.5f}, Adam step "
          f"{opt.state_dict()['state'][0]['step'].item():.0f}")


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = x.sum(1, keepdims=True).astype(np.float32)
    folder = tempfile.mkdtemp(prefix="roundtrip-")
    src, dst = os.path.join(folder, "from_torch.pt"), os.path.join(folder, "from_numtorch.pt")
    torch_side(src, x, y)
    numtorch_side(src, dst, x, y)
    torch_check(dst, x, y)


if __name__ == "__main__":
    main()
