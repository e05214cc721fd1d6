"""Differentiable broadcasting and repetition: broadcast_to, broadcast_tensors, broadcast_shapes,
meshgrid (expanded views), tile and repeat_interleave (copies)."""
from __future__ import annotations

import warnings

import numpy as np

from .._printing_cpp import aten_str
from ._shape_util import _fresh, _wrap
from ._util import GRAD, Node, Tensor, record
from .shape import expand, repeat, reshape

__all__ = ["broadcast_to", "broadcast_tensors", "broadcast_shapes", "meshgrid", "tile",
           "repeat_interleave"]
TENSOR_METHODS = ["broadcast_to", "tile", "repeat_interleave"]


def broadcast_to(input: Tensor, size) -> Tensor:
    """A read-only broadcast view of ``input`` at ``size`` (``expand``)."""
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    """The shape the given shapes (or ints) broadcast to, as a ``Size``."""
    from .._tensor import Size
    result: list = []
    for i, s in enumerate(shapes):
        s = (s,) if isinstance(s, int) else tuple(s)
        if len(s) > len(result):
            result = [1] * (len(s) - len(result)) + result
        for k in range(1, len(s) + 1):
            n = s[-k]
            if n != 1 and result[-k] not in (1, n):
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {-k}! "
                                   f"Mismatching argument at index {i} had {s}; but expected "
                                   f"shape should be broadcastable to {result}")
            if result[-k] == 1:
                result[-k] = n
    return Size(result)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape (unchanged ones returned as is)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*[t._data.shape for t in tensors])
    except ValueError:
        shapes = [t._data.shape for t in tensors]
        nd = max(map(len, shapes))
        padded = [(1,) * (nd - len(s)) + s for s in shapes]
        for d in range(nd - 1, -1, -1):
            sizes = [p[d] for p in padded if p[d] != 1]
            if sizes and any(s != sizes[0] for s in sizes):
                raise RuntimeError(f"The size of tensor a ({sizes[0]}) must match the size of "
                                   f"tensor b ({sizes[1]}) at non-singleton dimension {d}") \
                    from None
        raise
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors, as expanded views (``indexing='ij'`` or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {aten_str(t)}")
    sizes = [t._data.size for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = (1 - i if i < 2 else i) if swap else i
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(expand(reshape(t, tuple(shape)), tuple(sizes)))
    return tuple(grids)


def tile(input: Tensor, dims) -> Tensor:
    """``input`` repeated ``dims[i]`` times along each dimension (ones prepended to ``dims`` when
    it is shorter than the rank)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


class _InterleaveBackward(Node):
    """Backward of repeat_interleave with one count: sums each group of ``count`` copies."""
    __slots__ = ("shape", "axis", "count")

    def backward(self, g):
        if not self.count:
            return (np.zeros(self.shape, dtype=g.dtype),)
        split = g.shape[:self.axis] + (g.shape[self.axis] // self.count, self.count) + \
            g.shape[self.axis + 1:]
        return (g.reshape(split).sum(axis=self.axis + 1).reshape(self.shape),)

    def name(self) -> str:
        return "ViewBackward0"


def repeat_interleave(input, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times (an int, or a count per element) along ``dim``
    (the flattened input when ``dim`` is None)."""
    if repeats is None:                      # repeat_interleave(counts): indices repeated
        counts = input._data
        return _fresh(input, np.repeat(np.arange(counts.size), counts).astype(np.int64))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    a = input._data
    axis = _wrap(dim, a.ndim)
    if isinstance(repeats, Tensor) and repeats._data.ndim:
        counts = repeats._data
        if counts.size != a.shape[axis] and counts.size != 1:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size({axis}) = "
                               f"{a.shape[axis]}")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        from .scatter import index_select
        positions = np.repeat(np.arange(a.shape[axis]), np.broadcast_to(counts, a.shape[axis:
                                                                                        axis + 1]))
        return index_select(input, axis, _fresh(input, positions.astype(np.int64)))
    count = int(repeats)
    if count < 0:
        raise RuntimeError("repeats can not be negative")
    out = _fresh(input, np.repeat(a if a.ndim else a.reshape(1), count, axis=axis))
    if GRAD.enabled and input._requires_grad:
        node = _InterleaveBackward()
        node.shape, node.axis, node.count = a.shape, axis, count
        record(out, node, input)
    return out
