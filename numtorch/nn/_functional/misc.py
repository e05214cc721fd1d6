"""Dropout, embedding lookup and padding."""
from __future__ import annotations

import numpy as np

from ..._ops._util import check_inplace, finish_inplace
from ...random import numpy_generator
from ._argcheck import check_tensors, not_tensor, touch
from ._common import GRAD, Node, Tensor, needs_grad, record, torch_dtype_name, wrap

__all__ = ["dropout", "embedding", "pad", "normalize"]


# ---------------------------------------------------------------------- dropout
class MulBackward0(Node):
    """Gradient of ``x * mask`` with a constant (scaled) mask."""

    __slots__ = ("mask",)

    def backward(self, g):
        return g * self.mask,


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training
    only; identity otherwise). Draws from numtorch's default generator."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        raise not_tensor("dropout_" if inplace else "dropout", "input", 1, input)
    if not training or p == 0.0:
        return input
    x = input._data
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep = numpy_generator(None).random(x.shape, dtype=np.float32 if x.dtype != np.float64
                                            else np.float64) >= p
        mask = keep.astype(x.dtype)
        mask *= np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    res = wrap(x * mask, input)
    if needs_grad(input):
        node = MulBackward0()
        node.mask = mask
        record(res, node, input)
    if inplace:
        check_inplace(input)
        return finish_inplace(input, res)
    return res


# ---------------------------------------------------------------------- embedding
class EmbeddingBackward0(Node):
    __slots__ = ("indices", "num_weights", "padding_idx", "scale_by_freq")

    def backward(self, g):
        idx = self.indices.reshape(-1)
        dim = g.shape[-1]
        rows = g.reshape(-1, dim)
        if self.scale_by_freq:
            counts = np.bincount(idx, minlength=self.num_weights)
            rows = rows / counts[idx][:, None]
        gw = np.zeros((self.num_weights, dim), dtype=g.dtype)
        np.add.at(gw, idx, rows)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return None, gw


