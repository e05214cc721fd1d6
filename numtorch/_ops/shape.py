"""Differentiable shape ops: views (view, reshape, permute, transpose, expand, squeeze, narrow,
select), copies (repeat, flip, roll, clone), and the ``T``/``mT`` properties. Splitting and
joining live in ``join.py`` and are re-exported here.

View ops return tensors whose array is a NumPy view of the input's array and which share the
input's version counter, so in-place changes through either are seen by both, as in torch.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype as D
from .._arg_errors import invalid_combination
from .._device import META
from .._tensor import Tensor
from ._shape_util import (_dim_error, _fresh, _index, _reshaped_view, _size_args, _view, _wrap,
                          infer_size)
from ._util import GRAD, Node, record, unbroadcast
from .join import (cat, chunk, concat, concatenate, hstack, split, stack, unbind,  # noqa: F401
                   vstack)

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
           "swapaxes", "swapdims", "t", "narrow", "select", "split", "chunk", "unbind", "cat",
           "concat", "concatenate", "stack", "hstack", "vstack", "flip", "roll", "clone",
           "movedim", "moveaxis", "adjoint", "ravel", "tensor_split"]
TENSOR_METHODS = [n for n in __all__ if n not in ("cat", "concat", "concatenate", "stack",
                                                   "hstack", "vstack")] + [
    "view", "view_as", "reshape_as", "expand", "expand_as", "repeat", "contiguous", "unfold"]
METHOD_ALIASES: dict = {"movedim": "_movedim_method", "moveaxis": "_moveaxis_method"}


# ---------------------------------------------------------------------- nodes
class _ReshapeNode(Node):
    """Backward of ops that only re-read the same elements in another shape."""
    __slots__ = ("shape",)

    def backward(self, g):
        return (g.reshape(self.shape),)


class ViewBackward0(_ReshapeNode):
    __slots__ = ()


class UnsafeViewBackward0(_ReshapeNode):
    __slots__ = ()


class SqueezeBackward0(_ReshapeNode):
    __slots__ = ()


class SqueezeBackward1(_ReshapeNode):
    __slots__ = ()


class SqueezeBackward2(_ReshapeNode):
    __slots__ = ()


class UnsqueezeBackward0(_ReshapeNode):
    __slots__ = ()


class AliasBackward0(_ReshapeNode):
    __slots__ = ()


class ReshapeAliasBackward0(_ReshapeNode):
    __slots__ = ()


class PermuteBackward0(Node):
    __slots__ = ("inverse",)

    def backward(self, g):
        return (g.transpose(self.inverse),)


class TransposeBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g):
        return (g.swapaxes(*self.dims) if g.ndim > 1 else g,)


class TBackward0(TransposeBackward0):
    __slots__ = ()


class ExpandBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return (unbroadcast(g, self.shape),)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


class _SliceNode(Node):
    """Backward of a strided window: the gradient lands in a zero array at the window."""
    __slots__ = ("shape", "key")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        out[self.key] = g
        return (out,)


class SliceBackward0(_SliceNode):
    __slots__ = ()


class SelectBackward0(_SliceNode):
    __slots__ = ()


class RepeatBackward0(Node):
    __slots__ = ("shape", "reps")

    def backward(self, g):
        shape, reps = self.shape, self.reps
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        inter = []
        for r, s in zip(reps, padded):
            inter += [r, s]
        summed = g.reshape(inter).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return (summed.reshape(shape),)


class FlipBackward0(Node):
    __slots__ = ("axes",)

    def backward(self, g):
        return (np.flip(g, self.axes),)


class RollBackward0(Node):
    __slots__ = ("shifts", "axes", "shape")

    def backward(self, g):
        neg = tuple(-s for s in self.shifts)
        if self.axes is None:
            return (np.roll(g.reshape(-1), neg[0]).reshape(self.shape),)
        return (np.roll(g, neg, self.axes),)


def _record_reshape(out: Tensor, node_cls, input: Tensor) -> Tensor:
    node = node_cls()
    node.shape = input._data.shape
    return record(out, node, input)


# ---------------------------------------------------------------------- view / reshape
_NOT_VIEWABLE = ("view size is not compatible with input tensor's size and stride (at least one "
                 "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


def view(input: Tensor, *shape) -> Tensor:
    """The same elements seen with another shape (one size may be -1), sharing memory; or, given
    a dtype, the same bytes reinterpreted as that dtype."""
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        return _view_dtype(input, shape[0])
    shape = _size_args(shape, "view")
    a = input._data
    if shape and min(shape) < -1:
        infer_size(shape, a.size)
    try:
        arr = _reshaped_view(a, shape)
    except ValueError:
        infer_size(shape, a.size)
        raise RuntimeError(_NOT_VIEWABLE) from None
    out = _view(input, arr)
    if GRAD.enabled and input._requires_grad:
        _record_reshape(out, ViewBackward0, input)
    return out


_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _view_dtype(input: Tensor, dt: D.dtype) -> Tensor:
    """The same bytes read as ``dt`` (never differentiable, as in torch)."""
    a = input._data
    target = D.to_numpy_dtype(dt)
    if target.itemsize != a.itemsize:
        what = (f"to view {_TYPE_WORDS.get(input.dtype.name, input.dtype.name)} as "
                f"{_TYPE_WORDS.get(dt.name, dt.name)} (different element sizes)")
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.strides[-1] != a.itemsize and a.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{a.strides[-1] // a.itemsize}")
        ratio = target.itemsize // a.itemsize
        if target.itemsize > a.itemsize and a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                               f"{a.shape[-1]}")
    return _view(input, a.view(target))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return view(input, other._data.shape)


def reshape(input: Tensor, *shape) -> Tensor:
    """The elements with a new shape: a view when the layout allows it, else a copy."""
    shape = _size_args(shape, "reshape")
    a = input._data
    if shape and min(shape) < -1:
        infer_size(shape, a.size)
    try:
        arr = _reshaped_view(a, shape)
    except ValueError:
        shape = infer_size(shape, a.size)
        out = _fresh(input, np.reshape(a, shape))
        if GRAD.enabled and input._requires_grad:
            _record_reshape(out, UnsafeViewBackward0, input)
        return out
    out = _view(input, arr)
    if GRAD.enabled and input._requires_grad:
        _record_reshape(out, ViewBackward0 if a.flags.c_contiguous else ReshapeAliasBackward0,
                        input)
    return out


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return reshape(input, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim``..``end_dim`` merged into one (a view when possible)."""
    shape = input._data.shape
    if not shape:
        _wrap(start_dim, 0), _wrap(end_dim, 0)  # a 0-d tensor takes dims -1 and 0 only
        return reshape(input, (1,))
    if start_dim == 0 and end_dim == -1:
        return reshape(input, (-1,)) if len(shape) > 1 else input
    s, e = _wrap(start_dim, len(shape)), _wrap(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    d = _wrap(dim, len(shape))
    if not shape:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    sizes = tuple(map(_index, sizes))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        new = infer_size(sizes, shape[d])
    except RuntimeError:
        if sizes.count(-1) > 1:
            raise
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor") from None
    return view(input, shape[:d] + new + shape[d + 1:])


# ---------------------------------------------------------------------- squeeze / unsqueeze
def squeeze(input: Tensor, dim=None) -> Tensor:
    """The input without size-1 dimensions (all, one ``dim``, or a tuple of dims)."""
    a = input._data
    if dim is None:
        node_cls = SqueezeBackward0
        arr = a.squeeze()
    else:
        if isinstance(dim, (tuple, list)):
            node_cls = SqueezeBackward2
            axes = {_wrap(d, a.ndim) for d in dim}
        else:
            node_cls = SqueezeBackward1
            axes = {_wrap(dim, a.ndim)}
        arr = a.squeeze(tuple(d for d in axes if a.ndim and a.shape[d] == 1))
    out = _view(input, arr)
    if GRAD.enabled and input._requires_grad:
        _record_reshape(out, node_cls, input)
    return out


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A view with a new size-1 dimension at ``dim``."""
    a = input._data
    d = _index(dim)
    n = a.ndim + 1
    if d < -n or d >= n:
        raise _dim_error(d, n)
    out = _view(input, a[(slice(None),) * (d % n) + (None,)])
    if GRAD.enabled and input._requires_grad:
        _record_reshape(out, UnsqueezeBackward0, input)
    return out


# ---------------------------------------------------------------------- permutations
def permute(input: Tensor, *dims) -> Tensor:
    """A view with the dimensions reordered as ``dims``."""
    dims = _size_args(dims, "permute")
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not "
                           "match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    try:
        arr = input._data.transpose(dims)
    except ValueError:                      # out of range or repeated: torch's errors
        axes = tuple(_wrap(d, nd) for d in dims)
        raise RuntimeError("permute(): duplicate dims are not allowed.") from None
    out = _view(input, arr)
    if GRAD.enabled and input._requires_grad:
        inverse = [0] * nd
        for i, d in enumerate(dims):
            inverse[d % nd] = i
        node = PermuteBackward0()
        node.inverse = tuple(inverse)
        record(out, node, input)
    return out


_MOVEDIM_SIGNATURES = ([("int", "source"), ("int", "destination")],
                       [("tuple of ints", "source"), ("tuple of ints", "destination")])


def _check_movedim_args(name: str, args: tuple, method: bool) -> None:
    """torch's parser error unless source and destination are both ints or both sequences."""
    source, destination = args[-2:]
    kinds = {type(a) is int or isinstance(a, np.integer) or
             (isinstance(a, (tuple, list)) and "seq") for a in (source, destination)}
    if kinds in ({True}, {"seq"}):
        return
    sigs = _MOVEDIM_SIGNATURES if method else [[("Tensor", "input")] + s
                                               for s in _MOVEDIM_SIGNATURES]
    raise invalid_combination(name, args[1:] if method else args, sigs)


def _movedim_method(self: Tensor, source, destination) -> Tensor:
    """Tensor.movedim (torch's parser errors name no input)."""
    _check_movedim_args("movedim", (self, source, destination), True)
    return movedim(self, source, destination)


def _moveaxis_method(self: Tensor, source, destination) -> Tensor:
    """Tensor.moveaxis (torch's parser errors name no input)."""
    _check_movedim_args("moveaxis", (self, source, destination), True)
    return movedim(self, source, destination)


def moveaxis(input: Tensor, source, destination) -> Tensor:
    """Alias of :func:`movedim`."""
    _check_movedim_args("moveaxis", (input, source, destination), False)
    return movedim(input, source, destination)


def movedim(input: Tensor, source, destination) -> Tensor:
    """A view with dimension(s) ``source`` moved to ``destination``."""
    nd = input._data.ndim
    _check_movedim_args("movedim", (input, source, destination), False)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [_wrap(d, nd) for d in src]
    dst = [_wrap(d, nd) for d in dst]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)



