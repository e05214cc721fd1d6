"""Shared pieces of the differentiable ops: recording nodes, undoing broadcasting, promotion."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype as D
from .._device import CPU
from .._tensor import Tensor, edge, _NP2DT
from ..autograd import grad_mode
from ..autograd.grad_mode import INFERENCE_OPEN, mark_if_inference
from ..autograd.graph import _SEQUENCE, Node, saved_output
from ._views import (check_view_inplace, rebase_view, refresh_views, register_view,
                     writable_data)

__all__ = ["GRAD", "Node", "Tensor", "wrap", "record", "unbroadcast", "binary_operands",
           "as_tensor_arg", "float_array", "check_inplace", "finish_inplace", "NP2DT",
           "result_dtype", "scalar_operand", "check_inplace_dtype", "type_word", "out_into",
           "snapshot", "apply_inplace", "check_view_inplace", "rebase_view", "refresh_views",
           "UnsupportedOperand"]

GRAD = grad_mode.STATE

# torch computes inf/nan silently (log(0), 1/0, exp overflow); NumPy would warn from inside our
# ops. Silence only NumPy's floating-point warnings raised from numtorch's op modules: the filter
# costs nothing on the common path (NumPy consults it only when a flag is raised).
warnings.filterwarnings("ignore", message=r"(divide by zero|overflow|invalid value|underflow) "
                        r"encountered", category=RuntimeWarning, module=r"numtorch\._ops\.")
NP2DT = _NP2DT
_PY_SCALARS = (int, float, bool, complex)


def wrap(arr, like: Tensor | None = None) -> Tensor:
    """Wrap an op's result array (NumPy scalars become 0-d arrays) on ``like``'s device."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    t = object.__new__(Tensor)
    t._data = arr
    if like is not None and like._device is not CPU:
        t._device = like._device
    if INFERENCE_OPEN[0]:
        mark_if_inference(t)
    return t


def record(out: Tensor, node: Node, *inputs: Tensor) -> Tensor:
    """Attach ``node`` as ``out``'s grad_fn with edges into ``inputs``; returns ``out``."""
    if len(inputs) == 1:
        node.next_functions = (edge(inputs[0]),)
    elif len(inputs) == 2:
        node.next_functions = (edge(inputs[0]), edge(inputs[1]))
    else:
        node.next_functions = tuple([edge(t) for t in inputs])
    node._seq = next(_SEQUENCE)  # newer than its inputs' nodes, whenever it was created
    out.grad_fn = node
    saved = node._saved
    if saved:
        for s in saved:
            if s is out:  # keep an alias, or node and output would form a reference cycle
                node._saved = tuple([saved_output(s) if s is out else s for s in saved])
                break
    out._requires_grad = True
    base = out._base
    if base is not None and base.grad_fn is not None:
        register_view(base, out, inputs[0])   # its history follows in-place changes of the base
    return out


def needs_grad(*tensors) -> bool:
    """Whether an op over these tensors (None entries ignored) must be recorded."""
    if not GRAD.enabled:
        return False
    for t in tensors:
        if t is not None and t._requires_grad:
            return True
    return False


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the dimensions broadcasting added to reach it from ``shape``."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if grad.shape != shape else grad


def float_array(a: np.ndarray) -> np.ndarray:
    """``a`` itself when floating or complex, else cast to the default float dtype."""
    if a.dtype.kind in "fcV":
        return a
    return a.astype(D.get_default_dtype().np)


def as_tensor_arg(x, like: Tensor) -> Tensor:
    """Turn a scalar/array argument into a tensor with torch's dtype rules."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _PY_SCALARS):
        return wrap(np.asarray(x, dtype=D.scalar_dtype(x).np), like)
    if isinstance(x, np.generic):
        return wrap(np.asarray(x), like)
    arr = np.asarray(x)
    if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(D.get_default_dtype().np)
    return wrap(arr, like)


# ---------------------------------------------------------------------- type promotion
def _combine(higher: D.dtype | None, lower: D.dtype | None) -> D.dtype | None:
    """torch's combine_categories: a lower-priority group only wins with a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is D.bool_ or lower.is_floating_point:
        return D.promote_types(higher, lower)
    return higher


class UnsupportedOperand(TypeError):
    """An operand an op cannot take (Python operators turn it into NotImplemented)."""


