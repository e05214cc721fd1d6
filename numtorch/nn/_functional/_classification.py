"""cross_entropy and nll_loss: one fused node each over a (rows, classes) view of the input.

cross_entropy computes a numerically stable log-softmax and the negative log-likelihood (with
class weights, ignore_index and label smoothing, or class-probability targets) in one forward;
its backward is ``r_i * (p * s_i - q)`` over the whole batch at once, where ``p`` is the softmax,
``q`` the per-class coefficients of the loss in the log-probabilities and ``s_i`` their row sum.
"""
from __future__ import annotations

import numpy as np

from ..._tensor import Tensor, _from_array
from ..._ops._util import GRAD, Node, record
from ._argcheck import check_tensors
from ._loss_util import (MEAN, NONE, SUM, compute_dtype, promote, refuse_grad, resolve_reduction,
                         type_word)

__all__ = ["cross_entropy", "nll_loss"]


# ---------------------------------------------------------------------------- layout helpers
class _Layout:
    """How an (N, C, d1, ...) or (C,) input maps onto (rows, C) and back."""

    __slots__ = ("shape", "ndim", "rows_shape")

    def __init__(self, shape: tuple) -> None:
        self.shape = shape
        self.ndim = len(shape)
        self.rows_shape = () if self.ndim == 1 else (shape[0],) + shape[2:]

    def to_rows(self, a: np.ndarray) -> np.ndarray:
        if self.ndim == 1:
            return a[None, :]
        if self.ndim == 2:
            return a
        return np.moveaxis(a, 1, -1).reshape(-1, self.shape[1])

    def to_cols(self, a: np.ndarray) -> np.ndarray:
        """The (classes, rows) layout: reductions over few classes run along axis 0, where
        NumPy vectorises them across rows."""
        if self.ndim == 1:
            return a[:, None]
        if self.ndim == 2:
            return np.ascontiguousarray(a.T)
        return np.moveaxis(a, 1, 0).reshape(self.shape[1], -1)

    def from_rows(self, g: np.ndarray) -> np.ndarray:
        if self.ndim == 1:
            return g[0]
        if self.ndim == 2:
            return g
        moved = g.reshape((self.shape[0],) + self.shape[2:] + (self.shape[1],))
        return np.moveaxis(moved, -1, 1)


def _check_input(input: Tensor) -> None:
    if input._data.ndim == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")


def _check_floating(input: Tensor, kernel: str) -> None:
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{type_word(input._data.dtype)}'")


def _check_index_target(input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    """nll_loss_nd's shape, dtype and weight checks, in torch's order and words."""
    ishape, tshape = tuple(input.shape), tuple(target.shape)
    if len(ishape) < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {len(ishape)})")
    if len(ishape) != 1 and (not tshape or ishape[0] != tshape[0]):
        tb = tshape[0] if tshape else 1
        raise ValueError(f"Expected input batch_size ({ishape[0]}) to match target batch_size "
                         f"({tb}).")
    if len(ishape) <= 2:
        if len(tshape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if not (len(ishape) == 1 and len(tshape) == 0) and ishape[0] != tshape[0]:
            raise RuntimeError(f"size mismatch (got input: {list(ishape)}, target: "
                               f"{list(tshape)})")
    elif tshape[1:] != ishape[2:]:
        raise RuntimeError(f"Expected target size {list((ishape[0],) + ishape[2:])}, got "
                           f"{list(tshape)}")
    classes = ishape[1] if len(ishape) > 1 else ishape[0]
    if weight is not None and (weight.numel() != classes or
                               (len(ishape) <= 2 and weight.dim() != 1)):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{type_word(target._data.dtype)}")
    _check_floating(input, "nll_loss_out_frame")
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {type_word(input._data.dtype)} but found "
                           f"{type_word(weight._data.dtype)}")


_ARANGES: dict = {}


def _arange(n: int) -> np.ndarray:
    """A cached ``np.arange(n)`` (read-only) for row indexing."""
    a = _ARANGES.get(n)
    if a is None:
        if len(_ARANGES) > 64:
            _ARANGES.clear()
        a = _ARANGES[n] = np.arange(n)
        a.flags.writeable = False
    return a


def _index_rows(target: Tensor, classes: int, ignore_index: int):
    """Flattened class indices (ignored ones set to 0) and the mask of counted rows (None when
    every row counts); IndexError for a class outside [0, classes)."""
    t = target._data.reshape(-1)
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    if t.size:
        lo, hi = np.minimum.reduce(t), np.maximum.reduce(t)
        if lo >= 0 and hi < classes and not lo <= ignore_index <= hi:
            return t, None
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"Target {t[np.argmax(bad)]} is out of bounds.")
    if valid.all():
        return t, None
    return np.where(valid, t, 0), valid


def _nll_name(ndim: int, reduction: int) -> str:
    if ndim <= 2:
        return "NllLossBackward0"
    if ndim == 4 or reduction != NONE:
        return "NllLoss2DBackward0"
    return "ViewBackward0"


