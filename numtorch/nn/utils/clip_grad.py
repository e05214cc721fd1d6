"""Gradient clipping: scale all gradients to a maximum total norm, or clamp each element."""
from __future__ import annotations

import types
import warnings
from typing import Iterable

import numpy as np

from ..._ops._util import type_word
from ..._tensor import Tensor, _from_array
from .._functional._argcheck import invalid_combination

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]

TensorOrTensors = Tensor | Iterable[Tensor]
_CLAMP_OVERLOADS = (
    "(Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)",
    "(Tensor input, Number min = None, Number max = None, *, Tensor out = None)")


def _as_list(parameters: TensorOrTensors) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=3)
    return parameters


def _vector_norm(a: np.ndarray, norm_type: float) -> np.ndarray:
    """torch.linalg.vector_norm of a whole array, in the array's dtype."""
    if a.dtype.itemsize <= 2 and a.dtype.kind in "fV":
        return _vector_norm(a.astype(np.float32), norm_type).astype(a.dtype)
    flat = np.abs(a.reshape(-1))
    if norm_type == np.inf:
        r = flat.max(initial=0)
    elif norm_type == -np.inf:
        r = flat.min() if flat.size else np.array(np.inf, dtype=a.dtype)
    elif norm_type == 0:
        r = np.count_nonzero(flat)
    elif norm_type == 1:
        r = flat.sum()
    elif norm_type == 2:
        r = np.sqrt(np.dot(flat, flat))
    else:
        r = np.sum(flat ** norm_type) ** (1.0 / norm_type)
    return np.asarray(r, dtype=a.dtype)


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of the norms of ``tensors`` (as if concatenated); RuntimeError when it is not
    finite and ``error_if_nonfinite``."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ..._dtype import get_default_dtype
        return _from_array(np.asarray(0.0, dtype=get_default_dtype().np))
    for t in tensors:
        if t._data.dtype.kind not in "fcV":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor "
                               f"as input. Got {type_word(t._data.dtype)}")
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    dtype = np.result_type(*norms)
    total = _vector_norm(np.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this "
                           "error and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return _from_array(total, device=tensors[0]._device)


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm +
    1e-6))``."""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    if not isinstance(total_norm, Tensor):  # torch then calls clamp(max_norm / (total + 1e-6))
        raise invalid_combination("clamp", (float(max_norm) / (total_norm + 1e-6),),
                                  {"max": 1.0}, _CLAMP_OVERLOADS)
    total = total_norm._data
    if total.ndim:
        raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {total.ndim} "
                           f"dimensions and {total.size} elements.")
    if total.dtype.kind not in "fcV":  # an integer norm divides into the default dtype
        from ..._dtype import get_default_dtype
        total = total.astype(get_default_dtype().np)
    coef = np.minimum(np.asarray(float(max_norm), dtype=total.dtype) / (total + 1e-6), 1.0)
    for g in grads:
        with np.errstate(invalid="ignore"):
            if g._data.flags.writeable:
                np.multiply(g._data, coef, out=g._data, casting="unsafe")
            else:
                g._data = (g._data * coef).astype(g._data.dtype)
        g._bump()


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so their total ``norm_type`` norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor). ``foreach`` is accepted for
    compatibility; every path is vectorised.
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_`."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]``."""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    clip_value = float(clip_value)
    for p in parameters:
        g = p.grad
        if g is None:
            continue
        if g._data.flags.writeable:
            np.clip(g._data, -clip_value, clip_value, out=g._data, casting="unsafe")
        else:
            g._data = np.clip(g._data, -clip_value, clip_value).astype(g._data.dtype)
        g._bump()
