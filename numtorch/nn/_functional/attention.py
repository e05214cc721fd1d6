"""Attention: scaled_dot_product_attention as one fused node, and multi_head_attention_forward.

The fused node computes ``softmax(q k^T * scale + bias) [dropout] v`` over any batch dims and,
when asked, also returns the (post-dropout) attention weights as its second output; backward is
the closed form ``dS = P * (dP - rowsum(dP * P))`` in a handful of batched matmuls.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..._tensor import Tensor, _from_array
from ..._ops._util import GRAD, Node, record, unbroadcast
from ...random import numpy_generator
from ._argcheck import check_tensors

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "bool": "bool", "uint8": "unsigned char", "int16": "short int", "int8": "signed char"}


def _cpp_name(t: Tensor) -> str:
    return _CPP_NAMES.get(t.dtype.name, t.dtype.name)


# ---------------------------------------------------------------------------- the fused core
class _AttentionBackward(Node):
    """Backward of softmax(q k^T * scale + bias) v (see the module docstring)."""

    __slots__ = ("q", "k", "v", "probs", "keep", "dropped", "scale", "gqa", "shapes", "dtypes")
    num_outputs = 2

    def backward(self, g_out, g_weights=None):
        self.saved_tensors_checked()
        q, k, v, probs, dropped = self.q, self.k, self.v, self.probs, self.dropped
        d_dropped = None
        grad_v = None
        if g_out is not None:
            d_dropped = np.matmul(g_out, np.swapaxes(v, -1, -2))
            if self.next_functions[2][0] is not None:
                grad_v = np.matmul(np.swapaxes(dropped, -1, -2), g_out)
        if g_weights is not None:
            d_dropped = g_weights if d_dropped is None else d_dropped + g_weights
        d_probs = d_dropped if self.keep is None else d_dropped * self.keep
        with np.errstate(invalid="ignore"):
            d_scores = probs * (d_probs - np.sum(d_probs * probs, axis=-1, keepdims=True))
        grad_q = grad_k = grad_bias = None
        if self.next_functions[0][0] is not None:
            grad_q = np.matmul(d_scores, k) * self.scale
        if self.next_functions[1][0] is not None:
            grad_k = np.matmul(np.swapaxes(d_scores, -1, -2), q) * self.scale
        grads = [grad_q, grad_k, grad_v]
        for i in (1, 2):
            if grads[i] is not None and self.gqa > 1:
                g = grads[i]
                grads[i] = g.reshape(g.shape[:-3] + (g.shape[-3] // self.gqa, self.gqa) +
                                     g.shape[-2:]).sum(axis=-3)
        if len(self.next_functions) > 3 and self.next_functions[3][0] is not None:
            grad_bias = d_scores
        grads.append(grad_bias)
        out = []
        for g, shape, dtype in zip(grads, self.shapes, self.dtypes):
            out.append(None if g is None else unbroadcast(g, shape).astype(dtype, copy=False))
        return tuple(out[:len(self.next_functions)])


class UnsafeViewBackward0(_AttentionBackward):
    __slots__ = ()


class MmBackward0(_AttentionBackward):
    """The name torch's math attention ends with when everything is 2-d."""

    __slots__ = ()


def _softmax_rows(scores: np.ndarray, safe: bool) -> np.ndarray:
    """Softmax over the last axis; rows with every score -inf give 0 when ``safe``, else NaN."""
    top = scores.max(axis=-1, keepdims=True)
    finite_top = np.where(np.isfinite(top), top, 0)
    e = np.exp(scores - finite_top)
    total = e.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        if safe:
            return np.where(total > 0, e / np.where(total > 0, total, 1), 0).astype(e.dtype)
        return e / total


