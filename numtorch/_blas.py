"""``y += alpha * x`` with one rounding per element, through the BLAS that NumPy ships.

torch's ``add_(x, alpha=a)`` (SGD's ``param.add_(grad, alpha=-lr)``) computes a fused
multiply-add: ``y + a*x`` rounded once. NumPy has no fused multiply-add ufunc; two ufuncs round
twice, so about one float32 element in fifty ends one ulp away from torch's, and they take two
passes over memory. BLAS's ``axpy`` is exactly that fused operation (its x86 kernels use FMA
instructions) in one pass. NumPy's wheels bundle OpenBLAS with 64-bit integer symbols; when it is
found, :func:`axpy` calls it through ctypes, otherwise it falls back to NumPy's two ufuncs.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

__all__ = ["axpy", "fused_axpy_available"]

_SYMBOLS = {np.dtype(np.float32): ("scipy_cblas_saxpy64_", "cblas_saxpy64_"),
            np.dtype(np.float64): ("scipy_cblas_daxpy64_", "cblas_daxpy64_")}
_CTYPE = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
_kernels: dict | None = None


def _library_paths() -> list[str]:
    root = os.path.dirname(np.__file__)
    found = []
    for folder in (root + ".libs", os.path.join(root, ".libs"), os.path.join(root, ".dylibs")):
        found += glob.glob(os.path.join(folder, "*openblas*"))
    return found


def _load() -> dict:
    kernels: dict = {}
    if os.environ.get("NUMTORCH_FUSED_AXPY") == "0":
        return kernels
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for dtype, names in _SYMBOLS.items():
            for name in names:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.argtypes = [ctypes.c_int64, _CTYPE[dtype], ctypes.c_void_p,
                                   ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
                    fn.restype = None
                    kernels[dtype] = fn
                    break
        if kernels:
            break
    return kernels


def _kernel(dtype: np.dtype):
    global _kernels
    if _kernels is None:
        _kernels = _load()
    return _kernels.get(dtype)


def fused_axpy_available(dtype) -> bool:
    """Whether :func:`axpy` runs BLAS's fused kernel for ``dtype``."""
    return _kernel(np.dtype(dtype)) is not None


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``y += alpha * x`` in place (``y``'s dtype), one rounding per element where BLAS runs it.

    ``x`` must have ``y``'s shape. Every call for a dtype takes the same route whatever the
    arrays' sizes and layouts, so slices of an update give the results of the whole update."""
    dtype = y.dtype
    fn = _kernel(dtype)
    if fn is None or x.dtype != dtype or x.shape != y.shape or not y.flags.writeable:
        y += np.multiply(x, float(alpha))
        return
    if not x.flags.c_contiguous or (x is not y and np.may_share_memory(x, y)):
        x = np.array(x, order="C")  # a private contiguous copy
    if y.flags.c_contiguous:
        fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    work = np.ascontiguousarray(y)
    fn(work.size, alpha, x.ctypes.data, 1, work.ctypes.data, 1)
    y[...] = work
