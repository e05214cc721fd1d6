"""Large parameters updated chunk by chunk, the chunks spread over numtorch's threads.

Every optimizer ``_kernel`` that declares itself element-wise computes each element of its
result from the same element of its inputs, so running it over consecutive slices gives
bit-identical results to one call over the whole tensor. Slices of ``CHUNK`` elements keep a
kernel's intermediates in the core's cache (one pass over memory instead of one per NumPy call),
and NumPy releases the GIL while it computes, so the threads run in parallel.

Scalar state (``step``...) must advance once per step, not once per chunk: each chunk runs on a
private copy of it, and the copy of the last chunk is written back.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _parallel
from ._flat import MAX_FLAT_PARAM, ParamTarget

__all__ = ["CHUNK", "MIN_CHUNKED", "chunked_step"]

CHUNK = 1 << 15
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


def chunked_step(kernel: Callable, group: dict, param: np.ndarray, grad: np.ndarray,
                 arrays: dict, scalars: dict, fresh: bool, maximize: bool) -> bool:
    """Run ``kernel(group, target, g, arrays, scalars)`` over slices of one parameter; returns
    False (having done nothing) when the parameter is small or an array is not contiguous."""
    n = param.size
    if n < MIN_CHUNKED:
        return False
    p, g = _flat(param), _flat(grad)
    flat_arrays = {k: _flat(a) for k, a in arrays.items()}
    if p is None or g is None or any(a is None or a.size != n for a in flat_arrays.values()):
        return False
    chunks = -(-n // CHUNK)
    workers = max(1, min(_parallel.get_num_threads(), chunks))
    bounds = [CHUNK * (chunks * i // workers) for i in range(workers)] + [n]

    def run(part: int) -> dict:
        lo, hi = bounds[part], bounds[part + 1]
        size = min(CHUNK, hi - lo)
        scratch, out = np.empty(size, p.dtype), np.empty(size, p.dtype)
        negated = np.empty(size, g.dtype) if maximize else None
        local = {}
        for s in range(lo, hi, CHUNK):
            e = min(s + CHUNK, hi)
            k = e - s
            local = {key: v.copy() for key, v in scalars.items()}
            gs = np.negative(g[s:e], out=negated[:k]) if maximize else g[s:e]
            target = ChunkTarget(p[s:e], fresh, scratch[:k], out[:k])
            kernel(group, target, gs, {key: a[s:e] for key, a in flat_arrays.items()}, local)
        return local

    last = _parallel.parallel_map(run, range(workers))[-1]
    for key, value in scalars.items():
        np.copyto(value, last[key])
    return True
