"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/empty/full(_like), ranges, random."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._device import CPU, META, as_device, cuda_unavailable
from .._tensor import Tensor, _from_array
from ..random import numpy_generator
from ._util import wrap

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "randn", "rand",
           "randint", "randperm", "normal", "scalar_tensor", "randn_like", "rand_like",
           "randint_like", "logspace", "empty_strided"]


def _target(device) -> object:
    dev = as_device(device) if device is not None else CPU
    if dev.type == "cuda":
        raise cuda_unavailable()
    return dev


def _finish(arr: np.ndarray, device, requires_grad: bool) -> Tensor:
    dev = _target(device)
    if dev is META:
        arr = np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)
    t = _from_array(arr, device=dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer(data) -> np.ndarray:
    """An array from Python data with torch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)):
        data = _unwrap_nested(data)
    if isinstance(data, (bool, np.bool_)):
        return np.array(data, dtype=np.bool_)
    arr = np.array(data)
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if arr.dtype.kind == "f" and not _has_numpy_float(data):
        arr = arr.astype(D.get_default_dtype().np)
    elif arr.dtype.kind == "c" and not _has_numpy_float(data):
        arr = arr.astype(D.get_default_dtype().to_complex().np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8 and not isinstance(data, np.generic):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise TypeError(f"new(): invalid data type '{'str'}'")
    return arr


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        if data._data.ndim and False:
            return data._data
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(x) for x in data]
    return data


def _has_numpy_float(data) -> bool:
    if isinstance(data, (np.generic, np.ndarray)):
        return data.dtype.kind in "fc" and data.dtype != np.float64 or isinstance(
            data, (np.float64, np.ndarray))
    if isinstance(data, list):
        return any(_has_numpy_float(x) for x in data[:1])
    return False


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor that copies ``data`` (nested lists, scalars, arrays, tensors)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr = _infer(data)
    if dtype is not None:
        from .convert import cast_array
        arr = cast_array(arr, D.to_numpy_dtype(dtype))
    else:
        arr = arr.copy()
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor over ``data``, sharing memory when it is already an array or tensor of that
    dtype."""
    if isinstance(data, Tensor):
        if (dtype is None or data.dtype is dtype) and (device is None or
                                                       as_device(device) == data.device):
            return data
        return data.to(device=device, dtype=dtype)
    arr = _infer(data)
    if dtype is not None and arr.dtype != D.to_numpy_dtype(dtype):
        arr = arr.astype(D.to_numpy_dtype(dtype))
    if not isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    return _finish(arr, device, False)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return _from_array(ndarray)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (default float dtype)."""
    dt = D.to_numpy_dtype(dtype) if dtype is not None else D.get_default_dtype().np
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


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _dt(dtype, default=None):
    if dtype is None:
        return (default or D.get_default_dtype()).np
    return D.to_numpy_dtype(dtype)


def zeros(*size, out=None, dtype=None, device=None, requires_grad: bool = False,
          layout=None, pin_memory=False) -> Tensor:
    """A tensor of zeros of the given shape."""
    return _finish(np.zeros(_size(size), dtype=_dt(dtype)), device, requires_grad)


def ones(*size, out=None, dtype=None, device=None, requires_grad: bool = False,
         layout=None, pin_memory=False) -> Tensor:
    """A tensor of ones of the given shape."""
    return _finish(np.ones(_size(size), dtype=_dt(dtype)), device, requires_grad)


def empty(*size, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None,
          pin_memory=False, memory_format=None) -> Tensor:
    """An uninitialised tensor of the given shape."""
    return _finish(np.empty(_size(size), dtype=_dt(dtype)), device, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False):
    """An uninitialised tensor (numtorch lays it out contiguously)."""
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad: bool = False,
         layout=None, pin_memory=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        fv = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
        dt = D.scalar_dtype(fv.item() if isinstance(fv, np.generic) else fv).np
    else:
        dt = D.to_numpy_dtype(dtype)
    return _finish(np.full(_size((size,)), fill_value, dtype=dt), device, requires_grad)


def _like(input: Tensor, dtype, device):
    dt = input._data.dtype if dtype is None else D.to_numpy_dtype(dtype)
    dev = input._device if device is None else device
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
    return _finish(np.full(shape, fill_value, dtype=dt), dev, requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None,
           requires_grad: bool = False, layout=None) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in vals)
        dt = D.get_default_dtype().np if is_float else np.int64
    else:
        dt = D.to_numpy_dtype(dtype)
    n = int(math.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64) * step) if np.dtype(dt).kind in "fV" or any(
        isinstance(v, float) for v in vals) else np.arange(start, end, step, dtype=np.int64)
    return _finish(arr.astype(dt), device, requires_grad)


def linspace(start, end, steps: int, *, out=None, dtype=None, device=None,
             requires_grad: bool = False, layout=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dt(dtype)
    if steps == 1:
        arr = np.array([start], dtype=np.float64)
    else:
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - i - 1))
    if np.dtype(dt).kind in "iu":
        arr = np.trunc(arr)
    return _finish(arr.astype(dt), device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=D.float64)._data
    return _finish(np.power(base, lin).astype(_dt(dtype)), device, requires_grad)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, device=None,
        requires_grad: bool = False, layout=None) -> Tensor:
    """An ``n x m`` identity matrix."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _finish(np.eye(n, n if m is None else m, dtype=_dt(dtype)), device, requires_grad)


def _check_float_dtype(fn: str, dt) -> None:
    if np.dtype(dt).kind not in "fcV":
        raise RuntimeError(f"\"{fn}\" not implemented for "
                           f"'{D.from_numpy_dtype(dt).name.capitalize()}'")


def randn(*size, generator=None, out=None, dtype=None, device=None,
          requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """Standard normal samples of the given shape."""
    dt = _dt(dtype)
    _check_float_dtype("normal_kernel_cpu", dt)
    g = numpy_generator(generator)
    if np.dtype(dt).kind == "c":
        real = g.standard_normal(_size(size) + (2,)) * np.sqrt(0.5)
        arr = (real[..., 0] + 1j * real[..., 1]).astype(dt)
    else:
        arr = g.standard_normal(_size(size), dtype=np.float64).astype(dt)
    return _finish(arr, device, requires_grad)


def rand(*size, generator=None, out=None, dtype=None, device=None,
         requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1) of the given shape."""
    dt = _dt(dtype)
    _check_float_dtype("check_uniform_bounds", dt)
    arr = numpy_generator(generator).random(_size(size), dtype=np.float64).astype(dt)
    return _finish(arr, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad: bool = False, layout=None) -> Tensor:
    """Integers uniform on [low, high) of the given shape (int64 unless ``dtype``)."""
    if size is None:
        if high is None or isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = _dt(dtype, D.int64)
    arr = numpy_generator(generator).integers(low, high, _size((size,)), dtype=np.int64)
    return _finish(arr.astype(dt), device, requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype=None, device=None,
             requires_grad: bool = False, layout=None, pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    arr = numpy_generator(generator).permutation(n).astype(_dt(dtype, D.int64))
    return _finish(arr, device, requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with the given mean and std (tensors broadcast, or floats with ``size``)."""
    g = numpy_generator(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError(f"normal expects all elements of std >= 0.0")
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        arr = (g.standard_normal(shape) * s + m).astype(ref._data.dtype)
        return _finish(arr, ref._device, False)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, "
                        "float), but expected one of: (Tensor mean, Tensor std), (float mean, "
                        "float std, tuple of ints size)")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _dt(dtype)
    arr = (g.standard_normal(_size((size,))) * std + mean).astype(dt)
    return _finish(arr, device, requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               generator=None) -> Tensor:
    """Standard normal samples shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    return randn(shape, dtype=D.from_numpy_dtype(dt), device=dev, requires_grad=requires_grad,
                 generator=generator)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              generator=None) -> Tensor:
    """Uniform [0, 1) samples shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    return rand(shape, dtype=D.from_numpy_dtype(dt), device=dev, requires_grad=requires_grad,
                generator=generator)


def randint_like(input: Tensor, low, high=None, *, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:
    """Random integers shaped like ``input``."""
    shape, dt, dev = _like(input, dtype, device)
    return randint(low, high, shape, dtype=D.from_numpy_dtype(dt), device=dev)
