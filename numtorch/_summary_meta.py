"""The summary's forward pass on ``meta`` tensors: shapes without data where layers allow it.

While the pass runs, every module's ``forward`` is wrapped. Called with meta tensors, a layer
whose output shape ``_summary_shapes`` knows returns an empty meta tensor of that shape (no
arithmetic at all); any other module runs its own forward on the meta tensors (numtorch ops
compute on them as data-free, zero-strided arrays where they can). A module whose forward
fails on meta tensors (it reads values: ``.item()``, data-dependent indexing) is run again on
real random inputs of the same shapes and dtypes, and the rows its failed attempt recorded are
dropped; only that module and what it calls see real data.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from ._device import META
from ._summary_shapes import output_shape
from ._tensor import Tensor, _from_array


def real_input(shape, dtype, device=None) -> Tensor:
    """torchinfo's input for a size and dtype: uniform [0, 1) floats cast to ``dtype``
    (zeros for integer dtypes, so they are valid indices)."""
    from ._ops.creation import rand
    return rand(*shape, device=device).to(dtype)


def meta_input(shape, dtype) -> Tensor:
    """A data-free meta tensor (one zero-strided element, whatever the shape)."""
    return _from_array(np.broadcast_to(np.zeros((), dtype=dtype.np), tuple(shape)),
                       device=META)


def has_meta(value) -> bool:
    if isinstance(value, Tensor):
        return value._device is META
    if isinstance(value, dict):
        return any(has_meta(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_meta(v) for v in value)
    return False


def materialize(value):
    """``value`` with every meta tensor replaced by a real CPU one of its shape and dtype."""
    if isinstance(value, Tensor):
        return real_input(value.shape, value.dtype) if value._device is META else value
    if isinstance(value, dict):
        return type(value)((k, materialize(v)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(materialize(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(materialize(v) for v in value)
    return value


def _wrapper(module, original: Callable, recorder) -> Callable:
    own = getattr(original, "__func__", None) is type(module).forward
    leaf = not any(True for _ in module.children())

    def forward(*args, **kwargs):
        if not has_meta((args, kwargs)):
            return original(*args, **kwargs)
        if own and leaf and len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            known = output_shape(module, args[0])
            if known is not None:
                return meta_input(*known)
        mark = recorder.mark()
        try:
            return original(*args, **kwargs)
        except Exception:  # noqa: BLE001 - any failure on meta data: retry with real data
            recorder.rollback(mark)
            return original(*materialize(args), **materialize(kwargs))
    return forward


@contextmanager
def shape_only_forward(modules: list, recorder):
    """Within the block, ``modules`` run their forward on meta tensors as described above;
    ``recorder`` has ``mark()`` and ``rollback(mark)`` for the rows of a failed attempt."""
    saved: list[tuple[Any, bool, Any]] = []
    try:
        for m in modules:
            had_own = "forward" in m.__dict__
            saved.append((m, had_own, m.__dict__.get("forward")))
            m.__dict__["forward"] = _wrapper(m, m.forward, recorder)
        yield
    finally:
        for m, had_own, previous in saved:
            if had_own:
                m.__dict__["forward"] = previous
            else:
                m.__dict__.pop("forward", None)