def _scalar_type(s) -> D.dtype:
    """The dtype a Python scalar takes part in promotion with (default float/complex)."""
    t = type(s)
    if t is bool:
        return D.bool_
    if t is int:
        return D.int64
    if t is float:
        return D.get_default_dtype()
    if t is complex:
        return D.get_default_dtype().to_complex()
    if isinstance(s, np.generic):
        return _scalar_type(s.item())
    raise UnsupportedOperand(f"unsupported operand type(s): 'Tensor' and '{t.__name__}'")


_RESULT_CACHE: dict = {}


def result_dtype(a: np.ndarray, b) -> np.dtype:
    """torch's result dtype for an op over array ``a`` (a tensor's data) and ``b`` (another
    tensor's data or a Python scalar): dimensioned tensors > zero-dim tensors > Python scalars."""
    if type(b) is np.ndarray:
        key = (a.dtype, b.dtype, a.ndim == 0, b.ndim == 0)
    else:
        key = (a.dtype, type(b), D.get_default_dtype())
    r = _RESULT_CACHE.get(key)
    if r is None:
        da = _NP2DT[a.dtype]
        if type(b) is np.ndarray:
            db = _NP2DT[b.dtype]
            if (a.ndim == 0) == (b.ndim == 0):
                rt = D.promote_types(da, db)
            else:
                rt = _combine(da, db) if b.ndim == 0 else _combine(db, da)
        else:
            rt = _combine(da, _scalar_type(b))
        r = _RESULT_CACHE[key] = rt.np
    return r


def scalar_operand(s, rt: np.dtype):
    """A Python scalar ready to meet an array of dtype ``rt`` in a NumPy ufunc so that the result
    keeps ``rt`` (integers wrap around as in torch; ml-dtypes need an explicit array)."""
    kind = rt.kind
    if kind in "iu" and type(s) is int:
        info = np.iinfo(rt)
        if not info.min <= s <= info.max:
            return np.array(s, dtype=np.int64).astype(rt)
        return s
    if kind == "V":
        return np.asarray(s, dtype=rt)
    return s


def binary_operands(a: Tensor, b):
    """Arrays for ``a op b`` cast to torch's result dtype; ``b`` may be a tensor or a scalar.

    Returns ``(a_array, b_array_or_scalar, b_tensor_or_None)``; NumPy applied to the first two
    yields torch's result dtype.
    """
    ad = a._data
    tb = type(b)
    if tb is Tensor or isinstance(b, Tensor):
        if b._device is not a._device:
            check_same_device(a, b)
        bd = b._data
        if ad.dtype == bd.dtype:
            return ad, bd, b
        rt = result_dtype(ad, bd)
        return (ad if ad.dtype == rt else ad.astype(rt)), (bd if bd.dtype == rt else
                                                           bd.astype(rt)), b
    if (tb is float or tb is int) and ad.dtype.kind in "fc":
        return ad, b, None
    if tb in (int, float, bool, complex):
        rt = result_dtype(ad, b)
        if ad.dtype != rt:
            ad = ad.astype(rt)
        return ad, scalar_operand(b, rt), None
    if isinstance(b, np.generic):
        return binary_operands(a, b.item())
    if isinstance(b, np.ndarray):
        return binary_operands(a, wrap(b))
    raise UnsupportedOperand(f"unsupported operand type(s): 'Tensor' and '{tb.__name__}'")


def check_same_device(a: Tensor, b: Tensor) -> None:
    """torch's error for elementwise operands on different devices (a 0-d CPU tensor may meet
    any device)."""
    for t in (b, a):
        if t._device is CPU and t._data.ndim == 0:
            return
    raise RuntimeError(f"Tensor on device {b._device} is not on the expected device "
                       f"{a._device}!")


def broadcast_error(a, b) -> Exception:
    """torch's error (to raise) for operands whose shapes do not broadcast; a NumPy failure with
    another cause comes back as a ValueError."""
    sa, sb = np.shape(a), np.shape(b)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                                f"({pb[i]}) at non-singleton dimension {i}")
    return ValueError(f"operands of shapes {list(sa)} and {list(sb)} could not be combined")


def check_broadcast(a, b) -> None:
    """Raise torch's error unless the shapes of ``a`` and ``b`` broadcast together."""
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise broadcast_error(a, b) from None


# ---------------------------------------------------------------------- in-place support
def check_inplace(t: Tensor) -> bool:
    """Refuse in-place changes to leaves that require grad; True when the op must be recorded."""
    if t._requires_grad and GRAD.enabled:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        return True
    return False