def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dimensions ``dim0`` and ``dim1`` swapped."""
    a = input._data
    d0, d1 = _wrap(dim0, a.ndim), _wrap(dim1, a.ndim)
    out = _view(input, a.swapaxes(d0, d1) if a.ndim else a.view())
    if GRAD.enabled and input._requires_grad:
        node = TransposeBackward0()
        node.dims = (d0, d1)
        record(out, node, input)
    return out


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix (vectors and scalars come back unchanged, as views)."""
    a = input._data
    if a.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    out = _view(input, a.T if a.ndim == 2 else a.view())
    if GRAD.enabled and input._requires_grad:
        node = TBackward0()
        node.dims = (0, 1)
        record(out, node, input)
    return out


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view for real tensors)."""
    if input._data.dtype.kind == "c":
        raise NotImplementedError("numtorch does not support adjoint() of complex tensors yet")
    return _mT(input, "mH")


def _T(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd != 2:
        if nd == 0:
            msg = ("Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                   "cases.")
        else:
            msg = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape "
                   "is deprecated and it will throw an error in a future release. Consider `x.mT` "
                   "to transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, "
                   "-1))` to reverse the dimensions of a tensor.")
        warnings.warn(msg, UserWarning, stacklevel=2)
    return permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self: Tensor, name: str = "mT") -> Tensor:
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {nd}-D tensor.")
    return transpose(self, -2, -1)


def _H(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd != 2:
        hint = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D "
                           f"tensor.{hint}")
    return adjoint(self)


def install_properties(cls) -> None:
    """Attach ``T``, ``mT``, ``H`` and ``mH`` (the latter two for real tensors) as properties."""
    cls.T = property(_T, doc="The dimensions reversed (the transpose of a matrix).")
    cls.mT = property(_mT, doc="The last two dimensions swapped.")
    cls.H = property(_H, doc="The conjugate transpose of a matrix.")
    cls.mH = property(adjoint, doc="The conjugate transpose of the last two dimensions.")


# ---------------------------------------------------------------------- expand / repeat
def expand(input: Tensor, *sizes) -> Tensor:
    """A read-only broadcast view of ``input`` at ``sizes`` (-1 keeps a dimension)."""
    sizes = _size_args(sizes, "expand")
    a = input._data
    shape = a.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    target = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            continue
        have = shape[i - lead]
        if s == -1:
            target[i] = have
        elif have != 1 and s != have:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
    out = _view(input, np.broadcast_to(a, tuple(target)))
    if GRAD.enabled and input._requires_grad:
        _record_reshape(out, ExpandBackward0, input)
    return out


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.shape)``."""
    return expand(input, other._data.shape)


