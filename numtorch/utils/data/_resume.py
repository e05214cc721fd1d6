"""Where a DataLoader stands in its epoch, and how a new iteration picks up from there.

An epoch is fixed by three things: the state the order's generator had when the epoch began
(replaying the sampler from it redraws the same order), the workers' base seed, and each
worker's random states after the last batch it handed out. With those and the count of batches
given, a DataLoader in a new process continues the epoch exactly, drawing nothing new from any
generator: the training run's RNG states stay where the checkpoint put them.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from ... import random as nt_random
from ..._tensor import Tensor

__all__ = ["LoaderPosition", "ResumePlan", "SamplerRun", "order_source", "state_of", "plan_from"]

_END = object()

@dataclass
class LoaderPosition:
    """One epoch's progress, updated by its iterator as batches are handed out."""
    base_seed: int | None
    num_workers: int
    persistent: bool
    epoch_state: Tensor | None = None
    batches_yielded: int = 0
    finished: bool = False
    resumable: bool = True
    worker_rng: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.worker_rng:
            self.worker_rng = [None] * self.num_workers


@dataclass
class ResumePlan:
    """What the next iteration takes over instead of drawing: batches to skip, the epoch's
    order state, the workers' base seed and their random states."""
    skip: int = 0
    epoch_state: Tensor | None = None
    base_seed: int | None = None
    worker_rng: list | None = None


def order_source(index_sampler) -> Any:
    """The sampler whose generator decides the epoch's order: the index sampler itself or the
    sampler inside a batch sampler; None when neither draws from a numtorch generator."""
    for candidate in (index_sampler, getattr(index_sampler, "sampler", None)):
        if candidate is None:
            continue
        if hasattr(candidate, "replay_epoch"):
            return candidate
        if isinstance(getattr(candidate, "generator", None), nt_random.Generator):
            return candidate
    return None


class SamplerRun:
    """One epoch's stream of indices from ``index_sampler``: replayed from ``epoch_state``
    when resuming, with the first ``skip`` batches passed over, and recording in ``position``
    the state the epoch's order started from."""

    def __init__(self, index_sampler, position: LoaderPosition, plan: ResumePlan | None) -> None:
        self.position = position
        self.source = order_source(index_sampler)
        replay = plan.epoch_state if plan is not None else None
        if replay is not None and self.source is not None:
            if hasattr(self.source, "replay_epoch"):
                self.source.replay_epoch(replay)
            else:
                self.source.generator.set_state(replay)
        if self.source is not None and hasattr(self.source, "replay_epoch"):
            self.source.epoch_state = None
        self._indices: Iterator = iter(index_sampler)
        self._started = False
        for _ in range(plan.skip if plan is not None else 0):
            if next(self, _END) is _END:
                break

    def __iter__(self) -> "SamplerRun":
        return self

    def __next__(self):
        if self._started:
            return next(self._indices)
        source = self.source
        before = None
        if source is not None and not hasattr(source, "replay_epoch"):
            before = source.generator.get_state()
        index = next(self._indices)
        self._started = True
        self.position.epoch_state = getattr(source, "epoch_state", None) if before is None \
            else before
        return index


def state_of(loader, position: LoaderPosition | None) -> dict:
    """``DataLoader.state_dict()``: the position plus the loader's generators' current states."""
    source = order_source(loader._index_sampler)
    sampler_gen = getattr(source, "generator", None)
    state = {
        "batches_yielded": 0, "finished": False, "epoch_state": None, "base_seed": None,
        "worker_rng": [], "persistent_workers": loader.persistent_workers,
        "generator": loader.generator.get_state() if loader.generator is not None else None,
        "sampler_generator": sampler_gen.get_state()
        if sampler_gen is not None and sampler_gen is not loader.generator else None,
    }
    if position is not None:
        if not position.resumable and not position.finished:
            raise ValueError("DataLoader.state_dict(): with in_order=False the batches given so "
                             "far are not the first ones of the epoch, so the position cannot "
                             "be resumed; save at an epoch boundary or use in_order=True")
        state.update(batches_yielded=position.batches_yielded, finished=position.finished,
                     epoch_state=position.epoch_state, base_seed=position.base_seed,
                     worker_rng=list(position.worker_rng))
    return state


def plan_from(loader, state: Mapping) -> ResumePlan | None:
    """Check a saved state, restore the loader's generators, and say what the next iteration
    takes over (None: it starts a new epoch as usual)."""
    if not isinstance(state, Mapping):
        raise TypeError(f"DataLoader.load_state_dict expects a dict from state_dict(), but got "
                        f"{type(state).__name__}")
    skip = state.get("batches_yielded", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise ValueError(f"batches_yielded should be a non-negative integer, but got {skip!r}")
    finished = bool(state.get("finished", False))
    if not finished and skip and loader._is_iterable:
        raise ValueError("resuming an IterableDataset mid-epoch is not supported: the stream "
                         "has no random access; restart the epoch instead")
    if not finished and skip and _has_len(loader) and skip >= len(loader):
        finished = True
    sampler_gen = getattr(order_source(loader._index_sampler), "generator", None)
    if state.get("generator") is not None and loader.generator is not None:
        loader.generator.set_state(state["generator"])
    if state.get("sampler_generator") is not None and sampler_gen is not None and \
            sampler_gen is not loader.generator:
        sampler_gen.set_state(state["sampler_generator"])
    if finished:
        keeps_workers = (loader.persistent_workers and loader.num_workers > 0 and
                         state.get("persistent_workers", False) and
                         state.get("base_seed") is not None)
        if not keeps_workers:  # the next epoch starts as any new epoch does
            return None
        return ResumePlan(base_seed=state["base_seed"],
                          worker_rng=_worker_rng_for(loader, state.get("worker_rng") or []))
    if skip == 0 and state.get("base_seed") is None:
        return None
    return ResumePlan(skip=skip, epoch_state=state.get("epoch_state"),
                      base_seed=state.get("base_seed"),
                      worker_rng=_worker_rng_for(loader, state.get("worker_rng") or []))


def _worker_rng_for(loader, saved: list) -> list | None:
    if not any(s is not None for s in saved):
        return None
    if len(saved) != loader.num_workers:
        warnings.warn(f"the DataLoader state was saved with {len(saved)} workers and this "
                      f"DataLoader has {loader.num_workers}: batches resume exactly, but "
                      "random draws made inside workers do not", stacklevel=3)
        return None
    return list(saved)


def _has_len(loader) -> bool:
    try:
        len(loader)
    except TypeError:
        return False
    return True

