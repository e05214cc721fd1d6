"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/empty/full(_like), ranges, random."""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from .. import _dtype as D
from .._device import CPU, META, _DEFAULT_STACK, as_device, cuda_unavailable
from .._tensor import Size, Tensor, _from_array
from ..random import numpy_generator
from ._normal_grad import record_normal
from ._util import type_word, wrap

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "randn", "rand",
           "randint", "randperm", "normal", "scalar_tensor", "randn_like", "rand_like",
           "randint_like", "logspace", "empty_strided", "asarray", "frombuffer"]


def _target(device):
    dev = as_device(device)
    if dev.type == "cuda":
        raise cuda_unavailable()
    return dev


def _finish(arr: np.ndarray, device, requires_grad: bool) -> Tensor:
    dev = _DEFAULT_STACK[-1] if device is None else _target(device)
    if dev is META:
        arr = np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)
    t = _from_array(arr, device=dev)
    if requires_grad:
        if arr.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


# --------------------------------------------------------------------------- dtype inference
_NUMPY_SUPPORTED = ("float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
                    "uint64, uint32, uint16, uint8, and bool")


def _numpy_dtype(np_dtype: np.dtype) -> D.dtype:
    """The dtype torch gives a NumPy dtype; TypeError for the ones torch cannot hold."""
    d = D._BY_NP.get(np_dtype)
    if d is None or d.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        name = np_dtype.type.__name__
        raise TypeError(f"can't convert np.ndarray of type numpy.{name}. The only supported types "
                        f"are: {_NUMPY_SUPPORTED}.")
    return d


def _check_numpy_array(a: np.ndarray) -> None:
    if any(s < 0 for s in a.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    if not a.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")


_LEAF_TYPES = {float: "float", int: "int", bool: "bool", complex: "complex"}


def _python_scalar_dtype(kind: str) -> D.dtype:
    if kind == "float":
        return D.get_default_dtype()
    if kind == "int":
        return D.int64
    if kind == "bool":
        return D.bool_
    return D.get_default_dtype().to_complex()


def _infer(obj, top: bool = True) -> D.dtype:
    """torch's scalar-type inference: promote over every element of nested sequences."""
    kind = _LEAF_TYPES.get(type(obj))
    if kind is not None:
        return _python_scalar_dtype(kind)
    if isinstance(obj, Tensor):
        return obj.dtype
    if isinstance(obj, np.ndarray):
        return _numpy_dtype(obj.dtype)
    if isinstance(obj, np.generic):
        return _numpy_dtype(obj.dtype)
    if isinstance(obj, str):
        if top:
            raise TypeError("new(): invalid data type 'str'")
        raise ValueError("too many dimensions 'str'")
    if isinstance(obj, (bool, int, float, complex)):
        return _python_scalar_dtype("bool" if isinstance(obj, bool) else "int" if
                                    isinstance(obj, int) else "float" if
                                    isinstance(obj, float) else "complex")
    if isinstance(obj, Sequence):
        if len(obj) == 0:
            return D.get_default_dtype()
        kinds = set(map(type, obj))
        if len(kinds) == 1:
            kind = _LEAF_TYPES.get(next(iter(kinds)))
            if kind is not None:
                return _python_scalar_dtype(kind)
        result = None
        for item in obj:
            d = _infer(item, False)
            result = d if result is None else D.promote_types(result, d)
        return result
    raise RuntimeError(f"Could not infer dtype of {type(obj).__name__}")


_PLAIN_TYPES = frozenset((float, int, bool, complex))


def _has_tensor(obj) -> bool:
    if isinstance(obj, Tensor):
        return True
    if isinstance(obj, (list, tuple)):
        if set(map(type, obj)) <= _PLAIN_TYPES:
            return False
        return any(_has_tensor(x) for x in obj)
    return False


def _untensor(obj):
    """Nested data with tensors replaced by their single value (torch treats them as scalars)."""
    if isinstance(obj, Tensor):
        if obj._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return obj._data.reshape(()).item() if obj._data.dtype.kind != "V" else \
            float(obj._data.reshape(()).astype(np.float32))
    if isinstance(obj, (list, tuple)):
        return [_untensor(x) for x in obj]
    return obj


def _ragged_error(data) -> Exception:
    """The error torch raises for nested sequences of inconsistent lengths."""
    sizes = []
    obj = data
    while isinstance(obj, (Sequence, np.ndarray)) and not isinstance(obj, str):
        sizes.append(len(obj))
        if not len(obj):
            break
        obj = obj[0]

    def walk(o, dim):
        if dim == len(sizes):
            if isinstance(o, (list, tuple)):
                return TypeError(f"'{type(o).__name__}' object cannot be interpreted as an "
                                 "integer")
            return None
        if not isinstance(o, (Sequence, np.ndarray)) or isinstance(o, str):
            return TypeError("not a sequence")
        if len(o) != sizes[dim]:
            return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got "
                              f"{len(o)})")
        for item in o:
            err = walk(item, dim + 1)
            if err is not None:
                return err
        return None
    return walk(data, 0) or ValueError("could not build a tensor from ragged nested sequences")