def repeat(input: Tensor, *sizes) -> Tensor:
    """A copy tiled ``sizes[i]`` times along each dimension (new leading dims allowed)."""
    reps = _size_args(sizes, "repeat")
    a = input._data
    if len(reps) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: "
                           f"{list(reps)}")
    out = _fresh(input, np.tile(a, reps) if reps else a.copy())
    if GRAD.enabled and input._requires_grad:
        node = RepeatBackward0()
        node.shape, node.reps = a.shape, reps
        record(out, node, input)
    return out


# ---------------------------------------------------------------------- windows
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """A view of ``length`` elements of dimension ``dim`` from ``start``."""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap(dim, a.ndim)
    size = a.shape[d]
    start = _index(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but "
                         f"got {start})")
    start %= size if size else 1
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    out = _view(input, a[key])
    if GRAD.enabled and input._requires_grad:
        node = SliceBackward0()
        node.shape, node.key = a.shape, key
        record(out, node, input)
    return out


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at position ``index`` of dimension ``dim``, that dimension removed."""
    a = input._data
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap(dim, a.ndim)
    size = a.shape[d]
    i = _index(index)
    if not -size <= i < size:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(a.shape)} at "
                         f"dimension {d}")
    key = (slice(None),) * d + (i % size, Ellipsis)
    out = _view(input, a[key])
    if GRAD.enabled and input._requires_grad:
        node = SelectBackward0()
        node.shape, node.key = a.shape, key
        record(out, node, input)
    return out


# ---------------------------------------------------------------------- copies
def flip(input: Tensor, *dims) -> Tensor:
    """A copy with the order of elements reversed along ``dims``."""
    dims = _size_args(dims, "flip")
    a = input._data
    axes = tuple(_wrap(d, a.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        dup = next(d for d in axes if axes.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    out = _fresh(input, np.flip(a, axes).copy() if a.ndim else a.copy())
    if GRAD.enabled and input._requires_grad:
        node = FlipBackward0()
        node.axes = axes
        record(out, node, input)
    return out


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """A copy with elements shifted circularly along ``dims`` (or the flattened tensor)."""
    a = input._data
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(map(_index, shifts))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        arr = np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
        axes = None
    else:
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(dims) != len(shifts):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                               f"{len(dims)}")
        axes = tuple(_wrap(d, a.ndim) for d in dims)
        arr = np.roll(a, shifts, axes)
    out = _fresh(input, arr)
    if GRAD.enabled and input._requires_grad:
        node = RollBackward0()
        node.shifts, node.axes, node.shape = shifts, axes, a.shape
        record(out, node, input)
    return out


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when contiguous, else of a contiguous copy)."""
    return view(contiguous(input), (-1,))


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views splitting ``dim`` into ``n`` near-equal parts (the first ``size % n`` one longer),
    or at the given indices."""
    a = input._data
    d = _wrap(dim, a.ndim)
    size = a.shape[d]
    if isinstance(indices_or_sections, Tensor) and indices_or_sections._data.ndim == 0:
        indices_or_sections = int(indices_or_sections)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        small, extra = divmod(size, n)
        bounds = [i * small + min(i, extra) for i in range(n + 1)]
    else:
        cuts = [int(i) for i in indices_or_sections]
        bounds = [0] + cuts + [size]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo, hi = min(max(lo, 0), size), min(max(hi, 0), size)
        parts.append(narrow(input, d, lo, max(hi - lo, 0)))
    return tuple(parts)


class UnfoldBackward0(Node):
    __slots__ = ("shape", "axis", "size", "step")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        n = g.shape[self.axis]
        pre = (slice(None),) * self.axis
        for k in range(self.size):          # one vectorised add per window offset
            out[pre + (slice(k, k + self.step * (n - 1) + 1, self.step),)] += g[..., k]
        return (out,)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A read-only view of all windows of ``size`` along ``dimension`` taken every ``step``;
    the window becomes a new last dimension."""
    a = input._data
    d = _wrap(dimension, a.ndim)
    length = a.shape[d] if a.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    src = a if a.ndim else a.reshape(1)
    windows = np.lib.stride_tricks.sliding_window_view(src, size, axis=d)
    windows = windows[(slice(None),) * d + (slice(None, None, step),)]
    out = _view(input, windows if a.ndim else windows.reshape(windows.shape[1:]))
    if GRAD.enabled and input._requires_grad:
        node = UnfoldBackward0()
        node.shape, node.axis, node.size, node.step = a.shape, d, size, step
        record(out, node, input)
    return out


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory, recorded for autograd."""
    a = input._data
    out = _fresh(input, a.copy() if input._device is not META else
                 np.broadcast_to(np.zeros((), dtype=a.dtype), a.shape))
    if GRAD.enabled and input._requires_grad:
        record(out, CloneBackward0(), input)
    return out


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when laid out contiguously, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


install_properties(Tensor)


from . import repeat as _repeat  # noqa: E402  (it builds on the ops above)

__all__ += _repeat.__all__
TENSOR_METHODS += _repeat.TENSOR_METHODS
globals().update({n: getattr(_repeat, n) for n in _repeat.__all__})
