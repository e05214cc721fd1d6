"""Large parameters updated chunk by chunk, the chunks spread over numtorch's threads.

Every optimizer ``_kernel`` that declares itself element-wise computes each element of its
result from the same element of its inputs, so running it over consecutive slices gives
bit-identical results to one call over the whole tensor. On one thread, slices of ``CHUNK``
elements keep a kernel's intermediates in the core's cache (one pass over memory instead of one
per NumPy call). On several, the chunks of all large parameters of a group are spread over the
threads (NumPy releases the GIL while it computes); they are larger there, ``PARALLEL_CHUNK``,
because handing the GIL between threads costs tens of microseconds per NumPy call.

Scalar state (``step``...) must advance once per step, not once per chunk: each chunk runs on a
private copy of it, and one chunk's copy is written back.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _parallel
from ._flat import MAX_FLAT_PARAM, ParamTarget

__all__ = ["CHUNK", "PARALLEL_CHUNK", "MIN_PER_THREAD", "MIN_CHUNKED", "LargeUpdate",
           "run_large_updates"]

CHUNK = 1 << 15
PARALLEL_CHUNK = 1 << 18
# a kernel of few passes over memory (SGD's) pays more per chunk than the cache saves it
FEW_PASS_CHUNK = 1 << 20
# below this many elements per thread, waking threads and handing the GIL around cost more
# than they save
MIN_PER_THREAD = 1 << 21
# smaller parameters are updated in one call, most of them laid out flat (_flat.py)
MIN_CHUNKED = MAX_FLAT_PARAM


class ChunkTarget(ParamTarget):
    """A slice of a parameter, with scratch and output buffers of the slice's size."""

    __slots__ = ("scratch", "out")

    def __init__(self, arr: np.ndarray, fresh: bool, scratch: np.ndarray,
                 out: np.ndarray) -> None:
        super().__init__(arr, fresh)
        self.scratch = scratch
        self.out = out


def _flat(a: np.ndarray) -> np.ndarray | None:
    return a.reshape(-1) if a.flags.c_contiguous else None


class LargeUpdate:
    """One large parameter's update: flat views of the parameter, its gradient and its array
    state, and its scalar state."""

    __slots__ = ("param", "grad", "arrays", "scalars", "fresh")

    def __init__(self, param, grad, arrays, scalars, fresh) -> None:
        self.param, self.grad, self.arrays, self.scalars, self.fresh = \
            param, grad, arrays, scalars, fresh

    @classmethod
    def of(cls, param: np.ndarray, grad: np.ndarray, arrays: dict, scalars: dict,
           fresh: bool) -> "LargeUpdate | None":
        """The update, or None when the parameter is small or an array is not contiguous."""
        n = param.size
        if n < MIN_CHUNKED:
            return None
        p, g = _flat(param), _flat(grad)
        flat_arrays = {k: _flat(a) for k, a in arrays.items()}
        if p is None or g is None or any(a is None or a.size != n
                                         for a in flat_arrays.values()):
            return None
        return cls(p, g, flat_arrays, scalars, fresh)


def chunk_size(threads: int, passes: int = 0) -> int:
    """Elements per chunk: cache-sized on one thread; larger on several, so that each NumPy
    call outlasts the hand-over of the GIL between threads (tens of microseconds). A kernel of
    few passes over memory (``passes`` up to 3: SGD's) gains less from the cache than it pays
    in per-chunk calls, so it runs in large chunks."""
    if 0 < passes <= 3:
        return FEW_PASS_CHUNK
    return CHUNK if threads == 1 else PARALLEL_CHUNK


def run_large_updates(kernel: Callable, group: dict, updates: list[LargeUpdate],
                      maximize: bool, passes: int = 0, threaded: bool = True) -> None:
    """Run ``kernel(group, target, g, arrays, scalars)`` over chunks of every update, the
    chunks of all of them spread over the threads. The parameters must be distinct.
    ``passes``: how many times the kernel goes over memory (0: many), see :func:`chunk_size`;
    ``threaded=False`` keeps the chunks on the calling thread."""
    total = sum(u.param.size for u in updates)
    threads = max(1, min(_parallel.get_num_threads() if threaded else 1,
                         total // MIN_PER_THREAD))
    size = chunk_size(threads, passes)
    chunks = [(u, s, min(s + size, u.param.size)) for u in updates
              for s in range(0, u.param.size, size)]
    workers = max(1, min(threads, len(chunks)))
    bounds = [len(chunks) * i // workers for i in range(workers + 1)]

    def run(part: int) -> list:
        buffers: dict = {}  # per dtype: scratch, out, negated gradient
        finished = []
        for u, s, e in chunks[bounds[part]:bounds[part + 1]]:
            k = e - s
            dtype = u.param.dtype
            if dtype not in buffers:
                buffers[dtype] = [np.empty(size, dtype) for _ in range(3)]
            scratch, out, negated = buffers[dtype]
            local = {key: v.copy() for key, v in u.scalars.items()}
            g = np.negative(u.grad[s:e], out=negated[:k]) if maximize else u.grad[s:e]
            target = ChunkTarget(u.param[s:e], u.fresh, scratch[:k], out[:k])
            kernel(group, target, g, {key: a[s:e] for key, a in u.arrays.items()}, local)
            finished.append((u, local))
        return finished

    # every chunk computes the same new scalar state; keep one copy per update
    for finished in _parallel.parallel_map(run, range(workers)):
        for u, local in finished:
            for key, value in u.scalars.items():
                np.copyto(value, local[key])
