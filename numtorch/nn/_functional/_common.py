"""Shared helpers of the functional layers: argument normalisation and node recording."""
from __future__ import annotations

import numpy as np

from ..._ops._util import GRAD, Node, record, wrap  # noqa: F401
from ..._tensor import Tensor, _from_array  # noqa: F401

_TYPE_WORDS = {"float32": "float", "float64": "double", "float16": "c10::Half",
               "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
               "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
               "bool": "bool", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}


def tuple_arg(value, n: int, name: str = "") -> tuple:
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1 and n > 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name or 'argument'} to be a single integer value or a list "
                           f"of {n} values to match the convolution dimensions, but got "
                           f"{name or 'argument'}={list(value)}")
    return value


def needs_grad(*tensors) -> bool:
    """Whether an op over these tensors (None allowed) must be recorded."""
    if not GRAD.enabled:
        return False
    for t in tensors:
        if t is not None and t._requires_grad:
            return True
    return False


def wants(node: Node, i: int) -> bool:
    """Whether input ``i`` of ``node`` needs a gradient."""
    return node.next_functions[i][0] is not None


def dtype_word(arr) -> str:
    """The C++ type name torch uses in dtype-mismatch messages (``float``, ``double``) for an
    array or a NumPy dtype."""
    name = str(getattr(arr, "dtype", arr))
    return _TYPE_WORDS.get(name, name)


def torch_dtype_name(arr: np.ndarray) -> str:
    """torch's capitalised scalar type name (``Float``, ``Double``, ``Long``)."""
    from ..._ops._util import _type_word
    return _type_word(arr.dtype)