def finish_inplace(t: Tensor, result: Tensor) -> Tensor:
    """Write an out-of-place ``result`` into ``t`` (bumping its version) and adopt its history."""
    rdt = result._data.dtype
    if result._data.shape != t._data.shape:
        check_inplace_shape(t._data.shape, result._data.shape)
    if rdt != t._data.dtype:
        check_inplace_dtype(t, rdt)
    target = writable_data(t)
    if target is not None:
        np.copyto(target, result._data, casting="unsafe")
    else:           # no writable memory (meta, read-only NumPy memory): take a new array
        t._data = np.array(np.broadcast_to(result._data, t._data.shape), dtype=t._data.dtype)
    t._bump()         # after writing, as torch (which then refuses inference tensors)
    node = result.grad_fn
    if node is not None:
        t.grad_fn = node
        t._output_nr = result._output_nr
        t._requires_grad = True
        if node._saved:
            _resave_output(node, result, t)
        if t._views:
            refresh_views(t)
    return t


def _resave_output(node: Node, result: Tensor, t: Tensor) -> None:
    """When ``node`` saved its output ``result`` and that output was written into ``t``, it
    keeps ``t`` instead, so later in-place changes of ``t`` are caught (as in torch)."""
    saved = node._saved
    for i, s in enumerate(saved):
        if s._data is result._data:
            alias = saved_output(t)
            node._saved = saved[:i] + (alias,) + saved[i + 1:]
            node._versions = node._versions[:i] + (t._version,) + node._versions[i + 1:]
            return


def check_inplace_shape(shape: tuple, result_shape: tuple) -> None:
    """torch's error when an in-place result does not broadcast to the written tensor's shape."""
    if np.broadcast_shapes(shape, result_shape) != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(shape, result_shape))}")


_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
               "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def type_word(np_dtype) -> str:
    """torch's scalar-type word for a dtype (``Float``, ``Long`` ...), as its errors print it."""
    d = _NP2DT[np.dtype(np_dtype)]
    return _TYPE_WORDS.get(d.name, d.name)


_type_word = type_word


def check_inplace_dtype(t: Tensor, result_np_dtype) -> None:
    """torch's error when an in-place result cannot be stored in ``t``'s dtype."""
    src = _NP2DT[np.dtype(result_np_dtype)]
    dst = _NP2DT[t._data.dtype]
    if src._category > dst._category:
        raise RuntimeError(f"result type {type_word(src.np)} can't be cast to the desired output "
                           f"type {type_word(dst.np)}")


def out_into(res: Tensor, out: Tensor) -> Tensor:
    """Copy ``res`` into the ``out=`` tensor (resized when its shape differs)."""
    if GRAD.enabled and (res._requires_grad or out._requires_grad):
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one "
                           "of the arguments requires grad.")
    check_inplace_dtype(out, res._data.dtype)
    target = writable_data(out)
    if out._data.shape != res._data.shape:
        target = out._data = np.empty(res._data.shape, dtype=out._data.dtype)
    np.copyto(out._data if target is None else target, res._data, casting="unsafe")
    out._bump()
    return out


def snapshot(t: Tensor) -> Tensor:
    """A tensor standing for ``t``'s current value and graph position before an in-place op."""
    old = wrap(t._data.copy(), t)
    old.grad_fn = t.grad_fn
    old._output_nr = t._output_nr
    old._requires_grad = t._requires_grad
    old._accum = t._grad_accumulator() if t.grad_fn is None and t._requires_grad else None
    return old


def apply_inplace(self: Tensor, op, *args, **kwargs) -> Tensor:
    """Run out-of-place ``op(self, *args)`` and write its result into ``self`` as torch's
    in-place form does (version bump, history adopted, torch's dtype/shape/leaf errors; on a
    view, the base's history is rewritten as torch's CopySlices does)."""
    if GRAD.enabled:
        record_it = check_inplace(self)
        if not record_it:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record_it = True
                    break
        if self._base is not None and (record_it or self._base._requires_grad):
            geometry = check_view_inplace(self)
            res = op(snapshot(self), *args, **kwargs)
            finish_inplace(self, res)
            if res.grad_fn is not None:
                rebase_view(self, res.grad_fn, geometry)
            return self
        if record_it:
            return finish_inplace(self, op(snapshot(self), *args, **kwargs))
        GRAD.enabled = False
        try:
            res = op(self, *args, **kwargs)
        finally:
            GRAD.enabled = True
    else:
        res = op(self, *args, **kwargs)
    return finish_inplace(self, res)
