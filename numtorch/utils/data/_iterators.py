"""One epoch of a DataLoader in the main process: what every iterator shares, and the
single-process iterator."""
from __future__ import annotations

import itertools
import warnings
import weakref

from ... import random as nt_random
from ._resume import LoaderPosition, ResumePlan, SamplerRun

__all__ = ["BaseIter", "SingleProcessIter", "draw_base_seed"]


def draw_base_seed(generator) -> int:
    """The workers' base seed of an epoch: one draw from the loader's generator (or the
    default one), in torch's range for ``random_()`` on an int64 tensor."""
    return int(nt_random.numpy_generator(generator).integers(0, 2 ** 63))


def _warn_pin_memory(loader) -> None:
    if loader.pin_memory and loader.pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as "
                      f"the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                      stacklevel=5)
    if loader.pin_memory:
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                      "device pinned memory won't be used.", stacklevel=5)


class BaseIter:
    """An epoch's iteration: indices from the sampler (replayed and skipped when resuming),
    the workers' base seed, and the position ``DataLoader.state_dict()`` reports."""

    def __init__(self, loader, plan: ResumePlan | None) -> None:
        self._loader_ref = weakref.ref(loader)
        self._index_sampler = loader._index_sampler
        self._is_iterable = loader._is_iterable
        self._num_workers = loader.num_workers
        self._persistent = loader.persistent_workers
        self._timeout = loader.timeout
        self._spec = loader._fetch_spec()
        _warn_pin_memory(loader)
        self._begin_epoch(loader, plan)
        # as torch: the sampler's iterator exists (its first draw still to come), then the seed
        self._base_seed = self._position.base_seed = (
            plan.base_seed if plan is not None and plan.base_seed is not None
            else draw_base_seed(loader.generator))

    def _begin_epoch(self, loader, plan: ResumePlan | None, carried_rng=None,
                     base_seed: int | None = None) -> None:
        """A fresh position (published to the loader) and the epoch's index stream."""
        rng = plan.worker_rng if plan is not None and plan.worker_rng is not None else carried_rng
        self._position = LoaderPosition(
            base_seed=base_seed, num_workers=self._num_workers,
            persistent=self._persistent, worker_rng=list(rng) if rng else [],
            batches_yielded=plan.skip if plan is not None else 0, resumable=loader.in_order or self._num_workers == 0)
        loader._position = self._position
        self._len_reported = loader._iterable_len_called
        if self._is_iterable:
            self._indices = itertools.repeat(None)
        else:
            self._indices = SamplerRun(self._index_sampler, self._position, plan)

    def __iter__(self) -> "BaseIter":
        return self

    def __next__(self):
        try:
            data = self._next_data()
        except StopIteration:
            self._position.finished = True
            raise
        self._position.batches_yielded += 1
        if self._is_iterable and self._len_reported is not None and \
                self._position.batches_yielded > self._len_reported:
            self._warn_longer_than_reported()
        return data

    def _next_data(self):
        raise NotImplementedError

    def _warn_longer_than_reported(self) -> None:
        msg = (f"Length of IterableDataset {self._spec.dataset} was reported to be "
               f"{self._len_reported}(when accessing len(dataloader)), but "
               f"{self._position.batches_yielded} samples have been fetched. ")
        if self._num_workers > 0:
            msg += ("For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset"
                    " for examples.")
        warnings.warn(msg, stacklevel=3)

    def __len__(self) -> int:
        loader = self._loader_ref()
        return len(loader) if loader is not None else len(self._index_sampler)


class SingleProcessIter(BaseIter):
    """Loads each batch in the main process when it is asked for."""

    def __init__(self, loader, plan: ResumePlan | None) -> None:
        super().__init__(loader, plan)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = self._spec.make()

    def _next_data(self):
        return self._fetcher.fetch(next(self._indices))
