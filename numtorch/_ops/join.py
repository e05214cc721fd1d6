"""Differentiable splitting and joining: split, chunk, unbind (views sharing the input's memory
and version, one multi-output node) and cat, stack, hstack, vstack (copies, dtypes promoted)."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import _NP2DT, Tensor
from ._shape_util import _dim_error, _fresh, _index, _view, _wrap, _write_out
from ._util import GRAD, Node, record

__all__ = ["split", "chunk", "unbind", "cat", "concat", "concatenate", "stack", "hstack",
           "vstack"]


# ---------------------------------------------------------------------- nodes
class _MultiOutputNode(Node):
    """Backward of ops returning several views along ``axis`` (split, unbind)."""
    __slots__ = ("num_outputs", "shapes", "axis", "dtype")

    def _filled(self, grads):
        return [np.zeros(s, dtype=self.dtype) if g is None else g
                for g, s in zip(grads, self.shapes)]


class SplitBackward0(_MultiOutputNode):
    __slots__ = ()

    def backward(self, *grads):
        return (np.concatenate(self._filled(grads), axis=self.axis),)


class SplitWithSizesBackward0(SplitBackward0):
    __slots__ = ()


class UnbindBackward0(_MultiOutputNode):
    __slots__ = ()

    def backward(self, *grads):
        return (np.stack(self._filled(grads), axis=self.axis),)


class CatBackward0(Node):
    __slots__ = ("sizes", "axis", "dtypes")

    def backward(self, g):
        outs = []
        start = 0
        axis = self.axis
        for i, (size, dt) in enumerate(zip(self.sizes, self.dtypes)):
            if size is None:            # a legacy empty 1-D input that cat skipped
                outs.append(np.zeros((0,), dtype=dt) if self.next_functions[i][0] else None)
                continue
            if self.next_functions[i][0] is None:
                outs.append(None)
            else:
                part = g[(slice(None),) * axis + (slice(start, start + size),)]
                outs.append(part if part.dtype == dt else part.astype(dt))
            start += size
        return tuple(outs)


class StackBackward0(Node):
    __slots__ = ("axis", "dtypes")

    def backward(self, g):
        outs = []
        for i, dt in enumerate(self.dtypes):
            if self.next_functions[i][0] is None:
                outs.append(None)
                continue
            part = g[(slice(None),) * self.axis + (i,)]
            outs.append(part if part.dtype == dt else part.astype(dt))
        return tuple(outs)


# ---------------------------------------------------------------------- splitting
def _split_views(input: Tensor, sizes: list, d: int, node_cls) -> tuple:
    a = input._data
    parts = []
    start = 0
    pre = (slice(None),) * d
    for s in sizes:
        parts.append(_view(input, a[pre + (slice(start, start + s),)]))
        start += s
    if GRAD.enabled and input._requires_grad:
        node = node_cls()
        node.num_outputs = len(parts)
        node.shapes = [p._data.shape for p in parts]
        node.axis, node.dtype = d, a.dtype
        for i, p in enumerate(parts):
            record(p, node, input)
            p._output_nr = i
    return tuple(parts)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of consecutive pieces along ``dim``: of ``split_size`` each (the last may be
    smaller), or of the listed sizes."""
    a = tensor._data
    d = _wrap(dim, a.ndim)
    size = a.shape[d] if a.ndim else 1
    if isinstance(split_size_or_sections, (int, np.integer)) or (
            isinstance(split_size_or_sections, Tensor) and not split_size_or_sections.ndim):
        step = _index(split_size_or_sections)
        if step < 0 or (step == 0 and size):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}" if step == 0 else
                               f"split expects split_size be non-negative, but got split_size="
                               f"{step}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if step else [0]
        return _split_views(tensor, sizes or [0], d, SplitBackward0)
    sizes = [_index(s) for s in split_size_or_sections]
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_views(tensor, sizes, d, SplitWithSizesBackward0)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` views of (nearly) equal size along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    size = a.shape[_wrap(dim, a.ndim)]
    step = -(-size // chunks)
    if step == 0:
        return split(input, [0] * chunks, dim)
    return split(input, step, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The views at each position of ``dim``, that dimension removed."""
    a = input._data
    if a.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap(dim, a.ndim)
    pre = (slice(None),) * d
    parts = tuple(_view(input, a[pre + (i, Ellipsis)]) for i in range(a.shape[d]))
    if GRAD.enabled and input._requires_grad:
        node = UnbindBackward0()
        node.num_outputs = len(parts)
        node.shapes = [p._data.shape for p in parts]
        node.axis, node.dtype = d, a.dtype
        for i, p in enumerate(parts):
            record(p, node, input)
            p._output_nr = i
    return parts


# ---------------------------------------------------------------------- joining
def _joined_dtype(tensors) -> np.dtype:
    first = tensors[0]._data.dtype
    for t in tensors:
        if t._data.dtype != first:
            dt = None
            for u in tensors:
                d = _NP2DT[u._data.dtype]
                dt = d if dt is None else D.promote_types(dt, d)
            return dt.np
    return first


def _check_tensor_list(tensors, fn: str) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def _same_kind_arrays(tensors):
    """The arrays of ``tensors`` when all share one dtype and rank (the fast case), else None."""
    if type(tensors) is not list and type(tensors) is not tuple or not tensors:
        return None
    try:
        arrays = [t._data for t in tensors]
    except AttributeError:
        return None
    first = arrays[0]
    dt, nd = first.dtype, first.ndim
    if not nd:
        return None
    for x in arrays:
        if x.dtype != dt or x.ndim != nd:
            return None
    return arrays


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """The tensors joined along an existing dimension ``dim`` (dtypes promoted; 1-D empty
    tensors are skipped, as torch does)."""
    arrays = _same_kind_arrays(tensors)
    if arrays is not None:
        try:
            joined = np.concatenate(arrays, axis=dim)
        except (ValueError, TypeError):
            pass                          # the careful path below raises torch's error
        else:
            res = _fresh(tensors[0], joined)
            if GRAD.enabled and any(t._requires_grad for t in tensors):
                d = dim % arrays[0].ndim
                node = CatBackward0()
                node.axis = d
                node.sizes = [x.shape[d] for x in arrays]
                node.dtypes = [x.dtype for x in arrays]
                record(res, node, *tensors)
            return _write_out(res, out) if out is not None else res
    return _careful_cat(tensors, dim, out)


def _careful_cat(tensors, dim: int, out) -> Tensor:
    tensors = _check_tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    skipped = [t._data.shape == (0,) for t in tensors]
    if all(skipped):
        skipped = [False] * len(tensors)
    ref = next(t._data for t, s in zip(tensors, skipped) if not s)
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = _wrap(dim, ref.ndim)
    for i, t in enumerate(tensors):
        s = t._data.shape
        if skipped[i]:
            continue
        if len(s) != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{len(s)}")
        for k in range(ref.ndim):
            if k != d and s[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {s[k]} for tensor "
                                   f"number {i} in the list.")
    dt = _joined_dtype(tensors)
    arrays = [t._data if t._data.dtype == dt else t._data.astype(dt)
              for t, s in zip(tensors, skipped) if not s]
    res = _fresh(tensors[0], np.concatenate(arrays, axis=d))
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        node = CatBackward0()
        node.axis = d
        node.sizes = [None if s else t._data.shape[d] for t, s in zip(tensors, skipped)]
        node.dtypes = [t._data.dtype for t in tensors]
        record(res, node, *tensors)
    return _write_out(res, out)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """The tensors (all of one shape) joined along a new dimension ``dim``."""
    tensors = _check_tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} "
                               f"at entry 0 and {list(t._data.shape)} at entry {i}")
    n = len(ref) + 1
    dim = _index(dim)
    if dim < -n or dim >= n:
        raise _dim_error(dim, n)
    d = dim % n
    dt = _joined_dtype(tensors)
    new_axis = (slice(None),) * d + (None,)
    res = _fresh(tensors[0], np.concatenate([(t._data if t._data.dtype == dt else
                                              t._data.astype(dt))[new_axis] for t in tensors],
                                            axis=d))
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        node = StackBackward0()
        node.axis = d
        node.dtypes = [t._data.dtype for t in tensors]
        record(res, node, *tensors)
    return _write_out(res, out)


def hstack(tensors, *, out=None) -> Tensor:
    """Tensors joined column-wise (along dim 1, or dim 0 for vectors)."""
    from .shape import reshape
    tensors = _check_tensor_list(tensors, "hstack")
    tensors = [reshape(t, (1,)) if t._data.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """Tensors joined row-wise (vectors become rows)."""
    from .shape import reshape
    tensors = _check_tensor_list(tensors, "vstack")
    tensors = [reshape(t, (1, -1)) if t._data.ndim < 2 else t for t in tensors]
    return cat(tensors, 0, out=out)