# ---------------------------------------------------------------------------- nodes
class _ClassLossBackward(Node):
    """Backward of the fused classification losses (see the module docstring)."""

    __slots__ = ("layout", "probs", "rows_shape", "cdt", "picked", "row_coef", "dense_q",
                 "class_coef", "reduction", "scale", "in_dtype", "logp_for_target", "target_coef",
                 "cols")

    def backward(self, g):
        self.saved_tensors_checked()
        g = np.asarray(g, dtype=self.cdt)
        r = g.reshape(-1) if self.reduction == NONE else g * self.scale
        grad_in = None
        if self.next_functions[0][0] is not None:
            grad_in = self.layout.from_rows(self._rows_grad(r)).astype(self.in_dtype, copy=False)
        if len(self.next_functions) == 1:
            return (grad_in,)
        grad_tg = None
        if self.next_functions[1][0] is not None:
            rcol = r[:, None] if r.ndim else r
            grad_tg = self.layout.from_rows(-(rcol * self.target_coef) * self.logp_for_target)
        return grad_in, grad_tg

    def _rows_grad(self, r: np.ndarray) -> np.ndarray:
        """d loss / d logits as (rows, classes) (a transposed view in the columns layout)."""
        cols = self.cols
        per_row = (lambda a: a[None, :]) if cols else (lambda a: a[:, None])
        rb = per_row(r) if r.ndim else r
        if self.probs is None:
            out = np.zeros(self.rows_shape, dtype=self.cdt)
        elif self.row_coef is None:
            out = self.probs * rb
        else:
            out = self.probs * (rb * per_row(self.row_coef))
        if self.dense_q is not None:
            out -= rb * self.dense_q
        if self.picked is not None:
            idx, coef = self.picked
            step = r if coef is None else r * coef
            if cols:
                out[idx, _arange(idx.size)] -= step
            else:
                out[_arange(idx.size), idx] -= step
        if self.class_coef is not None:
            row_part = per_row(r * self.class_coef[0])
            out -= row_part * (self.class_coef[1][:, None] if cols else
                               self.class_coef[1][None, :])
        return out.T if cols else out


_NODE_TYPES: dict = {}


def _node(name: str) -> _ClassLossBackward:
    cls = _NODE_TYPES.get(name)
    if cls is None:
        cls = _NODE_TYPES[name] = type(name, (_ClassLossBackward,), {"__slots__": ()})
    node = cls()
    node.dense_q = node.class_coef = node.picked = node.logp_for_target = None
    node.target_coef = node.row_coef = node.probs = None
    node.cols = False
    return node


def _finish(loss_rows: np.ndarray, layout: _Layout, reduction: int, denominator, like: Tensor,
            out_dtype):
    """Reduce per-row losses; returns (result tensor, d result / d row)."""
    if reduction == NONE:
        return _from_array(loss_rows.reshape(layout.rows_shape).astype(out_dtype, copy=False),
                           device=like._device), None
    total = np.add.reduce(loss_rows)
    if reduction == SUM:
        return _from_array(np.asarray(total, dtype=out_dtype), device=like._device), 1.0
    if denominator:
        return _from_array(np.asarray(total / denominator, dtype=out_dtype),
                           device=like._device), 1.0 / denominator
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.asarray(total / denominator, dtype=out_dtype)
    scale = 0.0
    return _from_array(value, device=like._device), scale


# ---------------------------------------------------------------------------- cross_entropy
def _log_softmax_parts(x: np.ndarray, axis: int = 1):
    """Shifted logits, softmax and log of the normaliser along the class ``axis``."""
    z = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    e = np.exp(z)
    s = np.add.reduce(e, axis=axis, keepdims=True)
    e /= s
    return z, e, np.log(s).reshape(-1)


