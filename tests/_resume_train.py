"""A training run for the exact-resume test (tests/test_checkpoint.py runs it in new processes).

    python _resume_train.py MODE CKPT_PREFIX OUT

MODE is ``straight`` (train to the end), ``first`` (train to the save point, save a checkpoint
and stop) or ``resume`` (restore the checkpoint and train to the end). Each run trains three
variants: a mid-epoch save with a shuffling DataLoader without an explicit generator, the same
with two worker processes whose samples carry random augmentation, and a save after an epoch
with the loader's own generator. OUT receives, per variant, everything the run ends with:
parameters, optimizer and scheduler state, and every random state.
"""
import random
import sys

import numpy as np

import numtorch as torch
from numtorch.checkpoint import load_checkpoint, save_checkpoint
from numtorch.utils.data import DataLoader, Dataset

EPOCHS, BATCH = 3, 8
VARIANTS = {  # name: (num_workers, explicit generator, save after this many steps or epochs)
    "mid_epoch": (0, False, ("step", 9)),
    "mid_epoch_workers": (2, False, ("step", 9)),
    "after_epoch": (0, True, ("epoch", 2)),
}


class Augmented(Dataset):
    """48 fixed samples; each load adds noise from numtorch, ``random`` and NumPy's global
    generator (in whichever process loads it)."""

    def __init__(self) -> None:
        data = np.random.default_rng(0)
        self.x = torch.tensor(data.standard_normal((48, 4)).astype(np.float32))
        self.y = torch.tensor(data.standard_normal((48, 1)).astype(np.float32))

    def __len__(self) -> int:
        return 48

    def __getitem__(self, i):
        noise = 0.01 * torch.randn(4) + 0.001 * (random.random() + float(np.random.rand()))
        return self.x[i] + noise, self.y[i]


def run(variant: str, mode: str, ckpt: str) -> dict:
    workers, explicit, (unit, save_at) = VARIANTS[variant]
    torch.manual_seed(1234 if mode != "resume" else 999)  # resume must not depend on it
    random.seed(5 if mode != "resume" else 50)
    np.random.seed(6 if mode != "resume" else 60)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.7)
    generator = torch.Generator().manual_seed(77 if mode != "resume" else 7) if explicit else None
    loader = DataLoader(Augmented(), batch_size=BATCH, shuffle=True, num_workers=workers,
                        generator=generator)
    epoch = step = steps_here = 0
    if mode == "resume":
        info = load_checkpoint(ckpt, model=model, optimizer=optimizer, scheduler=scheduler,
                               loaders={"train": loader})
        epoch, step = info["epoch"], info["step"]
        assert info["extra"] == {"variant": variant}, info["extra"]
    for epoch in range(epoch, EPOCHS):
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y) + 0.001 * random.random()
            loss.backward()
            optimizer.step()
            step += 1
            steps_here += 1
            if mode == "first" and unit == "step" and step == save_at:
                save_checkpoint(ckpt, model=model, optimizer=optimizer, scheduler=scheduler,
                                loaders={"train": loader}, step=step, epoch=epoch,
                                extra={"variant": variant})
                return {}
        scheduler.step()
        if mode == "first" and unit == "epoch" and epoch + 1 == save_at:
            save_checkpoint(ckpt, model=model, optimizer=optimizer, scheduler=scheduler,
                            loaders={"train": loader}, step=step, epoch=epoch + 1,
                            extra={"variant": variant})
            return {}
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(),
            "py": list(random.getstate()[1]),
            "np": torch.tensor(np.random.get_state()[1].astype(np.int64)),
            "loader_rng": generator.get_state() if generator is not None else None,
            "steps": step, "steps_in_this_run": steps_here}


def main() -> None:
    mode, prefix, out = sys.argv[1:4]
    results = {v: run(v, mode, f"{prefix}.{v}.pt") for v in VARIANTS}
    torch.save(results, out)


if __name__ == "__main__":
    main()
