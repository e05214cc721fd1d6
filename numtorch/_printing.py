"""``repr`` of tensors in torch's format: ``tensor([1., 2.], requires_grad=True)``.

Follows torch's printer: one element format for the whole tensor (integer mode ``1.``, fixed
point with ``precision`` digits, or scientific when magnitudes span more than 1000x, exceed 1e8
or go below 1e-4), summarisation with ``...`` past ``threshold`` elements, rows wrapped at
``linewidth`` columns, and suffixes (device, size, dtype, grad_fn / requires_grad) that wrap too.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

from . import _dtype as D

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _Options:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = _Options()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions`` (``sci_mode`` is always reset)."""
    if profile in _PROFILES:
        (OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems,
         OPTIONS.linewidth) = _PROFILES[profile]
    if precision is not None:
        OPTIONS.precision = precision
    if threshold is not None:
        OPTIONS.threshold = threshold
    if edgeitems is not None:
        OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        OPTIONS.linewidth = linewidth
    OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Temporarily change the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One width and style for every element, chosen from the (summarised) values."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(len(f"{v}") for v in flat.tolist())
            return
        nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero.size == 0:
            return
        absval = np.abs(nonzero).astype(np.float64)
        amin, amax = absval.min(), absval.max()
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        if OPTIONS.sci_mode is None:
            self.sci_mode = bool(amax / amin > 1000.0 or amax > 1.0e8 or amin < 1.0e-4)
        else:
            self.sci_mode = OPTIONS.sci_mode
        p = OPTIONS.precision
        vals = nonzero.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") + 1 for v in vals)
        else:
            self.max_width = max(len(f"{v:.{p}f}") for v in vals)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating:
            p = OPTIONS.precision
            if self.sci_mode:
                s = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if math.isfinite(value):
                    s += "."
            else:
                s = f"{value:.{p}f}"
        else:
            s = f"{value}"
        return " " * (self.max_width - len(s)) + s


class _ComplexFormatter:
    """Formats ``a+bj`` from a real-part and an imaginary-part formatter."""

    def __init__(self, real: _Formatter, imag: _Formatter) -> None:
        self.real, self.imag = real, imag

    def element_length(self) -> int:
        return self.real.width() + 2 + self.imag.width() + 1

    def format(self, value) -> str:
        real_str = self.real.format(value.real)
        imag_str = (self.imag.format(value.imag) + "j").lstrip()
        if imag_str[0] in "+-":
            return real_str + imag_str
        return real_str + "+" + imag_str


def _element_length(fmt) -> int:
    if isinstance(fmt, _ComplexFormatter):
        return fmt.element_length()
    return fmt.width() + 2


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt) -> str:
    e = OPTIONS.edgeitems
    per_line = max(1, math.floor((OPTIONS.linewidth - indent) / _element_length(fmt)))
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."] +
                [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a: np.ndarray, indent: int, summarize: bool, fmt) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = OPTIONS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = list(range(e)) + [None] + list(range(n - e, n))
    else:
        rows = list(range(n))
    slices = ["..." if i is None else _tensor_str_with_formatter(a[i], indent + 1, summarize, fmt)
              for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (the first and last ``edgeitems`` per dim)."""
    e = OPTIONS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return a[tuple(slice(0, 0) for _ in a.shape)]
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _printable(a: np.ndarray) -> np.ndarray:
    """Values as NumPy formats them exactly: narrow floats widened to float32."""
    if a.dtype.kind == "V" or a.dtype in (D.bfloat16.np, D.float8_e4m3fn.np, D.float8_e5m2.np,
                                          np.float16):
        return a.astype(np.float32)
    return a


def _tensor_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > OPTIONS.threshold
    a = _printable(a)
    source = _summarized(a) if summarize else a
    if a.dtype.kind == "c":
        fmt = _ComplexFormatter(_Formatter(source.real), _Formatter(source.imag))
    else:
        fmt = _Formatter(source)
    return _tensor_str_with_formatter(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t) -> str:
    """The torch-format repr of tensor ``t`` (``Parameter containing:`` for parameters)."""
    from ._device import META
    is_param = getattr(t, "_is_param", False)
    cls_name = type(t).__name__
    plain = cls_name == "Tensor" or is_param
    prefix = "tensor(" if plain else f"{cls_name}("
    indent = len(prefix)
    a = t._data
    dt = D.from_numpy_dtype(a.dtype)
    default = D.get_default_dtype()
    has_default_dtype = dt in (default, default.to_complex(), D.int64, D.bool_)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    if t._device is META:
        suffixes.append(f"size={tuple(a.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        body = "..."
    elif a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if not OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if not has_default_dtype:
            suffixes.append(f"dtype={dt!r}")
        body = _tensor_str(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name().rsplit('::', 1)[-1]}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    text = _add_suffixes(prefix + body, suffixes, indent)
    if is_param:
        if cls_name != "Parameter":
            text = f"Parameter({text})"
        text = "Parameter containing:\n" + text
    return text
