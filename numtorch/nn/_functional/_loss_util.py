"""Pieces every loss shares: reduction parsing, dtype words, reduced-precision compute."""
from __future__ import annotations

import warnings

import numpy as np

from ..._ops._util import GRAD
from ..._tensor import Tensor

__all__ = ["reduction_enum", "resolve_reduction", "type_word", "promote", "compute_dtype",
           "reduce_loss",
           "warn_target_size", "refuse_grad", "NONE", "MEAN", "SUM"]

NONE, MEAN, SUM = 0, 1, 2
_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
          "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
          "bool": "Bool", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def reduction_enum(reduction: str) -> int:
    """0, 1 or 2 for 'none', 'mean', 'sum'; ValueError for anything else."""
    if reduction == "none":
        return NONE
    if reduction == "mean":
        return MEAN
    if reduction == "sum":
        return SUM
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return MEAN
    raise ValueError(f"{reduction} is not a valid value for reduction")


def resolve_reduction(size_average, reduce, reduction: str) -> int:
    """The reduction enum, honouring (with torch's warning) the legacy boolean arguments."""
    if size_average is None and reduce is None:
        return reduction_enum(reduction)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    name = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{name}' instead.", stacklevel=3)
    return reduction_enum(name)


def refuse_grad(function: str, argument: str, t) -> None:
    """torch's error when a non-differentiable argument (a class weight) requires grad."""
    if t is not None and t._requires_grad and GRAD.enabled:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{argument}'. This input cannot have requires_grad True.")


def type_word(np_dtype) -> str:
    """torch's scalar type word for a NumPy dtype ('Float', 'Long' ...)."""
    name = np.dtype(np_dtype).name
    return _WORDS.get(name, name)


def promote(*np_dtypes) -> np.dtype:
    """torch's type promotion of tensors' NumPy dtypes (bfloat16 with an integer stays
    bfloat16, unlike NumPy)."""
    from ... import _dtype as D
    result = D.from_numpy_dtype(np_dtypes[0])
    for other in np_dtypes[1:]:
        result = D.promote_types(result, D.from_numpy_dtype(other))
    return result.np


def compute_dtype(np_dtype):
    """The dtype losses compute in: float32 for half precision, the dtype itself otherwise."""
    if np_dtype.itemsize <= 2 and np_dtype.kind in "fV":
        return np.dtype(np.float32)
    return np_dtype


def reduce_loss(loss: np.ndarray, reduction: int, denominator=None) -> tuple[np.ndarray, object]:
    """Reduce an elementwise loss; returns ``(result, scale)`` where ``scale`` is d result / d
    element for reduced results (None for 'none')."""
    if reduction == NONE:
        return loss, None
    total = np.add.reduce(loss, axis=None)
    if reduction == SUM:
        return np.asarray(total), 1.0
    count = loss.size if denominator is None else denominator
    if count:
        return np.asarray(total / count, dtype=loss.dtype), 1.0 / count
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / count, dtype=loss.dtype), 0.0


def warn_target_size(input: Tensor, target: Tensor) -> None:
    """torch's UserWarning when a regression target broadcasts against the input."""
    if target._data.shape != input._data.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
