"""DataLoader: batches from a dataset, in worker processes if asked, resumable mid-epoch.

Arguments, errors, batching, collation, worker seeding and scheduling follow
``torch.utils.data.DataLoader``; sequential loading and custom batch samplers give torch's
batches exactly. Where numtorch differs:

- Shuffled orders and the workers' base seed come from numtorch's generator (PCG64, not torch's
  mt19937), so the same seed gives other orders than torch. Workers are then seeded as torch
  seeds them from that base seed (Python's ``random`` and numtorch with ``base_seed + id``,
  NumPy's global generator with torch's derived words).
- ``state_dict()`` / ``load_state_dict()`` (torch's DataLoader has neither) save and restore
  the position in the epoch: the order's starting state, batches given, the workers' base seed
  and each worker's random states after its last batch given. A DataLoader restored in a new
  process yields exactly the rest of the epoch (or, after a finished epoch, the next epoch)
  without drawing from any generator, so a resumed run stays bit-identical. Worker-side
  randomness resumes exactly when it comes from numtorch's default generator, Python's
  ``random`` or NumPy's global generator; other state a dataset keeps in a worker restarts.
  Custom samplers replay when they draw from a numtorch ``Generator`` in their ``generator``
  attribute. An IterableDataset resumes at epoch boundaries only.
- There is no accelerator, so ``pin_memory=True`` warns as torch does without one and pins
  nothing.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Mapping

from ._fetch import FetchSpec
from ._iterators import BaseIter, SingleProcessIter
from ._multiprocess import MultiProcessIter, check_worker_count
from ._resume import ResumePlan, plan_from, state_of
from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")


class DataLoader:
    """Iterate a dataset in batches: sampling, batching, collation and worker processes as
    ``torch.utils.data.DataLoader``.

    ``state_dict()`` / ``load_state_dict()`` capture the position inside the current epoch so
    a resumed run yields exactly the remaining batches of that epoch.
    """

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        self._check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._is_iterable = isinstance(dataset, IterableDataset)
        shuffle = self._check_sampling(shuffle, sampler, batch_sampler)
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._is_iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle else
                       SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterable_len_called: int | None = None
        self._iterator: MultiProcessIter | None = None
        self._position = None
        self._plan: ResumePlan | None = None
        self._initialized = True
        check_worker_count(self.num_workers)

    @staticmethod
    def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

    def _check_sampling(self, shuffle, sampler, batch_sampler) -> bool | None:
        """torch's checks of shuffle/sampler/batch_sampler; returns shuffle as torch keeps it."""
        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        return shuffle

    @property
    def multiprocessing_context(self):
        """The multiprocessing context workers start in (None: the platform's default)."""
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._mp_context = context

    def __setattr__(self, name: str, value) -> None:
        if self._initialized and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._is_iterable and
                                                  self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def _fetch_spec(self) -> FetchSpec:
        return FetchSpec(self.dataset, self._is_iterable, self._auto_collation, self.collate_fn,
                         self.drop_last, self.batch_size)

    def __len__(self) -> int:
        if self._is_iterable:
            n = self._iterable_len_called = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def __iter__(self) -> BaseIter:
        plan, self._plan = self._plan, None
        if self.num_workers == 0:
            return SingleProcessIter(self, plan)
        check_worker_count(self.num_workers)
        if not self.persistent_workers:
            return MultiProcessIter(self, plan)
        if self._iterator is None:
            self._iterator = MultiProcessIter(self, plan)
        else:
            self._iterator.restart(self, plan)
        return self._iterator

    # ------------------------------------------------------------------ exact resume
    def state_dict(self) -> dict[str, Any]:
        """Where the current (or last) epoch stands: batches given, whether it finished, the
        state its order was drawn from, the workers' base seed and random states, and the
        current states of the loader's and sampler's generators. Values are tensors, numbers,
        lists and dicts, so the state travels in a checkpoint (``save_checkpoint(loaders=)``).
        """
        return state_of(self, self._position)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from ``state``: the generators take their saved states now, and the next
        iteration yields the rest of the saved epoch (after a finished epoch: the next one)
        exactly as the saved run would have."""
        self._plan = plan_from(self, state)
