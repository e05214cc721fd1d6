"""Batch, layer and group normalisation, each one fused node.

Each normalises ``x`` to ``xhat = (x - mean) * invstd`` over its axes and applies an optional
per-feature affine map; backward uses the closed form
``gx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))``.
"""
from __future__ import annotations

import numpy as np

from ._argcheck import check_tensors, not_tensor, touch
from ._common import Node, Tensor, needs_grad, record, wants, wrap
from ._dtype_checks import check_mixed_dtypes, check_norm_dtypes, not_implemented_unless_float

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _mean(a: np.ndarray, axes) -> np.ndarray:
    """Mean over ``axes`` keeping dims, in ``a``'s dtype, without ``ndarray.mean``'s overhead."""
    total = np.add.reduce(a, axis=axes, keepdims=True)
    total /= a.size // total.size if total.size else 1
    return total


def _centered_grad(gxhat, xhat, invstd, axes):
    m1 = _mean(gxhat, axes)
    m2 = _mean(gxhat * xhat, axes)
    return (gxhat - m1 - xhat * m2) * invstd


def _affine_grads(node, g, xhat, sum_axes, wshape):
    """Weight and bias gradients (None where not wanted), for inputs 1 and 2 of ``node``."""
    gw = gb = None
    if node.has_weight and wants(node, 1):
        gw = (g * xhat).sum(axis=sum_axes).reshape(wshape)
    if node.has_bias and wants(node, node.bias_index):
        gb = g.sum(axis=sum_axes).reshape(wshape)
    return gw, gb


def _pack(node, gx, gw, gb):
    out = [gx]
    if node.has_weight:
        out.append(gw)
    if node.has_bias:
        out.append(gb)
    return tuple(out)


class _NormBackward(Node):
    __slots__ = ("xhat", "invstd", "has_weight", "has_bias", "bias_index", "bshape")


# ---------------------------------------------------------------------- batch norm
class NativeBatchNormBackward0(_NormBackward):
    __slots__ = ("training",)

    def backward(self, g):
        saved = self.saved_tensors_checked()
        w = saved[1]._data if self.has_weight else None
        axes = (0,) + tuple(range(2, g.ndim))
        gx = None
        if wants(self, 0):
            gxhat = g if w is None else g * w.reshape(self.bshape)
            if self.training:
                gx = _centered_grad(gxhat, self.xhat, self.invstd, axes)
            else:
                gx = gxhat * self.invstd
        gw, gb = _affine_grads(self, g, self.xhat, axes, (g.shape[1],))
        return _pack(self, gx, gw, gb)


def _update_running(buf: Tensor, value: np.ndarray, momentum: float) -> None:
    arr = buf._data
    arr *= 1.0 - momentum
    arr += momentum * value.astype(arr.dtype, copy=False)
    buf._bump()


def _check_feature_count(name: str, t, c: int, training: bool) -> None:
    if t is None:
        if not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    elif t._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")


def _dtype(t) -> np.dtype | None:
    return None if t is None else t._data.dtype


