"""Output shapes of common layers computed from their input's shape alone, for the summary's
shape-only pass.

``output_shape(module, x)`` returns ``(shape, dtype)`` of ``module(x)`` for a layer whose
forward is the library's own, or None whenever it is not certain (an input the layer would
refuse, a mode with side effects such as BatchNorm training): the caller then runs the real
forward, which raises the layer's own error or computes the result.
"""
from __future__ import annotations

from typing import Callable

from . import nn

Shape = tuple


def _tuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * n


def _floating(dtype) -> bool:
    return dtype.is_floating_point


def _same(module, shape: Shape, dtype):
    return (shape, dtype) if _floating(dtype) else None


def _softmax(module, shape: Shape, dtype):
    dim, n = module.dim, max(len(shape), 1)
    if dim is None or not _floating(dtype) or not -n <= dim < n:
        return None
    return shape, dtype


def _linear(module, shape: Shape, dtype):
    w = module.weight
    if not shape or shape[-1] != module.in_features or dtype != w.dtype or not _floating(dtype):
        return None
    return shape[:-1] + (module.out_features,), dtype


def _spatial_ok(module, shape: Shape, dtype, nd: int, channels: int) -> bool:
    return len(shape) in (nd + 1, nd + 2) and shape[-nd - 1] == channels and \
        _floating(dtype) and all(s > 0 for s in shape)


def _conv(module, shape: Shape, dtype, nd: int):
    if not _spatial_ok(module, shape, dtype, nd, module.in_channels) or \
            dtype != module.weight.dtype:
        return None
    k, s, d = module.kernel_size, module.stride, module.dilation
    if module.padding == "same":
        spatial = shape[-nd:]
    else:
        p = (0,) * nd if module.padding == "valid" else _tuple(module.padding, nd)
        spatial = tuple((n + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
                        for i, n in enumerate(shape[-nd:]))
    if any(o < 1 for o in spatial):
        return None
    return shape[:-nd - 1] + (module.out_channels,) + spatial, dtype


def _conv_transpose(module, shape: Shape, dtype, nd: int):
    if not _spatial_ok(module, shape, dtype, nd, module.in_channels) or \
            dtype != module.weight.dtype:
        return None
    k, s, d, p, op = (module.kernel_size, module.stride, module.dilation, module.padding,
                      module.output_padding)
    spatial = tuple((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
                    for i, n in enumerate(shape[-nd:]))
    if any(o < 1 for o in spatial):
        return None
    return shape[:-nd - 1] + (module.out_channels,) + spatial, dtype


def _pooled(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    out = -(-span // s) + 1 if ceil else span // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool(module, shape: Shape, dtype, nd: int, dilated: bool):
    channels = shape[-nd - 1] if len(shape) > nd else 0
    if getattr(module, "return_indices", False) or \
            not _spatial_ok(module, shape, dtype, nd, channels):
        return None
    k, s, p = (_tuple(getattr(module, a), nd) for a in ("kernel_size", "stride", "padding"))
    d = _tuple(module.dilation, nd) if dilated else (1,) * nd
    if any(pi > ki // 2 for pi, ki in zip(p, k)) or any(v <= 0 for v in k + s):
        return None
    spatial = tuple(_pooled(n, k[i], s[i], p[i], d[i], module.ceil_mode)
                    for i, n in enumerate(shape[-nd:]))
    if any(o < 1 for o in spatial):
        return None
    return shape[:-nd] + spatial, dtype


def _adaptive(module, shape: Shape, dtype, nd: int):
    channels = shape[-nd - 1] if len(shape) > nd else 0
    if not _spatial_ok(module, shape, dtype, nd, channels):
        return None
    size = _tuple(module.output_size, nd)
    spatial = tuple(n if o is None else o for n, o in zip(shape[-nd:], size))
    return shape[:-nd] + spatial, dtype


def _batch_norm(module, shape: Shape, dtype, ranks: tuple):
    if module.training or len(shape) not in ranks or shape[1] != module.num_features or \
            not _floating(dtype):
        return None
    return shape, dtype


def _layer_norm(module, shape: Shape, dtype):
    norm = tuple(module.normalized_shape)
    if not _floating(dtype) or len(shape) < len(norm) or shape[len(shape) - len(norm):] != norm:
        return None
    return shape, dtype


def _group_norm(module, shape: Shape, dtype):
    if len(shape) < 2 or shape[1] != module.num_channels or not _floating(dtype):
        return None
    return shape, dtype


def _flatten(module, shape: Shape, dtype):
    n = len(shape)
    if n == 0:
        return None
    start, end = module.start_dim, module.end_dim
    if not (-n <= start < n and -n <= end < n):
        return None
    start, end = start % n, end % n
    if start > end:
        return None
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return shape[:start] + (merged,) + shape[end + 1:], dtype


def _embedding(module, shape: Shape, dtype):
    if module.max_norm is not None or str(dtype) not in ("torch.int64", "torch.int32"):
        return None
    return shape + (module.embedding_dim,), module.weight.dtype


RULES: dict[type, Callable] = {
    nn.Linear: _linear,
    nn.Conv1d: lambda m, s, d: _conv(m, s, d, 1),
    nn.Conv2d: lambda m, s, d: _conv(m, s, d, 2),
    nn.ConvTranspose1d: lambda m, s, d: _conv_transpose(m, s, d, 1),
    nn.ConvTranspose2d: lambda m, s, d: _conv_transpose(m, s, d, 2),
    nn.MaxPool1d: lambda m, s, d: _pool(m, s, d, 1, True),
    nn.MaxPool2d: lambda m, s, d: _pool(m, s, d, 2, True),
    nn.AvgPool1d: lambda m, s, d: _pool(m, s, d, 1, False),
    nn.AvgPool2d: lambda m, s, d: _pool(m, s, d, 2, False),
    nn.AdaptiveAvgPool1d: lambda m, s, d: _adaptive(m, s, d, 1),
    nn.AdaptiveAvgPool2d: lambda m, s, d: _adaptive(m, s, d, 2),
    nn.BatchNorm1d: lambda m, s, d: _batch_norm(m, s, d, (2, 3)),
    nn.BatchNorm2d: lambda m, s, d: _batch_norm(m, s, d, (4,)),
    nn.LayerNorm: _layer_norm,
    nn.GroupNorm: _group_norm,
    nn.Flatten: _flatten,
    nn.Embedding: _embedding,
    nn.Softmax: _softmax,
    nn.LogSoftmax: _softmax,
}
for _cls in (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.SELU,
             nn.Mish, nn.Hardsigmoid, nn.Hardswish, nn.ELU, nn.CELU, nn.Softplus, nn.Hardtanh,
             nn.LogSigmoid, nn.Softsign, nn.Dropout):
    RULES[_cls] = _same


def output_shape(module, x) -> tuple | None:
    """``(shape, dtype)`` of ``module(x)`` from ``x``'s shape, or None when not certain."""
    rule = RULES.get(type(module))
    if rule is None:
        return None
    return rule(module, tuple(x.shape), x.dtype)
