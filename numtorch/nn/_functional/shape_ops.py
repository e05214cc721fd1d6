"""Shape changes the layers need (flatten, unflatten, adding/removing a unit dimension).

They return views of the input's data with torch's node names, so they work whether or not the
general shape ops of ``numtorch`` are loaded.
"""
from __future__ import annotations

from ._common import Node, Tensor, needs_grad, record, wrap

__all__ = ["flatten", "unflatten", "unsqueeze_view", "squeeze_view"]


class ViewBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return g.reshape(self.shape),


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


class SqueezeBackward1(ViewBackward0):
    __slots__ = ()


def _reshaped(input: Tensor, shape: tuple, node_cls) -> Tensor:
    x = input._data
    res = wrap(x.reshape(shape), input)
    res._vc = input._shared_vc()
    if needs_grad(input):
        node = node_cls()
        node.shape = x.shape
        record(res, node, input)
    return res


def _dim(d: int, n: int) -> int:
    m = max(n, 1)
    if not -m <= d < m:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], "
                         f"but got {d})")
    return d % m


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``input`` with dimensions ``start_dim..end_dim`` merged into one."""
    shape = input._data.shape
    if not shape:
        return _reshaped(input, (1,), ViewBackward0)
    s, e = _dim(start_dim, len(shape)), _dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return _reshaped(input, shape[:s] + (n,) + shape[e + 1:], ViewBackward0)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """``input`` with dimension ``dim`` split into ``sizes`` (one entry may be -1)."""
    shape = input._data.shape
    d = _dim(dim, len(shape))
    sizes = tuple(int(v) for v in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for v in sizes:
        if v != -1:
            known *= v
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in sizes:
        if known == 0 or shape[d] % known:
            raise RuntimeError(f"shape '{list(sizes)}' is invalid for input of size {shape[d]}")
        sizes = tuple(shape[d] // known if v == -1 else v for v in sizes)
    elif known != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return _reshaped(input, shape[:d] + sizes + shape[d + 1:], ViewBackward0)


def unsqueeze_view(input: Tensor, dim: int) -> Tensor:
    """``input`` with a unit dimension inserted at ``dim``."""
    shape = input._data.shape
    d = dim % (len(shape) + 1)
    return _reshaped(input, shape[:d] + (1,) + shape[d:], UnsqueezeBackward0)


def squeeze_view(input: Tensor, dim: int) -> Tensor:
    """``input`` without its unit dimension ``dim``."""
    shape = input._data.shape
    d = dim % len(shape)
    return _reshaped(input, shape[:d] + shape[d + 1:], SqueezeBackward1)