_COLUMN_LAYOUT_MAX_CLASSES = 32


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input`` (N, C, ...) and class indices or probabilities.

    Raises torch's errors for mismatched shapes, wrong target dtypes, out-of-range classes and
    bad ``label_smoothing``.
    """
    check_tensors("cross_entropy_loss", ("input", input), ("target", target), ("weight", weight),
                  optional=1)
    red = resolve_reduction(size_average, reduce, reduction)
    _check_input(input)
    if tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, ignore_index, red, label_smoothing)
    _check_floating(input, "log_softmax_lastdim_kernel_impl")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    _check_index_target(input, target, weight)
    refuse_grad("nll_loss_forward", "weight", weight)
    eps = label_smoothing if label_smoothing > 0.0 else 0.0
    layout = _Layout(tuple(input.shape))
    cdt = compute_dtype(input._data.dtype)
    classes = input.shape[1] if layout.ndim > 1 else input.shape[0]
    cols = classes <= _COLUMN_LAYOUT_MAX_CLASSES
    data = input._data.astype(cdt, copy=False)
    x = layout.to_cols(data) if cols else layout.to_rows(data)
    t, valid = _index_rows(target, classes, ignore_index)
    z, p, log_norm = _log_softmax_parts(x, 0 if cols else 1)
    nll = log_norm - (z[t, _arange(t.size)] if cols else z[_arange(t.size), t])
    w = None if weight is None else weight._data.astype(cdt, copy=False)
    plain = w is None and valid is None
    if plain:
        wt, loss, denom = None, nll, t.size
    else:
        wt = (valid.astype(cdt) if w is None else w[t] if valid is None else w[t] * valid)
        loss, denom = nll * wt, wt.sum()
    if eps:
        w_sum = classes if w is None else w.sum()
        if cols:
            smooth = log_norm * w_sum - (z.sum(axis=0) if w is None else w @ z)
        else:
            smooth = log_norm * w_sum - (z.sum(axis=1) if w is None else z @ w)
        if valid is not None:
            smooth = smooth * valid
        loss = (1 - eps) * loss + (eps / classes) * smooth
    out, scale = _finish(loss, layout, red, denom, input, input._data.dtype)
    if GRAD.enabled and input._requires_grad:
        name = "AddBackward0" if eps else _nll_name(layout.ndim, red)
        node = _node(name)
        node.layout, node.probs, node.cdt, node.cols = layout, p, cdt, cols
        node.reduction, node.scale, node.in_dtype = red, scale, input._data.dtype
        if eps:
            wt = np.ones(t.size, cdt) if wt is None else wt
            vmask = np.ones(t.size, cdt) if valid is None else valid.astype(cdt)
            node.picked = (t, (1 - eps) * wt)
            node.row_coef = (1 - eps) * wt + (eps / classes) * w_sum * vmask
            node.class_coef = ((eps / classes) * vmask, np.ones(classes, cdt) if w is None else w)
        else:
            node.picked, node.row_coef = (t, wt), wt
        node.save(input)
        record(out, node, input)
    return out


def _cross_entropy_probs(input: Tensor, target: Tensor, weight, ignore_index: int, red: int,
                         label_smoothing: float) -> Tensor:
    if target._data.dtype.kind not in "fV":
        raise RuntimeError("Expected floating point type for target with class probabilities, "
                           f"got {type_word(target._data.dtype)}")
    _check_floating(input, "log_softmax_lastdim_kernel_impl")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    layout = _Layout(tuple(input.shape))
    out_dtype = promote(input._data.dtype, target._data.dtype,
                        *(() if weight is None else (weight._data.dtype,)))
    cdt = compute_dtype(out_dtype)
    x = layout.to_rows(input._data.astype(cdt, copy=False))
    tg = layout.to_rows(target._data.astype(cdt, copy=False))
    classes = x.shape[1]
    eps = label_smoothing if label_smoothing > 0 else 0.0
    if eps > 0:
        tg = tg * (1 - eps) + eps / classes
    q = tg if weight is None else tg * weight._data.astype(cdt, copy=False)
    z, p, log_norm = _log_softmax_parts(x)
    q_sum = q.sum(axis=1)
    loss = log_norm * q_sum - np.einsum("ij,ij->i", z, q)
    if red == MEAN and x.size == 0:
        denom = 0
    else:
        denom = x.shape[0]
    out, scale = _finish(loss, layout, red, denom, input, out_dtype)
    grad_input = input._requires_grad
    grad_target = target._requires_grad
    if GRAD.enabled and (grad_input or grad_target):
        node = _node("DivBackward1" if red == MEAN else "NegBackward0")
        node.layout, node.probs, node.cdt = layout, p, cdt
        node.reduction, node.scale, node.in_dtype = red, scale, input._data.dtype
        node.row_coef, node.dense_q = q_sum, q
        if grad_target:
            node.logp_for_target = z - log_norm[:, None]
            coef = (1 - eps) if weight is None else \
                (1 - eps) * weight._data.astype(cdt, copy=False)
            node.target_coef = coef
        node.save(input, target)
        record(out, node, input, target)
    return out


# ---------------------------------------------------------------------------- nll_loss
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``."""
    check_tensors("nll_loss_nd", ("input", input), ("target", target), ("weight", weight),
                  optional=1)
    red = resolve_reduction(size_average, reduce, reduction)
    _check_index_target(input, target, weight)
    refuse_grad("nll_loss_forward", "weight", weight)
    layout = _Layout(tuple(input.shape))
    cdt = compute_dtype(input._data.dtype)
    x = layout.to_rows(input._data.astype(cdt, copy=False))
    t, valid = _index_rows(target, x.shape[1], ignore_index)
    wt = np.ones(t.size, cdt) if weight is None else weight._data.astype(cdt, copy=False)[t]
    if valid is not None:
        wt = wt * valid
    loss = -x[_arange(t.size), t] * wt
    out, scale = _finish(loss, layout, red, wt.sum(), input, input._data.dtype)
    if GRAD.enabled and input._requires_grad:
        node = _node(_nll_name(layout.ndim, red))
        node.layout, node.rows_shape, node.cdt = layout, x.shape, cdt
        node.reduction, node.scale, node.in_dtype = red, scale, input._data.dtype
        node.picked = (t, wt)
        node.save(input)
        record(out, node, input)
    return out
