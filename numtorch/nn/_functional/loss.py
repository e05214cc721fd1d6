"""Loss functions of ``nn.functional``: each a fused NumPy forward with one vectorised backward.

The regression losses (mse, l1, smooth_l1, huber) share one pointwise node; cross_entropy and
nll_loss live in ``_classification``; the binary losses and kl_div have their own nodes. Errors,
warnings, result dtypes and grad_fn names follow torch 2.13.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor, _from_array
from ..._ops._util import GRAD, Node, binary_operands, record, unbroadcast
from ._argcheck import check_tensors, touch
from ._classification import cross_entropy, nll_loss
from ._loss_util import (MEAN, NONE, SUM, compute_dtype, promote, reduce_loss, reduction_enum,
                         refuse_grad, resolve_reduction, type_word, warn_target_size)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]


def broadcast_shape(a: tuple, b: tuple) -> tuple:
    """The broadcast of two shapes; torch's RuntimeError when they do not broadcast."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        dim = next(i for i in reversed(range(n)) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[dim]}) must match the size of tensor b "
                           f"({pb[dim]}) at non-singleton dimension {dim}") from None


def _check_pair(input, target) -> None:
    """torch's losses first compare ``target.size()`` with ``input.size()``: a non-tensor fails
    there with whatever Python raises for it."""
    if not isinstance(target, Tensor):
        touch(target, "size", name="target", position=2)
    if not isinstance(input, Tensor):
        touch(input, "size")


def _node_class(cache: dict, base: type, name: str) -> type:
    cls = cache.get(name)
    if cls is None:
        cls = cache[name] = type(name, (base,), {"__slots__": ()})
    return cls


def _result_arrays(input: Tensor, target: Tensor):
    """Both operands in torch's promoted dtype (and the dtype to compute in)."""
    a, b = input._data, target._data
    if a.dtype != b.dtype:
        a, b, _ = binary_operands(input, target)
    out_dtype = a.dtype
    cdt = compute_dtype(out_dtype)
    return a.astype(cdt, copy=False), b.astype(cdt, copy=False), out_dtype


# ---------------------------------------------------------------------------- regression losses
def _deriv_mse(d, param):
    return 2 * d


def _deriv_l1(d, param):
    return np.sign(d)


def _deriv_smooth_l1(d, param):
    return np.where(np.abs(d) < param, d / param, np.sign(d))


def _deriv_huber(d, param):
    return np.clip(d, -param, param)


def _loss_mse(d, param):
    return d * d


def _loss_l1(d, param):
    return np.abs(d)


def _loss_smooth_l1(d, param):
    ad = np.abs(d)
    return np.where(ad < param, (0.5 / param) * d * d, ad - 0.5 * param)


def _loss_huber(d, param):
    ad = np.abs(d)
    return np.where(ad < param, 0.5 * d * d, param * (ad - 0.5 * param))


_KINDS = {"mse": (_loss_mse, _deriv_mse, "mse_cpu"), "l1": (_loss_l1, _deriv_l1, None),
          "smooth_l1": (_loss_smooth_l1, _deriv_smooth_l1, "smooth_l1_cpu"),
          "huber": (_loss_huber, _deriv_huber, "huber_cpu")}


class _PointwiseLossBackward(Node):
    """Backward of a regression loss: the loss derivative in ``input - target``, scaled."""

    __slots__ = ("kind", "diff", "param", "weight", "scale", "shapes", "dtypes")

    def backward(self, g):
        self.saved_tensors_checked()
        gd = _KINDS[self.kind][1](self.diff, self.param)
        if self.weight is not None:
            gd = gd * self.weight
        gd = gd * (np.asarray(g, dtype=gd.dtype) if self.scale is None else
                   np.asarray(g * self.scale, dtype=gd.dtype))
        (in_shape, tg_shape), (in_dtype, tg_dtype) = self.shapes, self.dtypes
        grad_in = grad_tg = None
        if self.next_functions[0][0] is not None:
            grad_in = unbroadcast(gd, in_shape).astype(in_dtype, copy=False)
        if self.next_functions[1][0] is not None:
            grad_tg = unbroadcast(-gd, tg_shape).astype(tg_dtype, copy=False)
        return grad_in, grad_tg


