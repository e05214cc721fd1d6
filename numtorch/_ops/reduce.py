"""Reductions: sum, mean, var/std, max/min (with indices), amax/amin, argmax/argmin, logsumexp,
prod, norm, cumsum, all/any, count_nonzero.

Half-precision inputs accumulate in float32, as torch's CPU kernels do.
"""
from __future__ import annotations

import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from ._select import select
from ._util import GRAD, Node, Tensor, record, type_word, wrap

__all__ = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
           "logsumexp", "prod", "norm", "cumsum", "all", "any", "count_nonzero"]
TENSOR_METHODS = [n for n in __all__ if n != "prod"]  # vector_norm is for numtorch.linalg
METHOD_ALIASES = {"prod": "_prod_method"}

_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (int, sequence or None) as a tuple of non-negative axes; IndexError when out of
    range."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    n = ndim if ndim else 1
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        d = d % n if ndim else 0
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(out) if ndim else ()


def _axes(dim, ndim: int) -> tuple:
    """Reduction axes; ``None`` and ``()`` mean every dimension."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return normalize_dims(dim, ndim)


def expand_reduced(g: np.ndarray, shape: tuple, axes: tuple, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back to the input ``shape``."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def _acc(a: np.ndarray) -> np.ndarray:
    """The array to accumulate over: half types widen to float32."""
    return a.astype(_F32) if a.dtype in _HALF else a


def _dim_kwargs_node(node, shape, axes, keepdim):
    node.shape, node.axes, node.keepdim = shape, axes, keepdim
    return node


# ---------------------------------------------------------------------- sum / mean
class SumBackward0(Node):
    __slots__ = ("shape", "dtype")

    def backward(self, g):
        g = g.astype(self.dtype, copy=False)
        shape = self.shape
        if len(shape) <= 1 and (not shape or shape[0] <= 4096):
            # np.broadcast_to costs ~2.5us of Python; a small filled array costs ~0.3us
            out = np.empty(shape, dtype=g.dtype)
            out[...] = g
            return (out,)
        return (np.broadcast_to(g, shape),)


class SumBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim", "dtype")

    def backward(self, g):
        return (expand_reduced(g.astype(self.dtype, copy=False), self.shape, self.axes,
                               self.keepdim),)


def _sum_dtype(a: np.ndarray, dtype):
    if dtype is not None:
        return D.to_numpy_dtype(dtype)
    if a.dtype.kind in "biu":
        return np.dtype(np.int64)
    return None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all elements, or over ``dim`` (int or tuple); integers and bools sum to int64."""
    a = input._data
    if dim is None and not keepdim and dtype is None and a.dtype.char in "fd":
        res = wrap(np.add.reduce(a, axis=None), input)
        if GRAD.enabled and input._requires_grad:
            node = SumBackward0()
            node.shape, node.dtype = a.shape, a.dtype
            record(res, node, input)
        return res
    axes = _axes(dim, a.ndim)
    sd = _sum_dtype(a, dtype)
    if sd is not None and a.dtype != sd:
        a = a.astype(sd)
    r = np.add.reduce(_acc(a), axis=axes, keepdims=keepdim).astype(a.dtype, copy=False)
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        full = dim is None and not keepdim
        node = SumBackward0() if full else _dim_kwargs_node(SumBackward1(), a.shape, axes,
                                                            keepdim)
        node.shape, node.dtype = a.shape, input._data.dtype
        record(res, node, input)
    return res


class MeanBackward0(Node):
    __slots__ = ("shape", "count", "dtype")

    def backward(self, g):
        return (np.broadcast_to((g / self.count).astype(self.dtype, copy=False), self.shape),)


class MeanBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim", "count", "dtype")

    def backward(self, g):
        return (expand_reduced((g / self.count).astype(self.dtype, copy=False), self.shape,
                               self.axes, self.keepdim),)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean of all elements, or over ``dim``; floating/complex inputs only."""
    a = input._data
    if dim is None and not keepdim and dtype is None and a.dtype.char in "fd" and a.size:
        res = wrap(np.true_divide(np.add.reduce(a, axis=None), a.size, dtype=a.dtype), input)
        if GRAD.enabled and input._requires_grad:
            node = MeanBackward0()
            node.shape, node.count, node.dtype = a.shape, a.size, a.dtype
            record(res, node, input)
        return res
    if dtype is not None:
        a = a.astype(D.to_numpy_dtype(dtype))
    if a.dtype.kind not in "fcV":
        which = "Input" if dtype is None else "Optional"
        raise RuntimeError(
            f"mean(): could not infer output dtype. {which} dtype must be either a floating point "
            f"or complex dtype. Got: {type_word(a.dtype)}")
    axes = _axes(dim, a.ndim)
    count = _count(a.shape, axes)
    r = np.add.reduce(_acc(a), axis=axes, keepdims=keepdim)
    r = (r / count if count else np.full_like(r, np.nan)).astype(a.dtype, copy=False)
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        if dim is None and not keepdim:
            node = MeanBackward0()
            node.shape, node.count = a.shape, count
        else:
            node = _dim_kwargs_node(MeanBackward1(), a.shape, axes, keepdim)
            node.count = count
        node.dtype = input._data.dtype
        record(res, node, input)
    return res


# ---------------------------------------------------------------------- var / std
class VarBackward0(Node):
    __slots__ = ("axes", "keepdim", "dof")

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        xa = _acc(xd)
        centred = xa - xa.mean(axis=self.axes, keepdims=True)
        ge = expand_reduced(_acc(g), xd.shape, self.axes, self.keepdim)
        return ((ge * centred * (2.0 / self.dof if self.dof else np.inf)).astype(xd.dtype),)


class StdBackward0(Node):
    __slots__ = ("axes", "keepdim", "dof")

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd = x._data
        xa = _acc(xd)
        centred = xa - xa.mean(axis=self.axes, keepdims=True)
        o = _acc(out._data)
        with np.errstate(divide="ignore", invalid="ignore"):
            # a zero standard deviation passes no gradient (torch masks it)
            per = np.where(o == 0, 0, _acc(g) / o)
            scale = expand_reduced(per, xd.shape, self.axes, self.keepdim)
            r = scale * centred / self.dof
        return (r.astype(xd.dtype),)


def _correction(dim, unbiased, correction):
    """Sort torch's overloads: ``var(unbiased)``, ``var(dim, unbiased, keepdim)``, correction."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError("var(): can't specify both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var(input, dim, unbiased, keepdim, correction, name):
    dim, correction = _correction(dim, unbiased, correction)
    a = input._data
    if a.dtype.kind not in "fcV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, a.ndim)
    n = _count(a.shape, axes)
    dof = n - correction
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    xa = _acc(a)
    centred = xa - xa.mean(axis=axes, keepdims=True) if n else xa
    sq = centred.real * centred.real + centred.imag * centred.imag if xa.dtype.kind == "c" \
        else centred * centred
    ss = np.add.reduce(sq, axis=axes, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = ss / dof if dof > 0 else ss / 0.0 if n else np.full_like(ss, np.nan)
    if a.dtype.kind == "c":
        a = a.real  # the result (and its dtype) is real
    return a, axes, v, dof


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    a, axes, v, dof = _var(input, dim, unbiased, keepdim, correction, "var")
    res = wrap(v.astype(a.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = VarBackward0()
        node.axes, node.keepdim, node.dof = axes, keepdim, dof
        node.save(input)
        record(res, node, input)
    return res


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation: the square root of :func:`var`."""
    a, axes, v, dof = _var(input, dim, unbiased, keepdim, correction, "std")
    res = wrap(np.sqrt(v).astype(a.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = StdBackward0()
        node.axes, node.keepdim, node.dof = axes, keepdim, dof
        node.save(input, res)
        record(res, node, input)
    return res


# ---------------------------------------------------------------------- max / min
def _return_type(name: str):
    cls = namedtuple(name, ["values", "indices"])
    cls.__module__ = "numtorch.return_types"
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\nvalues={self.values!r},\n"
                                 f"indices={self.indices!r})")
    return cls


max_result = _return_type("max")
min_result = _return_type("min")


class MaxBackward1(Node):
    """Full max/min (and amax/amin): the gradient is shared evenly among tied extremes (for
    max/min NaNs tie with a NaN result; amax/amin count only equal values, so a NaN result
    spreads NaN over its reduced elements, as in torch)."""
    __slots__ = ("axes", "keepdim")
    nan_ties = True

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd = x._data
        o = expand_reduced(out._data, xd.shape, self.axes, self.keepdim)
        mask = xd == o
        if self.nan_ties and xd.dtype.kind in "fV":
            mask |= np.isnan(xd) & np.isnan(o)
        count = np.add.reduce(mask, axis=self.axes, keepdims=True)
        ge = expand_reduced(g, xd.shape, self.axes, self.keepdim)
        if self.nan_ties:  # max/min: torch writes g / count into zeros
            return (select(mask, (ge / count).astype(xd.dtype, copy=False)),)
        return ((ge / count * mask).astype(xd.dtype),)  # amax/amin: torch multiplies by the mask


class MinBackward1(MaxBackward1):
    __slots__ = ()


class AmaxBackward0(MaxBackward1):
    __slots__ = ()
    nan_ties = False


class AminBackward0(MaxBackward1):
    __slots__ = ()
    nan_ties = False


class MaxBackward0(Node):
    """max/min along a dim: the gradient goes to the selected index."""
    __slots__ = ("shape", "axis", "keepdim", "indices", "dtype")

    def backward(self, g):
        if not self.shape:
            return (g.astype(self.dtype, copy=False),)
        out = np.zeros(self.shape, dtype=self.dtype)
        idx, gg = self.indices, g
        if not self.keepdim:
            idx, gg = np.expand_dims(idx, self.axis), np.expand_dims(g, self.axis)
        np.put_along_axis(out, idx, gg, axis=self.axis)
        return (out,)


class MinBackward0(MaxBackward0):
    __slots__ = ()


def _check_nonempty(a: np.ndarray, name: str, axes) -> None:
    if a.size == 0:
        if axes is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        for ax in axes:
            if a.shape[ax] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {ax} to have non-zero size.")


def _extreme(input, dim, keepdim, is_max, name, dim_only=False):
    a = input._data
    red = np.max if is_max else np.min
    if dim is None:
        _check_nonempty(a, name, None)
        res = wrap(red(a), input)
        if GRAD.enabled and input._requires_grad:
            node = (MaxBackward1 if is_max else MinBackward1)()
            node.axes, node.keepdim = tuple(range(a.ndim)), False
            node.save(input, res)
            record(res, node, input)
        return res
    (axis,) = normalize_dims(dim, a.ndim) or (None,)
    _check_nonempty(a, name, (axis,) if axis is not None else ())
    if axis is None:
        values, idx = a.copy(), np.zeros((), dtype=np.int64)
    else:
        arg = np.argmax if is_max else np.argmin
        idx = arg(a, axis=axis, keepdims=True)
        values = np.take_along_axis(a, idx, axis=axis)
        if not keepdim:
            idx, values = np.squeeze(idx, axis), np.squeeze(values, axis)
        idx = idx.astype(np.int64, copy=False)
    vt = wrap(values, input)
    if GRAD.enabled and input._requires_grad:
        node = (MaxBackward0 if is_max else MinBackward0)()
        node.shape, node.axis, node.keepdim, node.dtype = a.shape, axis or 0, keepdim, a.dtype
        node.indices = idx if axis is not None else np.zeros(a.shape, dtype=np.int64)
        if axis is None:
            node.keepdim = True
        record(vt, node, input)
    return (max_result if is_max else min_result)(vt, wrap(idx, input))


def max(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """The largest element; with ``dim``, (values, indices) along it; with a tensor, the
    elementwise :func:`maximum`."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(input, dim)
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """The smallest element; with ``dim``, (values, indices) along it; with a tensor, the
    elementwise :func:`minimum`."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(input, dim)
    return _extreme(input, dim, keepdim, False, "min")


def _amax(input, dim, keepdim, is_max, name):
    a = input._data
    axes = _axes(dim, a.ndim)
    full = dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)
    _check_nonempty(a, name, None if full else axes)
    r = (np.max if is_max else np.min)(a, axis=axes, keepdims=keepdim)
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        node = (AmaxBackward0 if is_max else AminBackward0)()
        node.axes, node.keepdim = axes, keepdim
        node.save(input, res)
        record(res, node, input)
    return res


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims by default); ties share the gradient evenly."""
    return _amax(input, dim, keepdim, True, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims by default); ties share the gradient evenly."""
    return _amax(input, dim, keepdim, False, "amin")


def _arg(input, dim, keepdim, fn, name):
    a = input._data
    if a.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        r = np.asarray(fn(a), dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return wrap(r, input)
    (axis,) = normalize_dims(dim, a.ndim) or (None,)
    if axis is None:
        return wrap(np.zeros((), dtype=np.int64), input)
    _check_nonempty(a, name, (axis,))
    return wrap(fn(a, axis=axis, keepdims=keepdim).astype(np.int64, copy=False), input)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (flattened when ``dim`` is None), as int64."""
    return _arg(input, dim, keepdim, np.argmax, "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (flattened when ``dim`` is None), as int64."""
    return _arg(input, dim, keepdim, np.argmin, "argmin")


# ---------------------------------------------------------------------- logsumexp / prod
class LogsumexpBackward0(Node):
    __slots__ = ("axes", "keepdim")

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd = x._data
        o = expand_reduced(_acc(out._data), xd.shape, self.axes, self.keepdim)
        ge = expand_reduced(_acc(g), xd.shape, self.axes, self.keepdim)
        return ((ge * np.exp(_acc(xd) - o)).astype(xd.dtype),)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    a = input._data
    if a.dtype.kind in "biu":
        a = a.astype(D.get_default_dtype().np)
    axes = _axes(dim, a.ndim)
    xa = _acc(a)
    if a.size == 0:
        r = np.log(np.add.reduce(np.exp(xa), axis=axes, keepdims=keepdim))
    else:
        m = np.max(xa, axis=axes, keepdims=True)
        m = np.where(np.isinf(m), 0, m)
        s = np.add.reduce(np.exp(xa - m), axis=axes, keepdims=True)
        r = np.log(s) + m
        if not keepdim:
            r = np.squeeze(r, axis=axes)
    res = wrap(r.astype(a.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = LogsumexpBackward0()
        node.axes, node.keepdim = axes, keepdim
        node.save(input, res)
        record(res, node, input)
    return res


def _exclusive_products(x: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of all others along ``axis`` (exact with zeros)."""
    ones = np.ones_like(np.take(x, [0], axis=axis))
    left = np.cumprod(np.concatenate([ones, np.take(x, range(x.shape[axis] - 1), axis=axis)],
                                     axis=axis), axis=axis)
    flipped = np.flip(x, axis=axis)
    right = np.cumprod(np.concatenate([ones, np.take(flipped, range(x.shape[axis] - 1),
                                                     axis=axis)], axis=axis), axis=axis)
    return left * np.flip(right, axis=axis)


class ProdBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        if xd.size == 0:
            return (np.zeros(xd.shape, dtype=xd.dtype),)
        others = _exclusive_products(_acc(xd).reshape(-1), 0).reshape(xd.shape)
        return ((_acc(g) * others).astype(xd.dtype),)


class ProdBackward1(Node):
    __slots__ = ("axis", "keepdim")

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        if xd.size == 0:
            return (np.zeros(xd.shape, dtype=xd.dtype),)
        others = _exclusive_products(_acc(xd), self.axis) if xd.ndim else np.ones_like(xd)
        ge = expand_reduced(_acc(g), xd.shape, (self.axis,) if xd.ndim else (), self.keepdim)
        return ((ge * others).astype(xd.dtype),)


def prod(input: Tensor, *args, dtype=None, **kwargs) -> Tensor:
    """``prod(input, *, dtype=None)``: the product of all elements; ``prod(input, dim,
    keepdim=False, *, dtype=None)``: along one ``dim`` (an int). Integers and bools multiply
    as int64."""
    dim, keepdim = _prod_args(args, kwargs, dtype is not None, method=False)
    return _prod(input, dim, keepdim, dtype)


def _prod_method(self: Tensor, *args, dtype=None, **kwargs) -> Tensor:
    """Tensor.prod (torch's argument errors name no input)."""
    dim, keepdim = _prod_args(args, kwargs, dtype is not None, method=True)
    return _prod(self, dim, keepdim, dtype)


def _prod_args(args: tuple, kwargs: dict, has_dtype: bool, method: bool) -> tuple:
    """``(dim or None, keepdim)`` from prod's arguments, with torch's parser errors."""
    unknown = set(kwargs) - {"dim", "keepdim"}
    if len(args) > 2 or unknown:
        raise TypeError(f"prod() got an unexpected keyword argument '{unknown.pop()}'" if unknown
                        else f"prod() takes at most 3 arguments ({len(args) + 1} given)")
    given = dict(zip(("dim", "keepdim"), args), **kwargs)
    dim = given.get("dim")
    if "dim" in given and (isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) or (
            isinstance(dim, Tensor) and dim._data.ndim == 0 and dim._data.dtype.kind in "iu")):
        keepdim = given.get("keepdim", False)
        if not isinstance(keepdim, bool):
            where = f" (position {2 + (not method)})" if len(args) == 2 else ""
            raise TypeError(f"prod(): argument 'keepdim'{where} must be bool, not "
                            f"{type(keepdim).__name__}")
        return int(dim), keepdim
    if not given:
        return None, False
    if "dim" in given and (len(given) > 1 or has_dtype):
        where = f" (position {1 + (not method)})" if args else ""
        raise TypeError(f"prod(): argument 'dim'{where} must be int, not {type(dim).__name__}")
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    desc = ", ".join(got) + (", " if method and kwargs and not args else "")
    sigs = ([" * (*, torch.dtype dtype = None)",
             " * (int dim, bool keepdim = False, *, torch.dtype dtype = None)"] if method else
            [" * (Tensor input, *, torch.dtype dtype = None)",
             " * (Tensor input, int dim, bool keepdim = False, *, torch.dtype dtype = None, "
             "Tensor out = None)"])
    raise TypeError(f"prod() received an invalid combination of arguments - got "
                    f"({desc if method else ', '.join(['Tensor'] + got)}), but expected one of:\n"
                    + "\n".join(sigs) + "\n")


def _prod(input: Tensor, dim, keepdim: bool, dtype) -> Tensor:
    a = input._data
    sd = _sum_dtype(a, dtype)
    if sd is not None and a.dtype != sd:
        a = a.astype(sd)
    if dim is None:
        r = np.multiply.reduce(_acc(a), axis=None)
        axis = None
    else:
        (axis,) = normalize_dims(dim, a.ndim) or (None,)
        r = np.multiply.reduce(_acc(a), axis=axis, keepdims=keepdim) if axis is not None else \
            a.copy()
    res = wrap(np.asarray(r).astype(a.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        if dim is None:
            node = ProdBackward0()
        else:
            node = ProdBackward1()
            node.axis, node.keepdim = axis if axis is not None else 0, keepdim
        node.save(input if a is input._data else wrap(a))
        record(res, node, input)
    return res


# ---------------------------------------------------------------------- norms
class LinalgVectorNormBackward0(Node):
    __slots__ = ("ord", "axes", "keepdim")

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd = _acc(x._data)
        o = expand_reduced(_acc(out._data), xd.shape, self.axes, self.keepdim)
        ge = expand_reduced(_acc(g), xd.shape, self.axes, self.keepdim)
        p = self.ord
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                return (None,)
            if p == 1:
                d = np.sign(xd)
            elif p == 2:
                d = np.where(o == 0, 0, xd / o)
            elif math.isinf(p):
                mask = np.abs(xd) == o
                count = np.add.reduce(mask, axis=self.axes, keepdims=True)
                d = np.sign(xd) * mask / count
            else:
                ax = np.abs(xd)
                d = np.where(o == 0, 0, np.sign(xd) * ax ** (p - 1) / o ** (p - 1))
        return ((ge * d).astype(x._data.dtype),)


def vector_norm(input: Tensor, ord=2, dim=None, keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The vector ``ord``-norm of all elements, or over ``dim`` (torch.linalg.vector_norm)."""
    a = input._data
    if dtype is not None:
        a = a.astype(D.to_numpy_dtype(dtype))
    if a.dtype.kind not in "fcV":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_word(a.dtype)}")
    axes = _axes(dim, a.ndim)
    xa = np.abs(_acc(a))
    p = float(ord)
    if p == 2:
        r = np.sqrt(np.add.reduce(xa * xa, axis=axes, keepdims=keepdim))
    elif p == 1:
        r = np.add.reduce(xa, axis=axes, keepdims=keepdim)
    elif p == 0:
        r = np.add.reduce(xa != 0, axis=axes, keepdims=keepdim).astype(xa.dtype)
    elif p == math.inf:
        _check_nonempty(a, "linalg.vector_norm", axes)
        r = np.max(xa, axis=axes, keepdims=keepdim)
    elif p == -math.inf:
        _check_nonempty(a, "linalg.vector_norm", axes)
        r = np.min(xa, axis=axes, keepdims=keepdim)
    else:
        r = np.add.reduce(xa ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    res = wrap(np.asarray(r).astype(a.real.dtype if a.dtype.kind == "c" else a.dtype,
                                    copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = LinalgVectorNormBackward0()
        node.ord, node.axes, node.keepdim = p, axes, keepdim
        node.save(input, res)
        record(res, node, input)
    return res


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Tensor.norm: the 2-norm ('fro') of all elements or over ``dim``, or a vector p-norm."""
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type '{p}'; numtorch supports 'fro' and "
                           "numeric p")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------------- cumsum, logic, counts
class CumsumBackward0(Node):
    __slots__ = ("axis", "dtype")

    def backward(self, g):
        if g.ndim == 0:
            return (g.astype(self.dtype, copy=False),)
        r = np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)
        return (r.astype(self.dtype, copy=False),)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``; integers and bools accumulate as int64."""
    a = input._data
    sd = _sum_dtype(a, dtype)
    if sd is not None and a.dtype != sd:
        a = a.astype(sd)
    (axis,) = normalize_dims(dim, a.ndim) or (None,)
    r = np.cumsum(_acc(a), axis=axis).astype(a.dtype, copy=False) if axis is not None else \
        a.copy()
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        node = CumsumBackward0()
        node.axis, node.dtype = axis or 0, input._data.dtype
        record(res, node, input)
    return res


def _logic(input, dim, keepdim, fn):
    a = input._data
    axes = _axes(dim, a.ndim)
    r = fn(a, axis=axes, keepdims=keepdim)
    return wrap(np.asarray(r).astype(np.uint8 if a.dtype == np.uint8 else np.bool_), input)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element (over ``dim``) is nonzero; uint8 inputs give uint8, as torch."""
    return _logic(input, dim, keepdim, np.all)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether some element (over ``dim``) is nonzero; uint8 inputs give uint8, as torch."""
    return _logic(input, dim, keepdim, np.any)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements (over ``dim``) as int64."""
    a = input._data
    axes = _axes(dim, a.ndim)
    return wrap(np.asarray(np.count_nonzero(a, axis=axes), dtype=np.int64), input)