def _embedding_renorm(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float):
    rows = np.unique(idx)
    w = weight._data
    sel = w[rows]
    norms = np.linalg.norm(sel.astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (sel * scale[:, None]).astype(w.dtype)
    weight._bump()


def _embedding_argument_error(input, weight, padding_idx, max_norm) -> None:
    """What torch raises for a non-tensor ``input`` (indices) or ``weight``: its wrapper reads
    ``weight.size(0)`` to check a non-zero ``padding_idx`` and calls ``input.contiguous()``
    with ``max_norm`` before the argument parser sees them."""
    if padding_idx is not None and padding_idx != 0 and not isinstance(weight, Tensor):
        touch(weight, "size", 0, function="embedding", name="weight")
    if max_norm is not None and not isinstance(input, Tensor):
        touch(input, "contiguous", function="embedding", name="indices", position=2)
    check_tensors("embedding", ("weight", weight), ("indices", input))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` selected by the integer ``input``; no gradient reaches row
    ``padding_idx``; with ``max_norm``, looked-up rows are renormalised in place first."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        _embedding_argument_error(input, weight, padding_idx, max_norm)
    num = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx = num + padding_idx
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"torch.{torch_dtype_name(idx)}Tensor instead (while checking "
                           "arguments for embedding)")
    if sparse:
        raise NotImplementedError("numtorch has no sparse tensors: use sparse=False (the "
                                  "gradient is then dense)")
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    res = wrap(weight._data[idx], weight)
    if GRAD.enabled and weight._requires_grad:
        node = EmbeddingBackward0()
        node.indices, node.num_weights = idx.copy(), num
        node.padding_idx, node.scale_by_freq = padding_idx, scale_grad_by_freq
        record(res, node, input, weight)
    return res


# ---------------------------------------------------------------------- padding
class ConstantPadNdBackward0(Node):
    __slots__ = ("pairs", "in_shape")

    def backward(self, g):
        src = []
        dst = []
        for (before, after), n in zip(self.pairs, self.in_shape):
            # region of the output that came from the input, and where it sits in the input
            s0, d0 = max(before, 0), max(-before, 0)
            length = n - d0 - max(-after, 0)
            src.append(slice(s0, s0 + max(length, 0)))
            dst.append(slice(d0, d0 + max(length, 0)))
        if all(b >= 0 and a >= 0 for b, a in self.pairs):
            return g[tuple(src)],
        gx = np.zeros(self.in_shape, dtype=g.dtype)
        gx[tuple(dst)] = g[tuple(src)]
        return gx,


class _IndexPadBackward(Node):
    """Gradient of a padding that gathers along each padded dimension with an index array."""

    __slots__ = ("gathers",)

    def backward(self, g):
        for axis, index, size in reversed(self.gathers):
            onehot = np.zeros((index.size, size), dtype=g.dtype)
            onehot[np.arange(index.size), index] = 1
            g = np.moveaxis(np.matmul(np.moveaxis(g, axis, -1), onehot), -1, axis)
        return g,


_PAD_NODE_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0",
                   "circular": "CopySlices"}
_PAD_NODES: dict = {}


def _pad_node(mode: str, nd: int):
    name = _PAD_NODE_NAMES[mode].format(nd)
    cls = _PAD_NODES.get(name)
    if cls is None:
        body = {"__slots__": ()}
        if name == "CopySlices":
            body["name"] = lambda self: "torch::autograd::CopySlices"
        cls = _PAD_NODES[name] = type(name, (_IndexPadBackward,), body)
    return cls()


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    j = np.abs(i)
    return np.where(j >= n, 2 * (n - 1) - j, j)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions: ``pad`` lists (before, after) pairs starting
    from the last dimension. Modes: constant (negative pads crop), reflect, replicate,
    circular."""
    if not isinstance(input, Tensor):
        raise not_tensor("pad", "input", 1, input)
    pad = tuple(int(p) for p in pad)
    x = input._data
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{x.ndim}")
    k = len(pad) // 2
    pairs = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        return _constant_pad(input, pairs, 0 if value is None else value)
    if mode not in _PAD_NODE_NAMES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    _check_index_pad(x, pad, mode)
    gathers = []
    out = x
    for axis in range(x.ndim - k, x.ndim):
        before, after = pairs[axis]
        if before == 0 and after == 0:
            continue
        index = _pad_index(x.shape[axis], before, after, mode)
        out = np.take(out, index, axis=axis)
        gathers.append((axis, index, x.shape[axis]))
    res = wrap(out if out is not x else x.copy(), input)
    if needs_grad(input):
        node = _pad_node(mode, k)
        node.gathers = gathers
        record(res, node, input)
    return res


def _check_index_pad(x: np.ndarray, pad: tuple, mode: str) -> None:
    k = len(pad) // 2
    if not (k + 1 <= x.ndim <= k + 2) or k > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\nSupported "
            "combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads "
            "last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - "
            "4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for i in range(k):
        dim = x.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        n = x.shape[dim]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({before}, {after}) at "
                               f"dimension {dim} of input {list(x.shape)}")
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if before < 0 or after < 0:
            raise RuntimeError(f"negative padding is not supported for mode {mode}")


def _constant_pad(input: Tensor, pairs: list, value) -> Tensor:
    x = input._data
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, pairs))
    if any(s < 0 for s in out_shape):
        raise RuntimeError(f"The input size {x.shape[0]}, plus negative padding {pairs[0][0]} and "
                           f"{pairs[0][1]} resulted in a negative output size, which is invalid. "
                           "Check dimension 0 of your input.")
    out = np.full(out_shape, value, dtype=x.dtype)
    dst, src = [], []
    for n, (b, a) in zip(x.shape, pairs):
        s0 = max(-b, 0)
        length = n - s0 - max(-a, 0)
        src.append(slice(s0, s0 + max(length, 0)))
        dst.append(slice(max(b, 0), max(b, 0) + max(length, 0)))
    out[tuple(dst)] = x[tuple(src)]
    res = wrap(out, input)
    if needs_grad(input):
        node = ConstantPadNdBackward0()
        node.pairs, node.in_shape = pairs, x.shape
        record(res, node, input)
    return res


# ---------------------------------------------------------------------- normalize
def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input`` divided by its ``p``-norm over ``dim`` (at least ``eps``); differentiable
    unless ``out`` is given."""
    from ..._ops.elementwise import div
    denom = input.norm(p, dim, keepdim=True)
    if out is None:
        return input / denom.clamp_min(eps).expand_as(input)
    return div(input, denom.clamp_min_(eps).expand_as(input), out=out)