_POINTWISE_NODES: dict = {}
_PLAIN_NAMES = {"mse": ("MseLossBackward0",) * 3,
                "l1": ("AbsBackward0", "MeanBackward0", "SumBackward0"),
                "smooth_l1": ("SmoothL1LossBackward0",) * 3,
                "huber": ("HuberLossBackward0",) * 3}
_WEIGHTED_NAMES = {"mse": ("MulBackward0", "DivBackward0", "SumBackward0"),
                   "l1": ("MulBackward0", "DivBackward0", "SumBackward0"),
                   "huber": ("MulBackward0", "MeanBackward0", "SumBackward0")}


def _weighted_reduction(reduction: str) -> int:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         "'sum'.")
    return {"none": NONE, "mean": MEAN, "sum": SUM}[reduction]


def _huber_dtype(input: Tensor, promoted: np.dtype, weight) -> np.dtype:
    """huber_loss's result dtype: the input's (the weight then promotes it); torch's error when
    the promoted operands cannot be stored there."""
    own = input._data.dtype
    if own.kind in "biu" and promoted.kind not in "biu":
        raise RuntimeError(f"result type {type_word(promoted)} can't be cast to the desired "
                           f"output type {type_word(own)}")
    return own if weight is None else promote(own, weight._data.dtype)


