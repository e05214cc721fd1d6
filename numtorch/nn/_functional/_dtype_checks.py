"""torch's CPU errors for layers whose input and parameters have different dtypes.

Each function takes NumPy dtypes (None for an absent tensor) and raises what torch 2.13 raises
for that combination, in the order torch checks; it returns quietly when torch computes.
"""
from __future__ import annotations

import functools
import platform

import numpy as np

from ..._ops._util import type_word
from ._common import dtype_word

__all__ = ["check_mixed_dtypes", "check_norm_dtypes", "check_conv_bias_dtype",
           "check_conv_weight_dtype", "check_linear_dtypes", "check_prelu_dtypes",
           "check_bilinear_dtypes", "not_implemented_unless_float"]

_FLOAT32 = np.dtype(np.float32)
_REDUCED = ("float16", "bfloat16")


def _legacy_name(dt: np.dtype) -> str:
    """The legacy tensor-type name of a CPU dtype as the MKLDNN checks print it."""
    if dt.name == "bfloat16":
        return "CPUBFloat16Type"
    from ..._tensor import _TYPE_NAMES
    return "torch." + _TYPE_NAMES.get(dt.name, "Tensor")


@functools.cache
def _cpu_features() -> frozenset:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def _mkldnn_runs(dt: np.dtype) -> bool:
    """Whether torch's CPU convolution runs a float16/bfloat16 input through oneDNN, which it
    does only where the CPU has the instructions for that dtype; the error wording for a
    mismatched weight depends on it."""
    flags = _cpu_features()
    if platform.machine().lower() in ("aarch64", "arm64"):
        return ("bf16" if dt.name == "bfloat16" else "asimdhp") in flags
    if {"amx_fp16", "avx_ne_convert"} & flags and dt.name == "float16":
        return True
    avx512_core = {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags
    if dt.name == "bfloat16":
        return avx512_core or "avx_ne_convert" in flags
    return avx512_core and "avx512_fp16" in flags


def not_implemented_unless_float(kernel: str, dt: np.dtype) -> None:
    """NotImplementedError ``"kernel" not implemented for 'Long'`` for a non-float dtype."""
    if dt.kind not in "fV":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_word(dt)}\'')


def check_mixed_dtypes(x: np.dtype, params: tuple) -> bool:
    """torch's CPU rule for normalisation parameters whose dtype differs from the input's (the
    first present one decides): they must all be float32 and the input float16 or bfloat16.
    Returns whether the call is such a valid mixed one."""
    defined = [p for p in params if p is not None]
    if not defined or defined[0] == x:
        return False
    if any(p != _FLOAT32 for p in defined):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if x.name not in _REDUCED:
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    return True


def check_norm_dtypes(x: np.dtype, params: tuple, kernel_order: tuple | None = None,
                      kernel: str | None = None) -> None:
    """Batch, layer and group norm: :func:`check_mixed_dtypes`, then (not mixed) an integer
    input is refused as by the ``kernel`` named and every parameter must have the input's dtype.
    ``params`` is torch's order for finding the parameter dtype; ``kernel_order`` the order its
    kernel reads them (default the same)."""
    if check_mixed_dtypes(x, params):
        return
    if kernel is not None:
        not_implemented_unless_float(kernel, x)
    for p in (params if kernel_order is None else kernel_order):
        if p is not None and p != x:
            raise RuntimeError(f"expected scalar type {type_word(x)} but found {type_word(p)}")


def _weight_mismatch(x: np.dtype, w: np.dtype, name: str = "weight") -> RuntimeError:
    if x.name in _REDUCED and _mkldnn_runs(x):
        return RuntimeError(f"Input type ({_legacy_name(x)}) and {name} type ({_legacy_name(w)}) "
                            f"should be the same or input should be a MKLDNN tensor and {name} "
                            "is a dense tensor")
    return RuntimeError(f"expected scalar type {type_word(x)} but found {type_word(w)}")


def check_conv_bias_dtype(x: np.dtype, b: np.dtype | None) -> None:
    """A convolution's first dtype check (right after the input's rank): the bias's dtype."""
    if b is not None and b != x:
        raise RuntimeError(f"Input type ({dtype_word(x)}) and bias type ({dtype_word(b)}) "
                           "should be the same")


def check_conv_weight_dtype(x: np.dtype, w: np.dtype, b: np.dtype | None,
                            transposed: bool) -> bool:
    """A (transposed) convolution's last check, once the shapes are valid: the weight's dtype
    (and a transposed convolution's bias). Returns whether the bias needs a cast to the input's
    dtype (torch accepts one there for float32, float64 and integer input, and for float16 and
    bfloat16 ones that do not run through oneDNN)."""
    if w != x:
        raise _weight_mismatch(x, w)
    if transposed and b is not None and b != x:
        if x.name in _REDUCED and _mkldnn_runs(x):
            raise _weight_mismatch(x, b, "bias")
        if x.kind in "biu" and b.kind in "fcV":  # the bias is added in place
            raise RuntimeError(f"result type {type_word(b)} can't be cast to the desired output "
                               f"type {type_word(x)}")
        return True
    return False


def check_linear_dtypes(x: np.dtype, w: np.dtype, b: np.dtype | None) -> None:
    """``linear``: ``addmm``'s checks with a bias, ``matmul``'s without."""
    if b is None:
        if w != x:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{dtype_word(x)} != {dtype_word(w)}")
        return
    if b != w:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {type_word(b)} and "
                           f"{type_word(w)}")
    if x != w:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_word(x)} and "
                           f"{type_word(w)}")


def check_prelu_dtypes(x: np.dtype, w: np.dtype) -> None:
    """``prelu`` never promotes."""
    if x != w:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {type_word(x)} and "
                           f"{type_word(w)}")


def check_bilinear_dtypes(x1: np.dtype, x2: np.dtype, w: np.dtype, b: np.dtype | None) -> None:
    """``bilinear`` wants all of its tensors in one dtype."""
    if x1 == x2 == w and (b is None or b == w):
        return
    listed = f"input1: {dtype_word(x1)}, input2: {dtype_word(x2)}, weight: {dtype_word(w)}"
    if b is not None:
        listed += f", bias: {dtype_word(b)}"
    raise RuntimeError(f"All tensors must have the same dtype, got {listed}")