def _overflow_error(np_dtype) -> RuntimeError:
    name = D.from_numpy_dtype(np_dtype).name
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def _data_array(data, dt: D.dtype | None) -> np.ndarray:
    """A new array holding ``data`` with torch's dtype inference (or ``dt``)."""
    if isinstance(data, np.ndarray):
        _check_numpy_array(data)
    inferred = _infer(data)
    target = inferred if dt is None else dt
    np_target = target.np
    if isinstance(data, Tensor):
        src = data._data
    elif isinstance(data, np.ndarray):
        src = data
    else:
        if _has_tensor(data):
            data = _untensor(data)
        try:
            src = np.array(data)
        except ValueError:
            raise _ragged_error(data) from None
        if inferred is D.int64 and src.dtype.kind not in "bi":
            raise ValueError("Overflow when unpacking long long")
        if src.dtype == object:
            raise _ragged_error(data)
    if src.dtype.kind == "c" and np_target.kind != "c":
        if isinstance(data, (Tensor, np.ndarray)):
            src = src.real
        else:
            raise TypeError("must be real number, not complex")
    if np_target.kind in "iu" and src.dtype.kind in "fiu" and src.size and not (
            src.dtype.kind != "f" and np.can_cast(src.dtype, np_target)) and \
            not isinstance(data, (Tensor, np.ndarray)):     # arrays are cast, wrapping
        _check_int_range(src, np_target)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(src, dtype=np_target, copy=True)


def _check_int_range(src: np.ndarray, np_target) -> None:
    """torch's range check of Python numbers stored as integers: floats must fit; ints may
    also be negative down to -max for unsigned types (they wrap, two's complement)."""
    info = np.iinfo(np_target)
    if src.dtype.kind == "f":
        if np.isnan(src).any() or (src < float(info.min)).any() or (src > float(info.max)).any():
            raise _overflow_error(np_target)
        return
    lo = -int(info.max) if np_target.kind == "u" else int(info.min)
    if int(src.min()) < lo or int(src.max()) > int(info.max):
        raise _overflow_error(np_target)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor that copies ``data`` (nested lists, scalars, arrays, tensors), with torch's
    dtype inference: bools -> bool, ints -> int64, floats -> default dtype, NumPy keeps its
    dtype."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if dtype is None and device is None and _DEFAULT_STACK[-1] is CPU:
        arr = _plain_array(data)
        if arr is not None:
            return _finish(arr, None, requires_grad) if requires_grad else _from_array(arr)
    arr = _data_array(data, None if dtype is None else _as_dtype(dtype))
    return _finish(arr, device, requires_grad)


_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


def _plain_array(data):
    """Fast path for Python scalars and flat lists of one Python scalar type (None: not one)."""
    kind = type(data)
    if kind is list:
        kinds = set(map(type, data))
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        if kind is list:
            return _plain_matrix(data)
        if kind is int:
            arr = np.array(data)
            return arr if arr.dtype == np.int64 else None
    elif kind is int and not _INT64_MIN <= data <= _INT64_MAX:
        return None
    if kind is float:
        return np.array(data, dtype=D.get_default_dtype().np)
    if kind is int:
        return np.array(data, dtype=np.int64)
    if kind is bool:
        return np.array(data, dtype=np.bool_)
    return None


def _plain_matrix(rows: list):
    """Fast path for a list of lists of Python floats/ints/bools (None: not one)."""
    kinds = set()
    for row in rows:
        kinds.update(map(type, row))
    if not kinds or not kinds <= _REAL_TYPES:
        return None
    try:
        arr = np.array(rows)
    except ValueError:
        return None
    if arr.ndim != 2:
        return None
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(D.get_default_dtype().np, copy=False)
    return arr if arr.dtype == np.int64 or kind == "b" else None


