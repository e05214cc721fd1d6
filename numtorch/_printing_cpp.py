"""Tensors printed as torch's C++ core prints them inside its error messages
(`` 1  1\\n 1  1\\n[ torch.FloatTensor{2,2} ]``), for messages that quote a tensor."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["aten_str", "type_string"]

_LINE = 80
_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "uint8": "Byte",
           "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long"}


def type_string(np_dtype) -> str:
    """torch's C++ name of a CPU tensor type: ``torch.FloatTensor``, ``CPUBoolType``."""
    from ._ops._util import NP2DT, type_word
    legacy = _LEGACY.get(NP2DT[np.dtype(np_dtype)].name)
    if legacy is not None:
        return f"torch.{legacy}Tensor"
    return f"CPU{type_word(np_dtype)}Type"


def _format(values: np.ndarray) -> tuple:
    """(element formatter, field width, scale) for a block of values, as torch chooses them."""
    flat = values.reshape(-1)
    finite = flat[np.isfinite(flat)]
    int_mode = bool(np.all(finite == np.ceil(finite)))
    exp_min = exp_max = 1.0
    if finite.size:
        low, high = float(np.abs(finite).min()), float(np.abs(finite).max())
        exp_min = math.floor(math.log10(low)) + 1 if low != 0 else 1
        exp_max = math.floor(math.log10(high)) + 1 if high != 0 else 1
    sci = "{:.4e}".format
    if int_mode:
        if exp_max > 9:
            return sci, 11, 1.0
        return "{:g}".format, int(exp_max) + 1, 1.0
    if exp_max - exp_min > 4:
        return sci, 12 if abs(exp_max) > 99 or abs(exp_min) > 99 else 11, 1.0
    if exp_max > 5 or exp_max < 0:
        return "{:.4f}".format, 7, 10.0 ** (exp_max - 1)
    return "{:.4f}".format, 7 if exp_max == 0 else int(exp_max) + 6, 1.0


def _matrix(m: np.ndarray, indent: int) -> str:
    """One 2-d block, split into column groups that fit torch's 80-character lines."""
    fmt, width, scale = _format(m)
    pad = " " * indent
    rows, cols = m.shape
    per_line = max((_LINE - indent) // (width + 1), 1)
    out = []
    for first in range(0, cols, per_line):
        last = min(first + per_line, cols)
        if per_line < cols:
            out.append(("\n" if first else "") + f"Columns {first + 1} to {last}" + pad)
        if scale != 1:
            out.append(f"{scale:g} *\n" + pad)
        lines = [" ".join(fmt(v / scale).rjust(width) for v in m[r, first:last])
                 for r in range(rows)]
        out.append(("\n" + pad + (" " if scale != 1 else "")).join(lines) + "\n")
    return "".join(out)


def aten_str(t) -> str:
    """``t`` (two or more dims) as torch's C++ ``operator<<`` prints it in error messages."""
    a = np.asarray(t._data.real if t._data.dtype.kind == "c" else t._data, dtype=np.float64)
    body = ""
    if a.size:
        if a.ndim == 2:
            body = _matrix(a, 0)
        else:              # torch walks the leading indices with the first one fastest
            blocks = []
            for idx in np.ndindex(*reversed(a.shape[:-2])):
                idx = idx[::-1]
                label = "(" + "".join(f"{i + 1}," for i in idx) + ".,.) = \n"
                blocks.append(label + _matrix(a[idx], 1))
            body = "\n".join(blocks)
    return body + f"[ {type_string(t._data.dtype)}{{{','.join(str(s) for s in a.shape)}}} ]"