def _attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, causal: bool,
               scale: float, dropout_p: float, need_weights: bool, safe: bool,
               gqa: int = 1):
    """The fused attention; returns ``(output, weights or None)``."""
    qa, ka, va = q._data, k._data, v._data
    if gqa > 1:
        ka, va = np.repeat(ka, gqa, axis=-3), np.repeat(va, gqa, axis=-3)
    scores = np.matmul(qa, np.swapaxes(ka, -1, -2))
    scores *= scores.dtype.type(scale)
    if bias is not None:
        scores = scores + bias._data
    if causal:
        L, S = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((L, S), dtype=bool)), scores,
                          scores.dtype.type(-np.inf))
    probs = _softmax_rows(scores, safe)
    keep = None
    dropped = probs
    if dropout_p > 0.0:
        if dropout_p >= 1.0:
            keep = np.zeros(probs.shape, dtype=probs.dtype)
        else:
            mask = numpy_generator(None).random(probs.shape) >= dropout_p
            keep = mask.astype(probs.dtype) * probs.dtype.type(1.0 / (1.0 - dropout_p))
        dropped = probs * keep
    # ml_dtypes' bfloat16 matmul computes (and returns) float32: results in the query's dtype
    out = _from_array(np.matmul(dropped, va).astype(qa.dtype, copy=False), device=q._device)
    weights = _from_array(dropped.astype(qa.dtype, copy=False), device=q._device) \
        if need_weights else None
    inputs = (q, k, v) if bias is None else (q, k, v, bias)
    if GRAD.enabled and any(t._requires_grad for t in inputs):
        flat = q._data.ndim == 2 and k._data.ndim == 2 and v._data.ndim == 2
        node = MmBackward0() if flat else UnsafeViewBackward0()
        node.q, node.k, node.v, node.probs, node.keep, node.dropped = qa, ka, va, probs, keep, \
            dropped
        node.scale, node.gqa = scale, gqa
        node.shapes = tuple(tuple(t.shape) for t in inputs)
        node.dtypes = tuple(t._data.dtype for t in inputs)
        node.save(*inputs)
        record(out, node, *inputs)
        if weights is not None:
            weights.grad_fn, weights._output_nr, weights._requires_grad = node, 1, True
    return out, weights


# ---------------------------------------------------------------------------- SDPA
def _float_mask(mask: Tensor, dtype) -> Tensor:
    """An additive float mask: bool True (attend) -> 0, False -> -inf."""
    if mask._data.dtype == np.bool_:
        return _from_array(np.where(mask._data, dtype.type(0), dtype.type(-np.inf)),
                           device=mask._device)
    if mask._data.dtype != dtype:  # a float32 mask with a lower-precision query
        from ..._dtype import from_numpy_dtype
        return mask.to(from_numpy_dtype(dtype))
    return mask