_REAL_TYPES = frozenset((float, int, bool))


def _as_dtype(dtype) -> D.dtype:
    if isinstance(dtype, D.dtype):
        return dtype
    return D.from_numpy_dtype(np.dtype(dtype))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor over ``data``, sharing memory with an array or tensor that already has the
    requested dtype and device."""
    if isinstance(data, Tensor):
        if (dtype is None or data.dtype is dtype) and (device is None or
                                                       as_device(device) == data._device):
            return data
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray):
        _check_numpy_array(data)
        d = _numpy_dtype(data.dtype)
        if (dtype is None or _as_dtype(dtype) is d) and (device is None or
                                                          _target(device) is CPU):
            return _from_array(data)
    return _finish(_data_array(data, None if dtype is None else _as_dtype(dtype)), device, False)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _check_numpy_array(ndarray)
    _numpy_dtype(ndarray.dtype)
    return _from_array(ndarray)


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """A tensor over ``obj``: shares memory with arrays/tensors unless ``copy`` or a dtype or
    device change requires one; ``copy=False`` raises when a copy is unavoidable."""
    if copy:
        t = tensor(obj.detach() if isinstance(obj, Tensor) else obj, dtype=dtype,
                   device=device) if not isinstance(obj, Tensor) else \
            obj.detach().to(dtype=dtype, device=device, copy=True)
    else:
        if copy is False and isinstance(obj, (Tensor, np.ndarray)) and dtype is not None:
            src = obj.dtype if isinstance(obj, Tensor) else _numpy_dtype(obj.dtype)
            if src is not _as_dtype(dtype):
                raise ValueError(f"can't alias tensor with dtype '{_TYPE_WORDS[src.name]}' "
                                 f"into dtype '{_TYPE_WORDS[_as_dtype(dtype).name]}'.")
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t = t.detach() if t is obj else t
        t.requires_grad_(True)
    return t


_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
               "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over an object exposing the buffer protocol (memory is shared)."""
    np_dtype = _as_dtype(dtype).np
    nbytes = memoryview(buffer).nbytes
    if offset < 0 or offset > nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1.")
    if count <= 0 and (nbytes - offset) % np_dtype.itemsize:
        raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({np_dtype.itemsize}).")
    arr = np.frombuffer(buffer, dtype=np_dtype, count=count, offset=offset)
    return _finish(arr, None, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (default float dtype)."""
    if isinstance(s, Tensor):
        s = s.item()
    dt = _as_dtype(dtype).np if dtype is not None else D.get_default_dtype().np
    return _finish(np.array(s, dtype=dt), device, requires_grad)


def scalar_tensor_like(s, like: Tensor) -> Tensor:
    """A 0-d tensor for a Python scalar on ``like``'s side of an operator (``2 - x``)."""
    if isinstance(s, Tensor):
        return s
    if isinstance(s, np.generic):
        s = s.item()
    if not isinstance(s, (int, float, bool, complex)):
        raise TypeError(f"unsupported operand type(s): '{type(s).__name__}' and 'Tensor'")
    t = wrap(np.asarray(s, dtype=D.scalar_dtype(s).np))
    t._device = like._device
    return t


# --------------------------------------------------------------------------- sizes and fills
def _size(size, fn: str = "empty") -> tuple:
    """A shape from ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``, with torch's errors."""
    shape = size[0] if len(size) == 1 and type(size[0]) in (tuple, list, Size) else size
    if all(type(s) is int for s in shape) and (not shape or min(shape) >= 0):
        return tuple(shape)
    return _checked_size(size, fn)


def _checked_size(size, fn: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
        nested = True
    else:
        nested = len(size) != 1
    out = []
    for pos, s in enumerate(size):
        if isinstance(s, Tensor) and s._data.size == 1 and s._data.dtype.kind in "iu":
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            if not nested:
                raise TypeError(f"{fn}(): argument 'size' (position 1) must be tuple of ints, not "
                                f"{type(s).__name__}")
            raise TypeError(f"{fn}(): argument 'size' failed to unpack the object at pos "
                            f"{pos + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
        out.append(int(s))
    for s in out:
        if s < 0:
            if fn == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _dt(dtype, default=None):
    if dtype is None:
        return (default or D.get_default_dtype()).np
    return _as_dtype(dtype).np


def zeros(*args, size=None, out=None, dtype=None, device=None, requires_grad: bool = False,
          layout=None, pin_memory=False) -> Tensor:
    """A tensor of zeros of the given shape."""
    shape = _size(args if size is None else (size,), "zeros")
    return _finish(np.zeros(shape, dtype=_dt(dtype)), device, requires_grad)


def ones(*args, size=None, out=None, dtype=None, device=None, requires_grad: bool = False,
         layout=None, pin_memory=False) -> Tensor:
    """A tensor of ones of the given shape."""
    arr = np.empty(_size(args if size is None else (size,), "ones"), dtype=_dt(dtype))
    arr.fill(1)
    return _finish(arr, device, requires_grad)


def empty(*args, size=None, out=None, dtype=None, device=None, requires_grad: bool = False,
          layout=None, pin_memory=False, memory_format=None) -> Tensor:
    """An uninitialised tensor of the given shape."""
    shape = _size(args if size is None else (size,), "empty")
    return _finish(np.empty(shape, dtype=_dt(dtype)), device, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False):
    """An uninitialised tensor (numtorch lays it out contiguously)."""
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_dtype(fill_value, dtype) -> np.dtype:
    if dtype is not None:
        return _as_dtype(dtype).np
    fv = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    if isinstance(fv, np.generic):
        fv = fv.item()
    return D.scalar_dtype(fv).np


def _filled(shape: tuple, fill_value, np_dtype) -> np.ndarray:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if np_dtype.kind in "iu" and isinstance(fill_value, int) and not isinstance(fill_value, bool):
        info = np.iinfo(np_dtype)
        if not info.min <= fill_value <= info.max:
            raise RuntimeError(f"value cannot be converted to type {np_dtype.name}_t without "
                               "overflow")
    if np_dtype.kind != "c" and isinstance(fill_value, complex):
        raise RuntimeError("value cannot be converted to type float without overflow")
    out = np.empty(shape, dtype=np_dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        out.fill(fill_value)
    return out


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad: bool = False,
         layout=None, pin_memory=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    shape = _size((size,), "full")
    return _finish(_filled(shape, fill_value, _fill_dtype(fill_value, dtype)), device,
                   requires_grad)


def _like(input: Tensor, dtype, device):
    dt = input._data.dtype if dtype is None else _as_dtype(dtype).np
    dev = input._device if device is None else _target(device)
    return input._data.shape, dt, dev


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               layout=None, memory_format=None) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return _finish(np.zeros(shape, dtype=dt), dev, requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              layout=None, memory_format=None) -> Tensor:
    """Ones with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return _finish(np.ones(shape, dtype=dt), dev, requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               layout=None, memory_format=None) -> Tensor:
    """Uninitialised, with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return _finish(np.empty(shape, dtype=dt), dev, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False, layout=None, memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like(input, dtype, device)
    return _finish(_filled(shape, fill_value, np.dtype(dt)), dev, requires_grad)


# --------------------------------------------------------------------------- ranges
def _fma(a: float, b: np.ndarray, c: float) -> np.ndarray:
    """``a * b + c`` rounded once to float64, as a fused multiply-add computes it (``b`` holds
    integers below 2**26; error-free splitting keeps the product exact)."""
    big = a * 134217729.0
    a_hi = big - (big - a)
    a_lo = a - a_hi
    p1, p2 = a_hi * b, a_lo * b
    s = p1 + c
    bb = s - p1
    e1 = (p1 - (s - bb)) + (c - bb)
    s2 = s + p2
    bb = s2 - s
    e2 = (s - (s2 - bb)) + (p2 - bb)
    return s2 + (e1 + e2)


def _fma32(a: np.float32, b: np.ndarray, c: np.float32) -> np.ndarray:
    """``a * b + c`` rounded once to float32 (the product is exact in float64)."""
    p = np.float64(a) * b
    c64 = np.float64(c)
    s = p + c64
    bb = s - p
    e = (p - (s - bb)) + (c64 - bb)
    nudged = np.where(e != 0, np.nextafter(s, s + e), s)
    return nudged.astype(np.float32)


def _linspace_values(start, end, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """torch's CPU linspace: ``start + step*i`` for the first half and ``end - step*(steps-1-i)``
    for the rest, each a fused multiply-add in the output type (double for integers)."""
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    kind = np_dtype.kind
    if kind == "c":
        s, e = complex(start), complex(end)
        step = (e - s) / (steps - 1)
        vals = np.where(i < half, s + step * i, e - step * (steps - 1 - i))
        return vals.astype(np_dtype)
    if kind in "iub":
        s, e = float(int(start)), float(int(end))
        step = (e - s) / (steps - 1)
        vals = np.where(i < half, _fma(step, i, s), _fma(-step, steps - 1 - i, e))
        return np.trunc(vals).astype(np_dtype)
    if np_dtype == np.float64:
        s, e = float(start), float(end)
        step = (e - s) / (steps - 1)
        return np.concatenate((_fma(step, i[:half], s), _fma(-step, i[steps - half - 1::-1], e)))
    if np_dtype == np.float32:
        s, e = np.float32(start), np.float32(end)
        step = np.float32((e - s) / np.float32(steps - 1))
        return np.concatenate((_fma32(step, i[:half], s),
                               _fma32(-step, i[steps - half - 1::-1], e)))
    t = np_dtype.type
    s, e = t(start), t(end)
    step = t((e - s) / t(steps - 1))
    idx = i.astype(np_dtype)
    rev = (steps - 1 - i).astype(np_dtype)
    return np.where(i < half, s + step * idx, e - step * rev).astype(np_dtype)


def linspace(start, end, steps: int, *, out=None, dtype=None, device=None,
             requires_grad: bool = False, layout=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (the same values torch
    computes)."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace() received an invalid combination of arguments - got "
                        f"({type(start).__name__}, {type(end).__name__}, "
                        f"{type(steps).__name__}), but expected (Number start, Number end, int "
                        "steps)")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if dtype is None and (isinstance(start, complex) or isinstance(end, complex)):
        dt = D.get_default_dtype().to_complex().np
    else:
        dt = _dt(dtype)
    if steps == 0:
        arr = np.empty((0,), dtype=dt)
    elif steps == 1:
        arr = np.array([start], dtype=dt)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            arr = _linspace_values(start, end, int(steps), np.dtype(dt))
    return _finish(np.asarray(arr, dtype=dt), device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=D.float64)._data
    return _finish(np.power(base, lin).astype(_dt(dtype)), device, requires_grad)


def _arange_length(start, end, step, np_dtype) -> int:
    if np_dtype == np.int64:
        xs, xe, xst = int(start), int(end), int(step)
        sgn = (xst > 0) - (xst < 0)
        num = xe - xs + xst - sgn
        return int(abs(num) // abs(xst)) * (1 if (num >= 0) == (xst > 0) else -1)
    return int(math.ceil((float(end) - float(start)) / float(step)))


def arange(start=None, end=None, step=1, *, out=None, dtype=None, device=None,
           requires_grad: bool = False, layout=None) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``; the length is
    ``ceil((end - start) / step)`` as torch computes it."""
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    if (dtype is None and type(start) is int and type(end) is int and type(step) is int and
            ((step > 0 and end >= start) or (step < 0 and end <= start))):
        return _finish(np.arange(start, end, step, dtype=np.int64), device, requires_grad)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dt = D.get_default_dtype().np if is_float else np.dtype(np.int64)
    else:
        dt = _as_dtype(dtype).np
    if dt.kind in "bc":
        raise NotImplementedError(f"\"arange_cpu\" not implemented for "
                                  f"'{type_word(dt)}'")
    xs, xe, xst = float(start), float(end), float(step)
    if not xst:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(xs) and math.isfinite(xe)):
        raise RuntimeError(f"unsupported range: {_num(start)} -> {_num(end)}")
    if not ((xst > 0 and xe >= xs) or (xst < 0 and xe <= xs)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    integral = dt.kind in "iu"
    if integral:
        xs, xst = int(start), int(step)
        if dt == np.int64 and not xst:
            raise ValueError("step must be nonzero")
    n = max(_arange_length(start, end, step, dt), 0)
    if integral:
        arr = (xs + xst * np.arange(n, dtype=np.int64)).astype(dt)
    else:
        arr = _fma(xst, np.arange(n, dtype=np.float64), xs).astype(dt)
    return _finish(arr, device, requires_grad)


def _num(v) -> str:
    return str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))


def eye(n: int, m: int | None = None, *, out=None, dtype=None, device=None,
        requires_grad: bool = False, layout=None) -> Tensor:
    """An ``n x m`` identity matrix."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)):
            raise TypeError(f"eye(): argument '{name}' (position {1 if name == 'n' else 2}) must "
                            f"be int, not {type(v).__name__}")
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_dt(dtype)), device, requires_grad)


# --------------------------------------------------------------------------- random
def _check_float_dtype(fn: str, dt) -> None:
    if np.dtype(dt).kind not in "fcV":
        raise NotImplementedError(f"\"{fn}\" not implemented for '{type_word(dt)}'")


def randn(*args, size=None, generator=None, out=None, dtype=None, device=None,
          requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """Standard normal samples of the given shape (from numtorch's generator)."""
    dt = _dt(dtype)
    _check_float_dtype("normal_kernel_cpu", dt)
    shape = _size(args if size is None else (size,), "randn")
    g = numpy_generator(generator)
    if np.dtype(dt).kind == "c":
        real = g.standard_normal(shape + (2,)) * np.sqrt(0.5)
        arr = (real[..., 0] + 1j * real[..., 1]).astype(dt)
    elif dt == np.float32 or dt == np.float64:
        arr = g.standard_normal(shape, dtype=dt)
    else:
        arr = g.standard_normal(shape, dtype=np.float64).astype(dt)
    return _finish(arr, device, requires_grad)


def rand(*args, size=None, generator=None, out=None, dtype=None, device=None,
         requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1) of the given shape (from numtorch's generator)."""
    dt = _dt(dtype)
    _check_float_dtype("check_uniform_bounds", dt)
    shape = _size(args if size is None else (size,), "rand")
    g = numpy_generator(generator)
    if np.dtype(dt).kind == "c":
        parts = g.random(shape + (2,), dtype=np.float64)
        arr = (parts[..., 0] + 1j * parts[..., 1]).astype(dt)
    elif dt == np.float32 or dt == np.float64:
        arr = g.random(shape, dtype=dt)
    else:
        arr = g.random(shape, dtype=np.float64).astype(dt)
        if arr.size:
            arr[arr >= 1] = np.nextafter(np.array(1, dtype=dt), np.array(0, dtype=dt))
    return _finish(arr, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad: bool = False, layout=None) -> Tensor:
    """Integers uniform on [low, high) of the given shape (int64 unless ``dtype``)."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() received an invalid combination of arguments - got "
                            f"({type(low).__name__}, {type(high).__name__}), but expected one of:"
                            "\n * (int high, tuple of ints size, *, torch.Generator generator, "
                            "Tensor out = None, torch.dtype dtype = None, torch.layout layout = "
                            "None, torch.device device = None, bool pin_memory = False, bool "
                            "requires_grad = False)")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = _dt(dtype, D.int64)
    shape = _size((size,), "randint")
    arr = numpy_generator(generator).integers(int(low), int(high), shape, dtype=np.int64)
    return _finish(arr if dt == np.int64 else arr.astype(dt), device, requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype=None, device=None,
             requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    arr = numpy_generator(generator).permutation(int(n)).astype(_dt(dtype, D.int64))
    return _finish(arr, device, requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with the given mean and std (tensors broadcast, or floats with ``size``)."""
    g = numpy_generator(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        arr = (g.standard_normal(shape) * s + m).astype(ref._data.dtype)
        return record_normal(_finish(arr, ref._device, False), mean, std)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, "
                        "float), but expected one of: (Tensor mean, Tensor std), (float mean, "
                        "float std, tuple of ints size)")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _dt(dtype)
    arr = (g.standard_normal(_size((size,), "normal")) * std + mean).astype(dt)
    return _finish(arr, device, requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               generator=None, layout=None, memory_format=None) -> Tensor:
    """Standard normal samples shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    return randn(shape, dtype=D.from_numpy_dtype(dt), device=dev, requires_grad=requires_grad,
                 generator=generator)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              generator=None, layout=None, memory_format=None) -> Tensor:
    """Uniform [0, 1) samples shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    return rand(shape, dtype=D.from_numpy_dtype(dt), device=dev, requires_grad=requires_grad,
                generator=generator)


def randint_like(input: Tensor, low, high=None, *, dtype=None, device=None,
                 requires_grad: bool = False, generator=None) -> Tensor:
    """Random integers shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, dtype=D.from_numpy_dtype(dt), device=dev,
                   generator=generator)
