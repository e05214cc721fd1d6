"""Array-level building blocks shared by the optimizers: torch's in-place tensor ops
(``lerp_``, ``addcmul_``, ``addcdiv_``) on NumPy arrays with torch's order of float operations.

Python scalars combine with arrays in the array's dtype (NumPy's NEP 50 rules), as torch casts a
Python scalar to the tensor's dtype, so float32 parameters are updated in float32.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._blas import axpy
from .._tensor import Tensor, _from_array

__all__ = ["real", "lerp_", "addcmul_", "addcdiv_", "add_scaled", "fused_add_scaled",
           "zeros_state", "full_state", "sparse_check", "scalar_dtype", "scalar_state"]


def real(a: np.ndarray) -> np.ndarray:
    """A complex array viewed as its real and imaginary parts (torch's ``view_as_real``)."""
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def lerp_(a: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray | None = None) -> None:
    """``a.lerp_(end, weight)``: ``a + w*(end-a)`` for ``|w| < 0.5``, else ``end - (end-a)*(1-w)``
    (``tmp``: an optional scratch array shaped like ``a``)."""
    diff = np.subtract(end, a, out=tmp)
    w = a.dtype.type(weight)
    if abs(w) < 0.5:
        diff *= w
        a += diff
    else:
        diff *= (1 - w)
        np.subtract(end, diff, out=a)


def addcmul_(a: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float) -> None:
    """``a.addcmul_(t1, t2, value=v)``: ``a + v*t1*t2``."""
    prod = np.multiply(t1, value)
    prod *= t2
    a += prod


def addcdiv_(a: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float) -> None:
    """``a.addcdiv_(t1, t2, value=v)``: ``a + v*t1/t2``."""
    quot = np.multiply(t1, value)
    quot /= t2
    a += quot


def add_scaled(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """``a.add(b, alpha=alpha)`` as a new array: ``a + alpha*b`` (rounded twice; torch fuses it:
    see ``fused_add_scaled``)."""
    out = np.multiply(b, alpha)
    out += a
    return out


def fused_add_scaled(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """``a.add(b, alpha=alpha)`` as a new array, rounded once as torch's fused kernel rounds it
    where BLAS's axpy is available (callers run on one thread: see ``Optimizer._AXPY``)."""
    if type(alpha) in (int, float) and a.dtype == b.dtype and a.shape == b.shape:
        out = a.copy()
        axpy(alpha, b, out)
        return out
    return add_scaled(a, b, alpha)


def zeros_state(p: Tensor) -> Tensor:
    """``torch.zeros_like(p)``: a state tensor shaped, typed and placed like ``p``."""
    return _from_array(np.zeros_like(p._data), device=p._device)


def full_state(p: Tensor, value) -> Tensor:
    """``torch.full_like(p, value)``."""
    return _from_array(np.full_like(p._data, value), device=p._device)


def scalar_dtype(fused=False) -> np.dtype:
    """The dtype torch gives scalar state (``step``): float32 for a fused group, else float64
    under a float64 default dtype."""
    if not fused and D.get_default_dtype() is D.float64:
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def scalar_state(value: float, fused=False) -> Tensor:
    """A 0-d tensor holding ``value`` in the scalar-state dtype (as torch's ``step``)."""
    return _from_array(np.array(value, dtype=scalar_dtype(fused)))


def sparse_check(p: Tensor, name: str) -> None:
    """Refuse sparse gradients as torch's optimizers do (numtorch has no sparse tensors yet)."""
    if getattr(p._grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients")
