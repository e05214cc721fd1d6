"""DataLoader: batches from a dataset, in worker processes if asked, resumable mid-epoch."""
from __future__ import annotations

import itertools
import multiprocessing
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ... import random as nt_random
from ..._tensor import Tensor, _from_array
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (``get_worker_info()`` inside a worker)."""
    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The current worker's info, or None in the main process."""
    return _worker_info


class DataLoader:
    """Iterate a dataset in batches: sampling, batching, collation and worker processes as
    ``torch.utils.data.DataLoader``.

    ``state_dict()`` / ``load_state_dict()`` capture the position inside the current epoch so a
    resumed run yields exactly the remaining batches of that epoch.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor if prefetch_factor is not None else (
            2 if num_workers else None)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._is_iterable = isinstance(dataset, IterableDataset)
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
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
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
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._live = None
        self._resume = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._is_iterable and
                                                  self.batch_size is not None)

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    # ------------------------------------------------------------------ exact resume
    def state_dict(self) -> dict:
        """Where the current epoch stands: the sampler's starting RNG state and batches given."""
        live = self._live
        if live is None:
            return {"epoch_state": None, "batches_yielded": 0}
        return {"epoch_state": live.epoch_state, "batches_yielded": live.yielded}

    def load_state_dict(self, state: dict) -> None:
        """The next iteration resumes the epoch described by ``state`` after its given batches."""
        if state.get("batches_yielded", 0) and self._is_iterable:
            raise ValueError("resuming an IterableDataset mid-epoch is not supported: the stream "
                             "has no random access; restart the epoch instead")
        self._resume = dict(state)

    # ------------------------------------------------------------------ iteration
    def _index_batches(self, skip: int, epoch_state) -> Iterator:
        sampler = self.sampler
        if epoch_state is not None and hasattr(sampler, "replay_epoch"):
            sampler.replay_epoch(epoch_state)
        source = self.batch_sampler if self.batch_sampler is not None else sampler
        it = iter(source)
        if skip:
            it = itertools.islice(it, skip, None)
        return it

    def _fetch(self, indices):
        ds = self.dataset
        if not self._auto_collation:
            return self.collate_fn(ds[indices])
        getitems = getattr(ds, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else [ds[i] for i in indices]
        return self.collate_fn(samples)

    def __iter__(self) -> "_LoaderIter":
        resume, self._resume = self._resume, None
        skip = resume.get("batches_yielded", 0) if resume else 0
        epoch_state = resume.get("epoch_state") if resume else None
        live = _LoaderIter(self, skip, epoch_state)
        self._live = live
        return live


class _LoaderIter:
    """One epoch's iteration."""

    def __init__(self, loader: DataLoader, skip: int, epoch_state) -> None:
        self.loader = loader
        self.yielded = skip
        # as torch, every epoch first draws the workers' base seed from the loader's generator
        self.base_seed = _base_seed(loader)
        if loader._is_iterable:
            self.epoch_state = None
            self._it = _iterable_batches(loader, self.base_seed)
        else:
            index_batches = loader._index_batches(skip, epoch_state)
            if loader.num_workers > 0:
                self._it = _worker_batches(loader, index_batches, self.base_seed)
            else:
                self._it = (loader._fetch(b) for b in index_batches)
            self._index_batches = index_batches
            self.epoch_state = None

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._it)
        if self.epoch_state is None and not self.loader._is_iterable:
            self.epoch_state = getattr(self.loader.sampler, "epoch_state", None)
        self.yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self.loader)


def _iterable_batches(loader: DataLoader, base_seed: int = 0) -> Iterator:
    if loader.num_workers > 0:
        yield from _iterable_worker_batches(loader, base_seed)
        return
    it = iter(loader.dataset)
    if loader.batch_size is None:
        for item in it:
            yield loader.collate_fn(item)
        return
    while True:
        chunk = list(itertools.islice(it, loader.batch_size))
        if not chunk or (loader.drop_last and len(chunk) < loader.batch_size):
            return
        yield loader.collate_fn(chunk)


