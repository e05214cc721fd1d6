"""``repr`` of tensors in torch's format: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import math

import numpy as np

from . import _dtype as D

__all__ = ["tensor_repr", "set_printoptions"]


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


OPTIONS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``."""
    if profile == "default":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = \
            4, math.inf, 3, 80
    if precision is not None:
        OPTIONS.precision = precision
    if threshold is not None:
        OPTIONS.threshold = threshold
    if edgeitems is not None:
        OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        OPTIONS.linewidth = linewidth
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and style for every element, as torch's _Formatter does."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = OPTIONS.precision
        if not self.floating:
            for v in values.reshape(-1):
                self.max_width = max(self.max_width, len(str(v)))
            return
        finite = values[np.isfinite(values)]
        nonzero = np.abs(finite[finite != 0])
        if nonzero.size == 0:
            self.max_width = max([1] + [len(_nonfinite(v)) for v in values if
                                        not np.isfinite(v)] + [2 if finite.size else 1])
            return
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        amax, amin = float(nonzero.max()), float(nonzero.min())
        if self.int_mode:
            if amax / amin > 1000.0 or amax > 1.0e8:
                self.sci_mode = True
                width_of = lambda v: len(f"{v:.{p}e}")
            else:
                width_of = lambda v: len(f"{v:.0f}") + 1
        else:
            if amax / amin > 1000.0 or amax > 1.0e8 or amin < 1.0e-4:
                self.sci_mode = True
                width_of = lambda v: len(f"{v:.{p}e}")
            else:
                width_of = lambda v: len(f"{v:.{p}f}")
        if OPTIONS.sci_mode is not None:
            self.sci_mode = OPTIONS.sci_mode
            if self.sci_mode:
                width_of = lambda v: len(f"{v:.{p}e}")
        for v in finite.tolist():
            self.max_width = max(self.max_width, width_of(v))
        for v in values[~np.isfinite(values)].tolist():
            self.max_width = max(self.max_width, len(_nonfinite(v)))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        p = OPTIONS.precision
        if self.floating:
            v = float(value)
            if not math.isfinite(v):
                s = _nonfinite(v)
            elif self.sci_mode:
                s = f"{v:.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}."
            else:
                s = f"{v:.{p}f}"
        elif isinstance(value, (bool, np.bool_)):
            s = str(bool(value))
        else:
            s = str(value)
        return " " * (self.max_width - len(s)) + s


def _nonfinite(v: float) -> str:
    if math.isnan(v):
        return "nan"
    return "inf" if v > 0 else "-inf"


def _summarize(a: np.ndarray) -> np.ndarray:
    e = OPTIONS.edgeitems
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * e:
        parts = [a[:e], a[-e:]]
        return np.concatenate([_summarize(x) for x in parts]) if a.ndim == 1 else \
            np.concatenate([np.stack([_summarize(x) for x in p]) for p in parts])
    return np.stack([_summarize(x) for x in a]) if a.ndim > 1 else a


def _tensor_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    e = OPTIONS.edgeitems
    if a.ndim == 1:
        items = [fmt.format(v) for v in a.tolist()] if not summarize or a.shape[0] <= 2 * e else \
            [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + \
            [fmt.format(v) for v in a[-e:].tolist()]
        elem_width = fmt.width() + 2
        per_line = max(math.floor((OPTIONS.linewidth - indent) / elem_width), 1)
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and a.shape[0] > 2 * e:
        slices = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
            [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - e,
                                                                          a.shape[0])]
    else:
        slices = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def _values_for_printing(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "V" or a.dtype in (D.bfloat16.np, D.float8_e4m3fn.np, D.float8_e5m2.np):
        return a.astype(np.float32)
    if a.dtype == np.float16:
        return a.astype(np.float32)
    return a


def tensor_repr(t, prefix: str = "tensor(") -> str:
    """The torch-format repr of tensor ``t``."""
    from ._device import META
    is_param = getattr(t, "_is_param", False)
    if is_param:
        suffixes = ["requires_grad=True"] if t.requires_grad else []
        return "Parameter containing:\n" + _body(t, suffixes)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _body(t, suffixes, prefix)


def _body(t, suffixes: list, prefix: str = "tensor(") -> str:
    from ._device import META
    a = t._data
    dt = D.from_numpy_dtype(a.dtype)
    default_dtypes = (D.get_default_dtype(), D.int64, D.bool_, D.get_default_dtype().to_complex())
    if t._device is META:
        body = "..."
        suffixes = [f"size={tuple(a.shape)}"] + suffixes
        if dt not in default_dtypes[:1] or True:
            suffixes.append(f"dtype={dt!r}") if dt is not D.get_default_dtype() else None
        return prefix + body + (", " + ", ".join(suffixes) if suffixes else "") + ")"
    values = _values_for_printing(a)
    if a.size == 0 and a.ndim == 1:
        body = "[]"
    elif a.size == 0:
        body = "[]"
        suffixes = [f"size={tuple(a.shape)}"] + suffixes
    else:
        summarize = a.size > OPTIONS.threshold
        sample = _summarize(values) if summarize else values
        if values.dtype.kind == "c":
            body = _complex_str(values, len(prefix))
        else:
            fmt = _Formatter(sample.reshape(-1) if sample.ndim else sample.reshape(1))
            body = _tensor_str(values, len(prefix), summarize, fmt)
    if dt not in default_dtypes or (a.size == 0 and dt not in (D.get_default_dtype(),)):
        if not (a.size == 0 and dt is D.get_default_dtype()):
            suffixes.insert(0 if not suffixes or not suffixes[0].startswith("size=") else 1,
                            f"dtype={dt!r}")
    if a.size == 0 and dt is D.int64:
        pass
    sep = ", "
    tail = sep + sep.join(suffixes) if suffixes else ""
    text = prefix + body + tail + ")"
    return text


def _complex_str(values: np.ndarray, indent: int) -> str:
    real = _Formatter(values.real.reshape(-1))
    imag = _Formatter(np.abs(values.imag.reshape(-1)))

    class _C:
        def width(self):
            return real.width() + imag.width() + 2

        def format(self, v):
            v = complex(v)
            sign = "+" if v.imag >= 0 or math.isnan(v.imag) else "-"
            return real.format(v.real) + sign + imag.format(abs(v.imag)).lstrip().rjust(
                imag.width()) + "j"

    return _tensor_str(values, indent, False, _C())