def _check_batch_norm_arguments(input, running_mean, running_var, weight, bias,
                                training: bool) -> None:
    if not isinstance(input, Tensor):
        if training:  # torch's wrapper reads input.size() first
            touch(input, "size", function="batch_norm")
        raise not_tensor("batch_norm", "input", 1, input)
    check_tensors("batch_norm", ("input", input), ("weight", weight), ("bias", bias),
                  ("running_mean", running_mean), ("running_var", running_var), optional=4)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) with batch statistics (training, updating the running
    statistics in place) or the running ones (evaluation)."""
    _check_batch_norm_arguments(input, running_mean, running_var, weight, bias, training)
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or higher input (got {x.ndim}D input)") if x.ndim else \
            RuntimeError("batch_norm(): input must have at least 1 dimension")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // c
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_feature_count(name, t, c, training or name in ("weight", "bias"))
    not_implemented_unless_float("batch_norm", x.dtype)
    stats = (running_mean, running_var, weight, bias) if training else None
    check_norm_dtypes(x.dtype, (_dtype(weight), _dtype(bias), _dtype(running_mean),
                                _dtype(running_var)),
                      None if stats is None else tuple(_dtype(t) for t in stats))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        mean = _mean(x, axes)
        centered = x - mean
        var = _mean(np.square(centered), axes).reshape(c)
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(c), momentum)
        if running_var is not None:
            _update_running(running_var, var * (count / (count - 1)), momentum)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(bshape)
    else:
        centered = x - running_mean._data.reshape(bshape).astype(x.dtype, copy=False)
        invstd = (1.0 / np.sqrt(running_var._data + eps)).astype(x.dtype).reshape(bshape)
    xhat = centered * invstd
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(bshape)
    if bias is not None:
        out = out + bias._data.reshape(bshape)
    res = wrap(out.astype(x.dtype, copy=False), input)
    params = tuple(t for t in (weight, bias) if t is not None)
    if needs_grad(input, *params):
        node = NativeBatchNormBackward0()
        _fill(node, xhat, invstd, weight, bias, bshape)
        node.training = training
        node.save(input, *params)
        record(res, node, input, *params)
    return res


def _fill(node, xhat, invstd, weight, bias, bshape) -> None:
    node.xhat, node.invstd, node.bshape = xhat, invstd, bshape
    node.has_weight, node.has_bias = weight is not None, bias is not None
    node.bias_index = 2 if weight is not None else 1


# ---------------------------------------------------------------------- layer norm
class NativeLayerNormBackward0(_NormBackward):
    __slots__ = ("nd",)

    def backward(self, g):
        saved = self.saved_tensors_checked()
        norm_axes = tuple(range(g.ndim - self.nd, g.ndim))
        lead_axes = tuple(range(g.ndim - self.nd))
        gx = None
        if wants(self, 0):
            gxhat = g if not self.has_weight else g * saved[1]._data
            gx = _centered_grad(gxhat, self.xhat, self.invstd, norm_axes)
        gw, gb = _affine_grads(self, g, self.xhat, lead_axes, g.shape[g.ndim - self.nd:])
        return _pack(self, gx, gw, gb)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions."""
    check_tensors("layer_norm", ("input", input), None, ("weight", weight), ("bias", bias),
                  optional=2)
    x = input._data
    check_mixed_dtypes(x.dtype, (_dtype(weight), _dtype(bias)))  # torch checks this first
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(s) for s in normalized_shape)
    nd = len(shape)
    if nd == 0 or x.ndim < nd or x.shape[x.ndim - nd:] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
                           f"{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    check_norm_dtypes(x.dtype, (_dtype(weight), _dtype(bias)), kernel="LayerNormKernelImpl")
    axes = tuple(range(x.ndim - nd, x.ndim))
    mean = _mean(x, axes)
    centered = x - mean
    var = _mean(np.square(centered), axes)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat = centered * invstd
    out = xhat if weight is None else xhat * weight._data
    if bias is not None:
        out = out + bias._data
    res = wrap(out.astype(x.dtype, copy=False), input)
    params = tuple(t for t in (weight, bias) if t is not None)
    if needs_grad(input, *params):
        node = NativeLayerNormBackward0()
        _fill(node, xhat, invstd, weight, bias, None)
        node.nd = nd
        node.save(input, *params)
        record(res, node, input, *params)
    return res


# ---------------------------------------------------------------------- group norm
class NativeGroupNormBackward0(_NormBackward):
    __slots__ = ("groups",)

    def backward(self, g):
        saved = self.saved_tensors_checked()
        n, c = g.shape[:2]
        bshape = self.bshape
        xhat = self.xhat.reshape(g.shape)
        gx = None
        if wants(self, 0):
            gxhat = g if not self.has_weight else g * saved[1]._data.reshape(bshape)
            gx = _centered_grad(gxhat.reshape(n, self.groups, -1), self.xhat, self.invstd, 2)
            gx = gx.reshape(g.shape)
        axes = (0,) + tuple(range(2, g.ndim))
        gw, gb = _affine_grads(self, g, xhat, axes, (c,))
        return _pack(self, gx, gw, gb)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` channel groups per sample; affine per channel."""
    if not isinstance(input, Tensor):
        touch(input, "dim", function="group_norm")  # torch's wrapper reads input.dim() first
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = x.shape[:2]
    per_group = [n * c // num_groups, num_groups] + list(x.shape[2:])
    if int(np.prod(per_group[:1] + per_group[2:])) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{per_group}")
    check_tensors("group_norm", ("input", input), None, ("weight", weight), ("bias", bias),
                  optional=2)
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(x.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.size != c):
            shown = [0] if weight is None else list(weight.shape)  # torch prints the weight's
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {shown} and input "
                               f"of shape {list(x.shape)}")
    check_norm_dtypes(x.dtype, (_dtype(weight), _dtype(bias)), kernel="GroupNormKernelImpl")
    xg = x.reshape(n, num_groups, -1)
    mean = _mean(xg, 2)
    centered = xg - mean
    var = _mean(np.square(centered), 2)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat = centered * invstd
    bshape = (1, c) + (1,) * (x.ndim - 2)
    out = xhat.reshape(x.shape)
    if weight is not None:
        out = out * weight._data.reshape(bshape)
    if bias is not None:
        out = out + bias._data.reshape(bshape)
    res = wrap(out.astype(x.dtype, copy=False), input)
    params = tuple(t for t in (weight, bias) if t is not None)
    if needs_grad(input, *params):
        node = NativeGroupNormBackward0()
        _fill(node, xhat, invstd, weight, bias, bshape)
        node.groups = num_groups
        node.save(input, *params)
        record(res, node, input, *params)
    return res
