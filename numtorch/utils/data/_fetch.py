"""Turning one index (or, for a stream, one request) into one collated batch."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["FetchSpec", "MapFetcher", "IterableFetcher"]


@dataclass(frozen=True)
class FetchSpec:
    """What a process needs to load batches: picklable, so spawned workers receive it whole."""
    dataset: Any
    iterable: bool
    auto_collation: bool
    collate_fn: Callable
    drop_last: bool
    batch_size: int | None

    def make(self) -> "MapFetcher | IterableFetcher":
        """A fresh fetcher (for a stream: a new pass over it)."""
        return IterableFetcher(self) if self.iterable else MapFetcher(self)


class MapFetcher:
    """Batches of a map-style dataset: ``collate_fn`` of the items at a batch of indices."""

    def __init__(self, spec: FetchSpec) -> None:
        self.spec = spec

    def fetch(self, index):
        """The collated batch for ``index`` (a list of indices when auto-collating)."""
        spec, dataset = self.spec, self.spec.dataset
        if not spec.auto_collation:
            return spec.collate_fn(dataset[index])
        getitems = getattr(dataset, "__getitems__", None)
        if getitems:
            return spec.collate_fn(getitems(index))
        return spec.collate_fn([dataset[i] for i in index])


class IterableFetcher:
    """Batches of an iterable dataset: the next ``batch_size`` items of one pass over it;
    raises StopIteration when the pass is over (or only a short batch is left with
    ``drop_last``)."""

    def __init__(self, spec: FetchSpec) -> None:
        self.spec = spec
        self.items = iter(spec.dataset)
        self.ended = False

    def fetch(self, index=None):
        """The next collated batch (``index`` is ignored: a stream has no random access)."""
        spec = self.spec
        if self.ended:
            raise StopIteration
        if not spec.auto_collation:
            return spec.collate_fn(next(self.items))
        chunk = list(itertools.islice(self.items, spec.batch_size))
        if len(chunk) < spec.batch_size:
            self.ended = True
        if not chunk or (spec.drop_last and len(chunk) < spec.batch_size):
            raise StopIteration
        return spec.collate_fn(chunk)