def _pointwise_loss(kind: str, input: Tensor, target: Tensor, reduction: str, red, param=None,
                    weight: Tensor | None = None) -> Tensor:
    """Shared body of the regression losses (``red`` is the enum, or None when weighted)."""
    in_shape, tg_shape = input._data.shape, target._data.shape
    if in_shape != tg_shape:
        warn_target_size(input, target)
        broadcast_shape(in_shape, tg_shape)
    if weight is not None and weight._data.shape != in_shape:
        raise ValueError("Weights and input must have the same size.")
    a, b, out_dtype = _result_arrays(input, target)
    if kind == "huber":  # torch's huber_loss writes into a tensor of the input's dtype
        out_dtype = _huber_dtype(input, out_dtype, weight)
    elif weight is not None:
        out_dtype = promote(out_dtype, weight._data.dtype)
    loss_fn, _, kernel = _KINDS[kind]
    if out_dtype.kind in "biu":
        if kernel is not None:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{type_word(out_dtype)}\'')
        if red == MEAN:
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               "a floating point or complex dtype. Got: "
                               f"{type_word(out_dtype)}")
    diff = a - b
    loss = loss_fn(diff, param)
    w = None
    if weight is not None:
        red = _weighted_reduction(reduction)
        w = weight._data.astype(loss.dtype, copy=False)
        loss = loss * w
    denom = w.sum() if (w is not None and kind != "huber" and red == MEAN) else None
    value, scale = reduce_loss(loss, red, denom)
    if value.dtype != out_dtype:
        value = value.astype(out_dtype)
    out = _from_array(value, device=input._device)
    if GRAD.enabled and (input._requires_grad or target._requires_grad):
        names = _PLAIN_NAMES[kind] if weight is None else _WEIGHTED_NAMES[kind]
        node = _node_class(_POINTWISE_NODES, _PointwiseLossBackward, names[red])()
        node.kind, node.diff, node.param, node.weight, node.scale = kind, diff, param, w, scale
        node.shapes = (in_shape, tg_shape)
        node.dtypes = (input._data.dtype, target._data.dtype)
        node.save(input, target)
        record(out, node, input, target)
    return out


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error (optionally weighted; weighted mean divides by the weights' sum)."""
    _check_pair(input, target)
    red = resolve_reduction(size_average, reduce, reduction) if weight is None else None
    return _pointwise_loss("mse", input, target, reduction, red, None, weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error (optionally weighted; weighted mean divides by the weights' sum)."""
    _check_pair(input, target)
    red = resolve_reduction(size_average, reduce, reduction) if weight is None else None
    return _pointwise_loss("l1", input, target, reduction, red, None, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta``, linear above (L1 when ``beta`` is 0)."""
    _check_pair(input, target)
    red = resolve_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _pointwise_loss("l1", input, target, reduction, red)
    return _pointwise_loss("smooth_l1", input, target, reduction, red, float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Quadratic below ``delta``, ``delta``-scaled linear above (optionally weighted)."""
    _check_pair(input, target)
    red = reduction_enum(reduction) if weight is None else None
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _pointwise_loss("huber", input, target, reduction, red, float(delta), weight)


# ---------------------------------------------------------------------------- binary losses
class BinaryCrossEntropyBackward0(Node):
    __slots__ = ("x", "t", "w", "scale", "dtype")

    def backward(self, g):
        self.saved_tensors_checked()
        x, t = self.x, self.t
        r = g if self.scale is None else g * self.scale
        r = np.asarray(r, dtype=x.dtype) if self.w is None else r * self.w
        grad_x = grad_t = None
        if self.next_functions[0][0] is not None:
            grad_x = (r * (x - t) / np.maximum((1 - x) * x, 1e-12)).astype(self.dtype, copy=False)
        if self.next_functions[1][0] is not None:
            with np.errstate(divide="ignore"):
                grad_t = (r * (np.log1p(-x) - np.log(x))).astype(self.dtype, copy=False)
        return grad_x, grad_t


def _check_bce_inputs(input: Tensor, target: Tensor, weight: Tensor | None):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        if not isinstance(weight, Tensor):  # torch's wrapper reads weight.size()
            touch(weight, "size", function="binary_cross_entropy", name="weight", position=3)
        try:
            np.broadcast_shapes(tuple(target.shape), tuple(weight.shape))
        except ValueError:
            raise RuntimeError(f"Attempting to broadcast a dimension of length "
                               f"{weight.shape[-1]} at -1! Mismatching argument at index 1 had "
                               f"{weight.size()}; but expected shape should be broadcastable to "
                               f"{list(target.shape)}") from None
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {type_word(target._data.dtype)} but expected "
                           f"{type_word(input._data.dtype)}")
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError('"binary_cross_entropy" not implemented for '
                                  f"'{type_word(input._data.dtype)}'")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities ``input``; each log is clamped at -100 as torch."""
    _check_pair(input, target)
    red = resolve_reduction(size_average, reduce, reduction)
    _check_bce_inputs(input, target, weight)
    refuse_grad("binary_cross_entropy", "weight", weight)
    cdt = compute_dtype(input._data.dtype)
    x, t = input._data.astype(cdt, copy=False), target._data.astype(cdt, copy=False)
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if ((t < 0) | (t > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
    loss = -(t * log_x + (1 - t) * log_1mx)
    w = None if weight is None else np.broadcast_to(weight._data.astype(cdt), x.shape)
    if w is not None:
        loss = loss * w
    value, scale = reduce_loss(loss, red)
    out = _from_array(np.asarray(value).astype(input._data.dtype, copy=False),
                      device=input._device)
    if GRAD.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyBackward0()
        node.x, node.t, node.w, node.scale, node.dtype = x, t, w, scale, input._data.dtype
        node.save(input, target)
        record(out, node, input, target)
    return out


class BinaryCrossEntropyWithLogitsBackward0(Node):
    __slots__ = ("x", "t", "w", "pw", "scale", "shapes", "dtypes")

    def backward(self, g):
        self.saved_tensors_checked()
        x, t, pw = self.x, self.t, self.pw
        r = g if self.scale is None else g * self.scale
        r = np.asarray(r, dtype=x.dtype) if self.w is None else r * self.w
        sig = _sigmoid(x)
        grad_x = grad_t = None
        if self.next_functions[0][0] is not None:
            gx = sig - t if pw is None else (pw * t + 1 - t) * sig - pw * t
            grad_x = unbroadcast(r * gx, self.shapes[0]).astype(self.dtypes[0], copy=False)
        if self.next_functions[1][0] is not None:
            gt = -x if pw is None else _log_sigmoid(-x) - pw * _log_sigmoid(x)
            grad_t = unbroadcast(r * gt, self.shapes[1]).astype(self.dtypes[1], copy=False)
        return grad_x, grad_t


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid plus binary cross entropy in one numerically stable step (``pos_weight`` scales
    the positive term)."""
    _check_pair(input, target)
    check_tensors("binary_cross_entropy_with_logits", ("input", input), ("target", target),
                  ("weight", weight), ("pos_weight", pos_weight), optional=2)
    red = resolve_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    refuse_grad("binary_cross_entropy_with_logits", "weight", weight)
    refuse_grad("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError('"log_sigmoid_cpu" not implemented for '
                                  f"'{type_word(input._data.dtype)}'")
    if target._data.dtype.kind in "biu":
        raise RuntimeError(f"result type {type_word(input._data.dtype)} can't be cast to the "
                           f"desired output type {type_word(target._data.dtype)}")
    x, t, _ = _result_arrays(input, target)
    out_dtype = target._data.dtype  # torch computes (1 - target).mul_(input)...: in place
    pw = None
    if pos_weight is not None:
        broadcast_shape(tuple(pos_weight.shape), tuple(target.shape))
        pw = pos_weight._data.astype(x.dtype, copy=False)
    log_sig = _log_sigmoid(input._data.astype(compute_dtype(input._data.dtype), copy=False))
    log_sig = log_sig.astype(x.dtype, copy=False)
    loss = (1 - t) * x - (log_sig if pw is None else (1 + (pw - 1) * t) * log_sig)
    w = None
    if weight is not None:
        w = weight._data.astype(x.dtype, copy=False)
        loss = loss * w
    value, scale = reduce_loss(loss, red)
    out = _from_array(np.asarray(value).astype(out_dtype, copy=False), device=input._device)
    if GRAD.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.x, node.t, node.w, node.pw, node.scale = x, t, w, pw, scale
        node.shapes = (tuple(input.shape), tuple(target.shape))
        node.dtypes = (input._data.dtype, target._data.dtype)
        node.save(input, target)
        record(out, node, input, target)
    return out


# ---------------------------------------------------------------------------- kl_div
class _KlDivBackward(Node):
    __slots__ = ("x", "t", "log_target", "scale", "shapes", "dtypes")

    def backward(self, g):
        self.saved_tensors_checked()
        x, t = self.x, self.t
        r = np.asarray(g if self.scale is None else g * self.scale, dtype=x.dtype)
        grad_x = grad_t = None
        if self.next_functions[0][0] is not None:
            gx = -np.exp(t) if self.log_target else -t
            grad_x = unbroadcast(r * gx, self.shapes[0]).astype(self.dtypes[0], copy=False)
        if self.next_functions[1][0] is not None:
            if self.log_target:
                gt = np.exp(t) * (t - x + 1)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gt = np.where(t != 0, np.log(np.where(t != 0, t, 1)), 0) + t / t - x
            grad_t = unbroadcast(r * gt, self.shapes[1]).astype(self.dtypes[1], copy=False)
        return grad_x, grad_t


_KL_NODES: dict = {}
_KL_NAMES = {"none": "SubBackward0", "mean": "MeanBackward0", "sum": "SumBackward0",
             "batchmean": "DivBackward0"}


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``."""
    check_tensors("kl_div", ("input", input), ("target", target))
    if size_average is not None or reduce is not None:
        red = resolve_reduction(size_average, reduce, reduction)
        reduction = ("none", "mean", "sum")[red]
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    red = SUM if reduction == "batchmean" else reduction_enum(reduction)
    if input._data.dtype.kind in "biu" or target._data.dtype.kind in "biu":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    broadcast_shape(tuple(input.shape), tuple(target.shape))
    x, t, out_dtype = _result_arrays(input, target)
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * x
            loss = np.where(np.isnan(t), np.nan, loss)
    value, scale = reduce_loss(loss, red)
    if reduction == "batchmean" and input.dim() != 0:
        value = np.asarray(value / input.shape[0], dtype=value.dtype)
        scale = scale / input.shape[0]
    out = _from_array(np.asarray(value).astype(out_dtype, copy=False), device=input._device)
    if GRAD.enabled and (input._requires_grad or target._requires_grad):
        name = _KL_NAMES["batchmean" if reduction == "batchmean" else
                         ("none", "mean", "sum")[red]]
        if log_target and red == NONE:
            name = "MulBackward0"
        node = _node_class(_KL_NODES, _KlDivBackward, name)()
        node.x, node.t, node.log_target, node.scale = x, t, log_target, scale
        node.shapes = (tuple(input.shape), tuple(target.shape))
        node.dtypes = (input._data.dtype, target._data.dtype)
        node.save(input, target)
        record(out, node, input, target)
    return out