# ---------------------------------------------------------------------- worker processes
class _Payload:
    """A tensor crossing a process boundary as its array."""
    __slots__ = ("array",)

    def __init__(self, array) -> None:
        self.array = array


def _pack(obj):
    if isinstance(obj, Tensor):
        return _Payload(obj._data)
    if isinstance(obj, dict):
        return type(obj)((k, _pack(v)) for k, v in obj.items()) if type(obj) is not dict else \
            {k: _pack(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_pack(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_pack(v) for v in obj)
    if isinstance(obj, tuple):
        return type(obj)(*(_pack(v) for v in obj))
    return obj


def _unpack(obj):
    if isinstance(obj, _Payload):
        return _from_array(obj.array)
    if isinstance(obj, dict):
        return {k: _unpack(v) for k, v in obj.items()} if type(obj) is dict else \
            type(obj)((k, _unpack(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [_unpack(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_unpack(v) for v in obj)
    if isinstance(obj, tuple):
        return type(obj)(*(_unpack(v) for v in obj))
    return obj


_worker_loader: DataLoader | None = None


def _init_worker(loader: DataLoader, base_seed: int, counter) -> None:
    global _worker_info, _worker_loader
    with counter.get_lock():
        wid = counter.value
        counter.value += 1
    seed = base_seed + wid
    nt_random.manual_seed(seed)
    _worker_info = WorkerInfo(id=wid, num_workers=loader.num_workers, seed=seed,
                              dataset=loader.dataset)
    _worker_loader = loader
    if loader.worker_init_fn is not None:
        loader.worker_init_fn(wid)


def _worker_fetch(indices):
    return _pack(_worker_loader._fetch(indices))


def _context(loader: DataLoader):
    ctx = loader.multiprocessing_context
    if ctx is None:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context(ctx) if isinstance(ctx, str) else ctx


def _base_seed(loader: DataLoader) -> int:
    return int(nt_random.numpy_generator(loader.generator).integers(0, 2 ** 62))


def _worker_batches(loader: DataLoader, index_batches, base_seed: int) -> Iterator:
    ctx = _context(loader)
    counter = ctx.Value("i", 0)
    pool = ctx.Pool(loader.num_workers, initializer=_init_worker,
                    initargs=(loader, base_seed, counter))
    try:
        results = pool.imap(_worker_fetch, index_batches, chunksize=1)
        for packed in results:
            yield _unpack(packed)
    finally:
        pool.terminate()
        pool.join()


def _iterable_worker(loader, base_seed, wid, queue) -> None:
    global _worker_info
    seed = base_seed + wid
    nt_random.manual_seed(seed)
    _worker_info = WorkerInfo(id=wid, num_workers=loader.num_workers, seed=seed,
                              dataset=loader.dataset)
    if loader.worker_init_fn is not None:
        loader.worker_init_fn(wid)
    try:
        for batch in _iterable_batches_single(loader):
            queue.put(("batch", _pack(batch)))
        queue.put(("done", None))
    except Exception as exc:  # noqa: BLE001 - re-raised in the main process
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def _iterable_batches_single(loader):
    workers = loader.num_workers
    loader.num_workers = 0
    try:
        yield from _iterable_batches(loader)
    finally:
        loader.num_workers = workers


def _iterable_worker_batches(loader: DataLoader, base: int) -> Iterator:
    ctx = _context(loader)
    queues = [ctx.Queue(maxsize=(loader.prefetch_factor or 2)) for _ in range(loader.num_workers)]
    procs = [ctx.Process(target=_iterable_worker, args=(loader, base, w, queues[w]), daemon=True)
             for w in range(loader.num_workers)]
    for p in procs:
        p.start()
    try:
        active = list(range(loader.num_workers))
        while active:
            for w in list(active):
                kind, payload = queues[w].get(timeout=loader.timeout or None)
                if kind == "done":
                    active.remove(w)
                elif kind == "error":
                    raise RuntimeError(f"Caught {payload} in DataLoader worker process {w}")
                else:
                    yield _unpack(payload)
    finally:
        for p in procs:
            p.terminate()
            p.join()
