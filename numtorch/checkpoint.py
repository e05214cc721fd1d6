"""Training-state checkpoints for exact resume: one call saves, one call restores.

A checkpoint bundles the model's ``state_dict``, the optimizer's and the scheduler's, the
position of each DataLoader in its epoch (with its generators and its workers' random states),
every random-number state a training run consumes (numtorch's default generator, Python's
``random``, NumPy's global generator, and any extra ``generators``), step/epoch counters and
user extras. It is written atomically (a temporary file in the same folder,
flushed and fsynced, then renamed over the target), so a crash never leaves a half-written
checkpoint behind. The file is torch's zip format: ``torch.load(path, weights_only=True)``
reads it too.

    save_checkpoint("run.pt", model=model, optimizer=opt, scheduler=sched, loaders=loader,
                    step=step)
    ...
    info = load_checkpoint("run.pt", model=model, optimizer=opt, scheduler=sched,
                           loaders=loader)
    step = info["step"]   # iterating `loader` now continues its epoch where the save left it

Saved mid-epoch (inside the training loop), a restored run continues with the remaining
batches of that epoch; saved after an epoch, with the next epoch.
"""
from __future__ import annotations

import os
import random
from typing import Any, Mapping

import numpy as np

from . import random as nt_random
from ._atomic import atomic_write
from ._tensor import Tensor, _from_array

__all__ = ["save_checkpoint", "load_checkpoint", "capture_rng_state", "restore_rng_state",
           "atomic_save"]

FORMAT = "numtorch.checkpoint"
VERSION = 1


def capture_rng_state(generators: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every random state a run uses, in file-friendly values: numtorch's default generator,
    Python's ``random``, NumPy's global generator and each of ``generators`` (by name)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    state = {
        "numtorch": nt_random.get_rng_state(),
        "python": {"version": version, "state": list(py_state), "gauss_next": py_gauss},
        "numpy": {"kind": kind, "keys": _from_array(np.asarray(keys, np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(gauss)},
    }
    if generators:
        state["generators"] = {name: g.get_state() for name, g in generators.items()}
    return state


def restore_rng_state(state: Mapping[str, Any],
                      generators: Mapping[str, Any] | None = None) -> None:
    """Put back every random state ``capture_rng_state`` recorded (those present); raises
    KeyError, before changing any state, for a generator name the record lacks."""
    saved = state.get("generators", {})
    _check_names("generator", generators or {}, saved)
    if "numtorch" in state:
        nt_random.set_rng_state(state["numtorch"])
    if "python" in state:
        py = state["python"]
        random.setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
    if "numpy" in state:
        nps = state["numpy"]
        keys = nps["keys"]
        keys = keys.numpy() if isinstance(keys, Tensor) else np.asarray(keys)
        np.random.set_state((nps["kind"], keys.astype(np.uint32), nps["pos"],
                             nps["has_gauss"], nps["cached_gaussian"]))
    for name, g in (generators or {}).items():
        g.set_state(saved[name])


def _check_names(kind: str, wanted: Mapping[str, Any], saved: Mapping[str, Any]) -> None:
    for name in wanted:
        if name not in saved:
            raise KeyError(f"the checkpoint has no state for {kind} {name!r}; it holds "
                           f"{sorted(saved) or 'none'}")


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``numtorch.save(obj)`` to ``path`` atomically and durably: a temporary file in the same
    folder, synced, then renamed over ``path`` (the folder synced too)."""
    from .serialization import _write
    atomic_write(path, lambda f: _write(obj, f, "archive", 2, True))


def _named_loaders(loaders) -> dict[str, Any]:
    """``loaders`` as a name -> DataLoader dict (a single loader is named "loader")."""
    if loaders is None:
        return {}
    if isinstance(loaders, Mapping):
        return dict(loaders)
    if callable(getattr(loaders, "state_dict", None)) and \
            callable(getattr(loaders, "load_state_dict", None)):
        return {"loader": loaders}
    raise TypeError(f"loaders should be a DataLoader or a dict of name -> DataLoader, but got "
                    f"{type(loaders).__name__}")


def save_checkpoint(path: str | os.PathLike, *, model=None, optimizer=None, scheduler=None,
                    loaders=None, step: int | None = None, epoch: int | None = None,
                    extra: Any = None, generators: Mapping[str, Any] | None = None,
                    rng: bool = True) -> dict[str, Any]:
    """Save a training state bundle to ``path`` atomically and return the bundle.

    ``model``/``optimizer``/``scheduler`` contribute their ``state_dict()``; ``loaders`` (a
    DataLoader or a dict of them by name) their positions in the epoch; ``rng=True`` records
    every random state (see ``capture_rng_state``), ``generators`` names extra
    ``numtorch.Generator`` objects; ``step``, ``epoch`` and ``extra`` (any picklable value of
    tensors, numbers, strings, lists and dicts) are stored as given.
    """
    named_loaders = _named_loaders(loaders)
    bundle: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if model is not None:
        bundle["model"] = model.state_dict()
    if optimizer is not None:
        bundle["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        bundle["scheduler"] = scheduler.state_dict()
    if named_loaders:
        bundle["loaders"] = {name: dl.state_dict() for name, dl in named_loaders.items()}
    if rng:
        bundle["rng"] = capture_rng_state(generators)
    bundle["step"] = step
    bundle["epoch"] = epoch
    bundle["extra"] = extra
    atomic_save(bundle, path)
    return bundle


def load_checkpoint(path: str | os.PathLike, *, model=None, optimizer=None, scheduler=None,
                    loaders=None, generators: Mapping[str, Any] | None = None,
                    rng: bool = True, strict: bool = True, map_location=None) -> dict[str, Any]:
    """Restore what ``save_checkpoint`` wrote into the given objects and return the bundle
    (``step``, ``epoch``, ``extra`` and the raw state dicts).

    Load order follows torch's advice: the scheduler (already constructed) and then the
    optimizer, so the saved learning rates win; the random states, then the ``loaders`` (by
    the names they were saved under), whose next iteration continues the saved epoch. Raises
    ValueError for a file that is not a numtorch checkpoint and KeyError when an object is
    passed whose state the file lacks.
    """
    named_loaders = _named_loaders(loaders)
    from .serialization import load
    bundle = load(path, map_location=map_location, weights_only=True)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)!r} is not a numtorch checkpoint (no "
                         f"'format': {FORMAT!r} entry); load it with numtorch.load instead")
    if bundle.get("version", 0) > VERSION:
        raise ValueError(f"checkpoint version {bundle['version']} is newer than this numtorch "
                         f"reads ({VERSION}); upgrade numtorch")
    objects = {name: obj for name, obj in (("model", model), ("scheduler", scheduler),
                                           ("optimizer", optimizer)) if obj is not None}
    for name in objects:  # everything asked for is checked before anything is changed
        if name not in bundle:
            raise KeyError(f"the checkpoint holds no {name} state; it has {sorted(bundle)}")
    _check_names("DataLoader", named_loaders, bundle.get("loaders", {}))
    if rng and generators:
        _check_names("generator", generators, bundle.get("rng", {}).get("generators", {}))
    for name, obj in objects.items():
        if name == "model":
            obj.load_state_dict(bundle[name], strict=strict)
        else:
            obj.load_state_dict(bundle[name])
    if rng and "rng" in bundle:
        restore_rng_state(bundle["rng"], generators)
    for name, dl in named_loaders.items():
        dl.load_state_dict(bundle["loaders"][name])
    return bundle
