"""numtorch's worker threads: one pool, sized by ``set_num_threads``, for work that splits into
independent pieces of NumPy calls (NumPy's ufuncs release the GIL while they compute).

Splitting never changes results: callers only hand it pieces whose arithmetic is independent
(element-wise updates over disjoint slices, byte ranges of a file).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

__all__ = ["get_num_threads", "set_num_threads", "parallel_map", "submit"]

T = TypeVar("T")
R = TypeVar("R")


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_lock = threading.Lock()
_threads = [_default_threads()]
_pool: list[ThreadPoolExecutor | None] = [None]


def get_num_threads() -> int:
    """Threads numtorch splits large element-wise work over (default: the usable CPU cores)."""
    return _threads[0]


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for numtorch's own parallel work (NumPy's BLAS keeps its own setting)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    with _lock:
        if n != _threads[0]:
            _threads[0] = n
            old, _pool[0] = _pool[0], None
            if old is not None:
                old.shutdown(wait=False)


def _get_pool() -> ThreadPoolExecutor:
    with _lock:
        if _pool[0] is None:
            _pool[0] = ThreadPoolExecutor(_threads[0], thread_name_prefix="numtorch")
        return _pool[0]


def parallel_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]``, the calls spread over the worker threads; the first
    exception raised by a call is re-raised here."""
    items = list(items)
    if len(items) <= 1 or _threads[0] == 1:
        return [fn(x) for x in items]
    return list(_get_pool().map(fn, items))


def submit(fn: Callable[..., R], *args) -> Future:
    """Run ``fn(*args)`` on a worker thread; its result (or exception) comes from the future."""
    return _get_pool().submit(fn, *args)


def _forget_pool_in_child() -> None:
    # a forked child (a DataLoader worker) has none of the parent's threads
    global _lock
    _lock = threading.Lock()
    _pool[0] = None


os.register_at_fork(after_in_child=_forget_pool_in_child)