def _check_sdpa(query: Tensor, key: Tensor, value: Tensor, attn_mask, is_causal: bool) -> None:
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_cpp_name(query)} key.dtype: {_cpp_name(key)} and "
                           f"value.dtype: {_cpp_name(value)} instead.")
    if attn_mask is not None and attn_mask.dtype != query.dtype and \
            attn_mask._data.dtype not in (np.bool_, np.float32):
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {_cpp_name(attn_mask)} and  "
                           f"query.dtype: {_cpp_name(query)} instead.")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"Expected query, key and value with matching feature and sequence "
                           f"sizes, got query {list(query.shape)}, key {list(key.shape)} and "
                           f"value {list(value.shape)}")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims.

    A bool ``attn_mask`` marks positions that take part (True) as torch's; a float one is added
    to the scores. Rows where nothing may be attended give zeros. ``dropout_p`` always applies
    (as torch's functional form does).
    """
    check_tensors("scaled_dot_product_attention", ("query", query), ("key", key),
                  ("value", value), ("attn_mask", attn_mask), optional=1)
    _check_sdpa(query, key, value, attn_mask, is_causal)
    gqa = 1
    if query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        if enable_gqa and query.shape[-3] % key.shape[-3] == 0:
            gqa = query.shape[-3] // key.shape[-3]
        else:
            raise RuntimeError(f"The size of tensor a ({query.shape[-3]}) must match the size of "
                               f"tensor b ({key.shape[-3]}) at non-singleton dimension "
                               f"{query.dim() - 3}")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    bias = None if attn_mask is None else _float_mask(attn_mask, query._data.dtype)
    if bias is not None:
        scores_shape = tuple(query.shape[:-1]) + (key.shape[-2],)
        from .loss import broadcast_shape
        if broadcast_shape(scores_shape, tuple(bias.shape)) != scores_shape:
            raise RuntimeError(f"attn_mask of shape {list(bias.shape)} does not broadcast to "
                               f"the attention scores {list(scores_shape)}")
    out, _ = _attention(query, key, value, bias, is_causal, float(scale), dropout_p, False,
                        True, gqa)
    return out


# ---------------------------------------------------------------------------- multi-head
def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched; torch's AssertionErrors for inconsistent ranks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_dtype,
                    check_other: bool = True):
    """A bool mask (True = masked out) as an additive float mask in ``target_dtype``."""
    if mask is None:
        return None
    is_float = mask._data.dtype.kind == "f" or mask.dtype.name == "bfloat16"
    if mask._data.dtype != np.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if not is_float:
        np_dtype = target_dtype.np if hasattr(target_dtype, "np") else np.dtype(target_dtype)
        return _from_array(np.where(mask._data, np_dtype.type(-np.inf), np_dtype.type(0)),
                           device=mask._device)
    return mask


def _in_projection_packed(q, k, v, w, b):
    """q, k, v projected by the stacked (3E, E) weight (sharing the matmul when inputs are the
    same tensor)."""
    from .linear import linear
    E = q.shape[-1]
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, dim=-1)
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        return (linear(q, w_q, b_q),) + tuple(linear(k, w_kv, b_kv).chunk(2, dim=-1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_attn_mask_shape(attn_mask, tgt_len: int, src_len: int, bsz: int, num_heads: int):
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(bsz * num_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
             use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight):
    from .linear import linear
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        return (linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k),
                linear(value, v_proj_weight, b_v))
    if tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if in_proj_weight is None:
        raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
    return _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)


def _append_bias_kv(k, v, bias_k, bias_v, attn_mask, key_padding_mask, bsz):
    from .misc import pad
    from ... import _ops
    cat = _ops.FUNCTIONS["cat"]
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    return k, v, attn_mask, key_padding_mask


def _append_zero_attn(k, v, attn_mask, key_padding_mask):
    from .misc import pad
    from ... import _ops
    cat, zeros = _ops.FUNCTIONS["cat"], _ops.FUNCTIONS["zeros"]
    shape = (k.shape[0], 1, k.shape[2])
    k = cat([k, zeros(shape, dtype=k.dtype)], dim=1)
    v = cat([v, zeros(shape, dtype=v.dtype)], dim=1)
    attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
    key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    return k, v, attn_mask, key_padding_mask


def _merge_key_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len):
    if key_padding_mask is None:
        return attn_mask
    if key_padding_mask.shape[0] != bsz:
        raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                             f"{key_padding_mask.shape[0]}")
    if key_padding_mask.shape[1] != src_len:
        raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                             f"{key_padding_mask.shape[1]}")
    kpm = key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
        .reshape(bsz * num_heads, 1, src_len)
    return kpm if attn_mask is None else attn_mask + kpm


def _heads(x: Tensor, static: Tensor | None, name: str, batch_heads: int, head_dim: int):
    """(S, N, E) -> (N * heads, S, head_dim), or the given pre-split ``static`` tensor."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None,
                                 add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True,
                                 key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None,
                                 static_v: Tensor | None = None,
                                 average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention over (L, N, E) inputs (or unbatched (L, E)); returns the output and
    the attention weights (averaged over heads unless told otherwise) or None."""
    from .linear import linear
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    causal = False
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask, causal = None, True     # the hint replaces the mask, as torch's SDPA path
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    q, k, v = _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    if attn_mask is not None:
        attn_mask = _check_attn_mask_shape(attn_mask, tgt_len, key.shape[0], bsz, num_heads)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
    k, v, attn_mask, key_padding_mask = _append_bias_kv(k, v, bias_k, bias_v, attn_mask,
                                                        key_padding_mask, bsz)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        k, v, attn_mask, key_padding_mask = _append_zero_attn(k, v, attn_mask, key_padding_mask)
    src_len = k.shape[1]
    attn_mask = _merge_key_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len)
    if not training:
        dropout_p = 0.0
    out, weights = _attention(q, k, v, attn_mask, causal, 1.0 / math.sqrt(head_dim), dropout_p,
                              need_weights, safe=not need_weights)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if need_weights:
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            weights = weights.squeeze(0)
    if not is_batched:
        out = out.squeeze(1)
    return out, weights
