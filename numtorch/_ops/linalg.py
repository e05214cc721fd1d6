"""Differentiable linear algebra (matmul and its fixed-rank forms, addmm, einsum, dot, outer),
triangular masks (tril, triu) and ordering (sort, argsort, topk).

Half-precision products are accumulated in float32 and rounded once, as torch does on CPU.
"""
from __future__ import annotations

import collections
import string

import numpy as np

from .._device import META
from .._tensor import _NP2DT, Tensor
from ._util import GRAD, Node, record, type_word, unbroadcast
from . import diagonal as _diagonal
from ._shape_util import _fresh, _wrap, _write_out, inplace_of
from .diagonal import diag, diag_embed, diagonal, trace  # noqa: F401
from .indexing import _C10_NAMES

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "baddbmm",
           "einsum", "tensordot", "tril", "triu", "sort", "argsort", "msort", "topk"] + \
    _diagonal.__all__
TENSOR_METHODS = [n for n in __all__ if n not in ("einsum", "tensordot")] + ["tril_", "triu_"]
METHOD_ALIASES = {"__matmul__": "_matmul_operator", "__rmatmul__": "_rmatmul"}

_WIDEN = {np.dtype(np.float16)}
try:
    import ml_dtypes as _ml
    _WIDEN.add(np.dtype(_ml.bfloat16))
except ImportError:  # pragma: no cover - ml_dtypes is a dependency
    pass


def _prod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in ``a``'s dtype (half types accumulate in float32)."""
    if a.dtype in _WIDEN:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return np.matmul(a, b)


def _cast(g: np.ndarray, like: np.ndarray) -> np.ndarray:
    return g if g.dtype == like.dtype else g.astype(like.dtype)


def _mT(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)


def _c10(a: np.ndarray) -> str:
    return _C10_NAMES.get(_NP2DT[a.dtype].name, str(a.dtype))


def _same_dtype(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c10(a)} != "
                           f"{_c10(b)}")


def _no_bool(a: np.ndarray, kernel: str) -> None:
    """torch's error for bool operands of its matrix-product kernels."""
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _matmul_kernel(nd_a: int, nd_b: int) -> str:
    """The kernel torch's matmul dispatches to for operands of these ranks."""
    if nd_a == 1 and nd_b == 1:
        return "dot"
    if nd_b == 1:
        return "addmv_impl_cpu"
    return "addmm_impl_cpu_" if nd_b == 2 else "bmm"


# ---------------------------------------------------------------------- matmul family
class _MatmulNode(Node):
    """Backward of ``a @ b`` for any ranks: two matmuls, batch broadcasting undone."""
    __slots__ = ()

    def backward(self, g):
        a_t, b_t = self.saved_tensors_checked()
        a, b = a_t._data, b_t._data
        if a.ndim == 1 and b.ndim == 1:
            return (_cast(g * b, a) if self.next_functions[0][0] is not None else None,
                    _cast(g * a, b) if self.next_functions[1][0] is not None else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(_prod(g, _mT(b2)), a2.shape).reshape(a.shape)
        if self.next_functions[1][0] is not None:
            if b2.ndim == 2 and a2.ndim > 2:      # fold the batch into the rows: one product
                k, n = b2.shape
                gb = _prod(_mT(a2.reshape(-1, k)), g.reshape(-1, n))
            else:
                gb = unbroadcast(_prod(_mT(a2), g), b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


class MmBackward0(_MatmulNode):
    __slots__ = ()


class BmmBackward0(_MatmulNode):
    __slots__ = ()


class MvBackward0(_MatmulNode):
    __slots__ = ()


class DotBackward0(_MatmulNode):
    __slots__ = ()


class SqueezeBackward4(_MatmulNode):
    __slots__ = ()


class UnsafeViewBackward0(_MatmulNode):
    __slots__ = ()


class CloneBackward0(_MatmulNode):
    __slots__ = ()


def _batched_node(a: np.ndarray, b: np.ndarray):
    """The grad_fn torch's matmul ends with for operands of rank > 2 (it computes a matrix
    times a batch as the transposed product, then copies)."""
    if b.ndim >= 3 and (a.ndim == 2 or (a.ndim == 3 and a.shape[0] == 1 and
                                        int(np.prod(b.shape[:-2])) > 1)):
        return CloneBackward0
    return UnsafeViewBackward0


_RANK_NODES = {(1, 1): DotBackward0, (2, 1): MvBackward0, (1, 2): SqueezeBackward4,
               (2, 2): MmBackward0}


def _record_product(out: Tensor, node_cls, a: Tensor, b: Tensor) -> Tensor:
    if GRAD.enabled and (a._requires_grad or b._requires_grad):
        node = node_cls()
        node.save(a, b)
        record(out, node, a, b)
    return out


def _matmul_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    if a.ndim == 1 and b.ndim == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                            f"[{b.shape[0]}] to have the same number of elements, but got "
                            f"{a.shape[0]} and {b.shape[0]} elements respectively")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
        rows = a.size // a.shape[-1] if a.ndim > 2 and b.ndim <= 2 else \
            (a.shape[-2] if a.ndim > 1 else 1)
        cols = b.shape[-1] if b.ndim > 1 else 1
        if a.ndim == 2 and b.ndim == 1:
            return RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x"
                                f"{a.shape[1]}), vec ({b.shape[0]})")
        k2 = b.shape[-2] if b.ndim > 1 else b.shape[0]
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} "
                            f"and {k2}x{cols})")
    ba, bb = a.shape[:-2], b.shape[:-2]
    n = max(len(ba), len(bb))
    ba, bb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    for i in range(n - 1, -1, -1):
        if ba[i] != bb[i] and 1 not in (ba[i], bb[i]):
            return RuntimeError(f"The size of tensor a ({ba[i]}) must match the size of tensor b "
                                f"({bb[i]}) at non-singleton dimension {i}")
    return RuntimeError("matmul: shapes cannot be multiplied")


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The matrix product with torch's rules for every rank: 1-D operands are vectors, leading
    dimensions are batch dimensions and broadcast."""
    if type(input) is not Tensor or type(other) is not Tensor:
        _check_tensors("matmul", ("input", input), ("other", other))
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    _same_dtype(a, b)
    if a.dtype == np.bool_:
        _no_bool(a, _matmul_kernel(a.ndim, b.ndim))
    try:
        if input._device is META or other._device is META:
            res = _meta_product(a, b)
        else:
            res = _prod(a, b)
    except ValueError:
        raise _matmul_error(a, b) from None
    node_cls = _RANK_NODES.get((a.ndim, b.ndim)) or _batched_node(a, b)
    res = _record_product(_fresh(input, np.asarray(res)), node_cls, input, other)
    return _write_out(res, out)


def _matmul_operator(self: Tensor, other):
    """``self @ other``: tensors and NumPy arrays; anything else is Python's TypeError."""
    if isinstance(other, Tensor):
        return matmul(self, other)
    if isinstance(other, np.ndarray):
        from .creation import as_tensor
        return matmul(self, as_tensor(other))
    return NotImplemented


def _meta_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A data-free (zero-strided) array shaped like ``a @ b``; ValueError when they don't fit."""
    a2 = a.shape if a.ndim > 1 else (1,) + a.shape
    b2 = b.shape if b.ndim > 1 else b.shape + (1,)
    if a2[-1] != b2[-2]:
        raise ValueError("inner dimensions differ")
    shape = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    return np.broadcast_to(np.zeros((), dtype=a.dtype), shape)


def _rmatmul(self: Tensor, other):
    if isinstance(other, Tensor):
        return matmul(other, self)
    return NotImplemented


def _check_tensors(fn: str, *args) -> None:
    for pos, (name, t) in enumerate(args, 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(t).__name__}")


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """The product of two matrices."""
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    _same_dtype(a, b)
    return matmul(input, mat2, out=out)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched matrix product of two 3-D tensors with equal batch sizes."""
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same_dtype(a, b)
    _no_bool(a, "bmm")
    res = _record_product(_fresh(input, _prod(a, b)), BmmBackward0, input, mat2)
    return _write_out(res, out)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {b.ndim}")
    return matmul(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two vectors of equal length and dtype."""
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_type_word(a)} and {_type_word(b)}")
    return matmul(input, tensor)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum-product over the last dimension of both (scalars multiply)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        from .elementwise import mul
        return mul(input, other)
    if input._data.ndim == 1 and other._data.ndim == 1:
        return dot(input, other)
    _no_bool(input._data, "addmm_impl_cpu_")        # torch's inner is a tensordot here
    return _inner(input, other)


def _inner(input: Tensor, other: Tensor) -> Tensor:
    a_sub = string.ascii_lowercase[:input._data.ndim - 1]
    b_sub = string.ascii_lowercase[13:13 + other._data.ndim - 1]
    return einsum(f"{a_sub}z,{b_sub}z->{a_sub}{b_sub}", input, other)


def _type_word(a: np.ndarray) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int"}.get(_NP2DT[a.dtype].name, str(a.dtype))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors."""
    from .elementwise import mul
    from .shape import unsqueeze
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D"
                           if input._data.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    return mul(unsqueeze(input, 1), vec2)


ger = outer


class AddmmBackward0(Node):
    __slots__ = ("shape", "beta", "alpha", "dtype")

    def backward(self, g):
        m1, m2 = self.saved_tensors_checked()
        gi = g1 = g2 = None
        if self.next_functions[0][0] is not None:
            gi = unbroadcast(g if self.beta == 1 else g * self.beta, self.shape)
            gi = gi.astype(self.dtype, copy=False)
        ga = g if self.alpha == 1 else (g * self.alpha).astype(g.dtype)
        if self.next_functions[1][0] is not None:
            g1 = _prod(ga, _mT(m2._data))
        if self.next_functions[2][0] is not None:
            g2 = _prod(_mT(m1._data), ga)
        return gi, g1, g2


class BaddbmmBackward0(AddmmBackward0):
    __slots__ = ()


def _add_product(input: Tensor, m1: Tensor, m2: Tensor, beta, alpha, prod: np.ndarray,
                 node_cls) -> Tensor:
    res = prod if alpha == 1 else prod * alpha
    i = input._data
    try:
        if beta != 0:
            res = res + (i if beta == 1 else i * beta)
        elif i.shape != prod.shape:
            np.broadcast_to(i, prod.shape)
        fits = res.shape == prod.shape
    except ValueError:
        fits = False
    if not fits:
        from .shape import expand
        expand(input.detach(), prod.shape)          # raises torch's error
    res = res.astype(prod.dtype, copy=False)
    out = _fresh(m1, np.asarray(res))
    if GRAD.enabled and (input._requires_grad or m1._requires_grad or m2._requires_grad):
        node = node_cls()
        node.shape, node.beta, node.alpha = input._data.shape, beta, alpha
        node.dtype = input._data.dtype
        node.save(m1, m2)
        record(out, node, input, m1, m2)
    return out


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape."""
    a, b = mat1._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {b.shape[0]}x{b.shape[1]})")
    _same_dtype(a, b)
    _no_bool(a, "addmm_impl_cpu_")
    res = _add_product(input, mat1, mat2, beta, alpha, _prod(a, b), AddmmBackward0)
    return _write_out(res, out)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out=None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    a, b = batch1._data, batch2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same_dtype(a, b)
    _no_bool(a, "baddbmm")
    res = _add_product(input, batch1, batch2, beta, alpha, _prod(a, b), BaddbmmBackward0)
    return _write_out(res, out)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Sum-products over the last ``dims`` dims of ``a`` and the first of ``b`` (or over the
    listed dims), as one matrix product."""
    from .shape import permute, reshape
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        given_a, given_b = list(range(-dims, 0)), list(range(dims))
    else:
        given_a, given_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [_wrap(d, a._data.ndim) for d in given_a]
    db = [_wrap(d, b._data.ndim) for d in given_b]
    for x, y, gx, gy in zip(da, db, given_a, given_b):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[x]} in dim {gx} and second has size "
                               f"{b._data.shape[y]} in dim {gy}")
    free_a = [d for d in range(a._data.ndim) if d not in da]
    free_b = [d for d in range(b._data.ndim) if d not in db]
    _no_bool(a._data, "addmm_impl_cpu_" if free_a or free_b else "dot")
    k = int(np.prod([a._data.shape[d] for d in da]))
    left = reshape(permute(a, free_a + da), (-1, k))
    right = reshape(permute(b, db + free_b), (k, -1))
    shape = [a._data.shape[d] for d in free_a] + [b._data.shape[d] for d in free_b]
    return _write_out(reshape(mm(left, right), shape), out)


# ---------------------------------------------------------------------- einsum
class EinsumBackward0(Node):
    """Backward of einsum: each operand's gradient is itself an einsum of the output gradient
    with the other operands."""
    __slots__ = ("subs", "out_sub", "sizes")

    def backward(self, g):
        ops = [t._data for t in self.saved_tensors_checked()]
        wide = g.dtype in _WIDEN
        if wide:
            g = g.astype(np.float32)
        grads = []
        for i, (sub, arr) in enumerate(zip(self.subs, ops)):
            if self.next_functions[i][0] is None:
                grads.append(None)
                continue
            gi = self._operand_grad(i, g, ops)
            grads.append(gi.astype(arr.dtype, copy=False))
        return tuple(grads)

    def _operand_grad(self, i: int, g: np.ndarray, ops: list) -> np.ndarray:
        sub = self.subs[i]
        shape = ops[i].shape
        unique = "".join(dict.fromkeys(sub))
        terms = [(s, a if a.dtype == g.dtype else a.astype(g.dtype))
                 for j, (s, a) in enumerate(zip(self.subs, ops)) if j != i]
        terms.append((self.out_sub, g))
        present = "".join(c for c in unique if any(c in s for s, _ in terms))
        eq = ",".join(s for s, _ in terms) + "->" + present
        gi = np.einsum(eq, *[a for _, a in terms], optimize=len(terms) > 2)
        full = tuple(self.sizes[c] for c in unique)
        gi = np.broadcast_to(np.expand_dims(gi, tuple(k for k, c in enumerate(unique)
                                                      if c not in present)), full)
        own = {}
        for c, n in zip(sub, shape):
            own[c] = n
        axes = tuple(k for k, c in enumerate(unique) if own[c] == 1 and full[k] != 1)
        if axes:
            gi = gi.sum(axis=axes, keepdims=True)
        if len(unique) == len(sub):
            return gi.transpose([unique.index(c) for c in sub]) if unique != sub else gi
        out = np.zeros(shape, dtype=gi.dtype)
        np.einsum(f"{sub}->{unique}", out)[...] = gi      # a writable diagonal view
        return out


def _parse_einsum(equation: str, ndims: list) -> tuple:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the "
                           f"equation" if len(ndims) > len(subs) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ell_dims = []
    for s, nd in zip(subs, ndims):
        letters = len(s.replace("...", ""))
        if "..." in s:
            ell_dims.append(nd - letters)
        elif letters != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({letters}) "
                               f"does not match the number of dimensions ({nd}) for operand "
                               f"{len(ell_dims)} and no ellipsis was given")
        else:
            ell_dims.append(0)
    n_ell = max(ell_dims, default=0)
    ell = "".join(spare[:n_ell])
    subs = [s.replace("...", ell[n_ell - e:]) for s, e in zip(subs, ell_dims)]
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = collections.Counter("".join(subs))
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return subs, out


def _sublist_to_equation(args) -> tuple:
    args = list(args)
    out = args.pop() if len(args) % 2 == 1 else None
    ops, subs = args[0::2], args[1::2]

    def letters(sl):
        return "".join("..." if x is Ellipsis else string.ascii_letters[x] for x in sl)
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)``, the operands also as one list, or the
    sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_to_equation(args)
    arrays = [t._data for t in operands]
    subs, out_sub = _parse_einsum(equation, [a.ndim for a in arrays])
    sizes = _letter_sizes(subs, arrays)
    dt = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dt:
            raise RuntimeError(f"expected scalar type {_type_word(arrays[0])} but found "
                               f"{_type_word(a)}")
    if dt.kind in "biu":
        dt = _integer_einsum_dtype(subs, out_sub, dt)
        work = [a.astype(dt, copy=False) for a in arrays]
    else:
        work = [a.astype(np.float32) for a in arrays] if dt in _WIDEN else arrays
    res = np.einsum(",".join(subs) + "->" + out_sub, *work, optimize=len(work) > 2)
    out = _fresh(operands[0], np.asarray(res, dtype=dt))
    if GRAD.enabled and any(t._requires_grad for t in operands):
        node = EinsumBackward0()
        node.subs, node.out_sub, node.sizes = subs, out_sub, sizes
        node.save(*operands)
        record(out, node, *operands)
    return out


def _integer_einsum_dtype(subs: list, out_sub: str, dt: np.dtype) -> np.dtype:
    """The result dtype torch's einsum gives integer/bool operands, with its errors: letters
    only one operand has are summed out first (``sum`` makes int64), then operands are
    contracted left to right, by ``bmm`` (same dtype, no bool) when letters are summed away,
    else by ``mul`` (promoting)."""
    dtypes = []
    for i, sub in enumerate(subs):
        others = set(out_sub).union(*(subs[:i] + subs[i + 1:]))
        dtypes.append(np.dtype(np.int64) if set(sub) - others else dt)
    left, letters = dtypes[0], set(subs[0])
    for i in range(1, len(subs)):
        later = set(out_sub).union(*subs[i + 1:])
        if (letters & set(subs[i])) - later:
            if left != dtypes[i]:
                raise RuntimeError(f"expected scalar type {type_word(left)} but found "
                                   f"{type_word(dtypes[i])}")
            if left.kind == "b":
                raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
        else:
            left = np.promote_types(left, dtypes[i])
        letters |= set(subs[i])
    return left


def _letter_sizes(subs: list, arrays: list) -> dict:
    sizes: dict = {}
    for k, (s, a) in enumerate(zip(subs, arrays)):
        for c, n in zip(s, a.shape):
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {seen}")
    return sizes


# ---------------------------------------------------------------------- triangular masks
class TrilBackward0(Node):
    __slots__ = ("k",)

    def backward(self, g):
        return (np.tril(g, self.k),)


class TriuBackward0(Node):
    __slots__ = ("k",)

    def backward(self, g):
        return (np.triu(g, self.k),)


def _triangle(fn, node_cls, name: str, input: Tensor, diagonal: int) -> Tensor:
    a = input._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    out = _fresh(input, fn(a, diagonal))
    if GRAD.enabled and input._requires_grad:
        node = node_cls()
        node.k = diagonal
        record(out, node, input)
    return out


def tril(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """A copy with the elements above the ``diagonal``-th diagonal of the last two dims zeroed."""
    return _write_out(_triangle(np.tril, TrilBackward0, "tril", input, diagonal), out)


def triu(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """A copy with the elements below the ``diagonal``-th diagonal of the last two dims zeroed."""
    return _write_out(_triangle(np.triu, TriuBackward0, "triu", input, diagonal), out)


tril_ = inplace_of(tril, "tril_")
triu_ = inplace_of(triu, "triu_")


# ---------------------------------------------------------------------- ordering
def _return_type(name: str):
    cls = collections.namedtuple(name, ["values", "indices"])
    cls.__module__ = "numtorch.return_types"

    def __repr__(self):
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    cls.__repr__ = __repr__
    return cls


sort_result = _return_type("sort")
topk_result = _return_type("topk")


class _PlaceBackward(Node):
    """Backward of ops that pick elements along ``axis`` at ``indices`` (no repeats)."""
    __slots__ = ("indices", "axis", "shape")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        if not self.shape:
            return (g.reshape(()),)
        out[_along(self.indices, self.axis)] = g
        return (out,)


class SortBackward0(_PlaceBackward):
    __slots__ = ()


class SortBackward1(_PlaceBackward):
    __slots__ = ()


class TopkBackward0(_PlaceBackward):
    __slots__ = ()


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis``; NaN counts as the largest value, as in torch."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # sorting the reversed array and reversing the result keeps ties in their original order
    rev = (slice(None),) * axis + (slice(None, None, -1),)
    idx = np.argsort(a[rev], axis=axis, kind="stable")[rev]
    return (a.shape[axis] - 1) - idx


def _pick(input: Tensor, idx: np.ndarray, axis: int, node_cls, result_cls):
    a = input._data
    if a.ndim == 0:
        values = _fresh(input, a.copy())
    else:
        values = _fresh(input, a[_along(idx, axis)])
    indices = _fresh(input, idx.astype(np.int64, copy=False))
    if GRAD.enabled and input._requires_grad:
        node = node_cls()
        node.indices, node.axis, node.shape = idx, axis, a.shape
        record(values, node, input)
    return result_cls(values, indices)


def _along(idx: np.ndarray, axis: int) -> tuple:
    """A NumPy index taking ``idx`` along ``axis`` and every position along the others."""
    nd = idx.ndim
    key = []
    for d, n in enumerate(idx.shape):
        if d == axis:
            key.append(idx)
        else:
            key.append(np.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1)))
    return tuple(key)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None):
    """Values sorted along ``dim`` and their original positions (ties keep their order)."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = _order(a, axis, descending) if a.ndim else np.zeros((), dtype=np.int64)
    return _pick(input, idx, axis, SortBackward0 if stable is None else SortBackward1,
                 sort_result)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The positions that sort ``input`` along ``dim``."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = _order(a, axis, descending) if a.ndim else np.zeros((), dtype=np.int64)
    return _fresh(input, idx.astype(np.int64, copy=False))


def msort(input: Tensor) -> Tensor:
    """Values sorted along the first dimension."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their positions."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    size = a.shape[axis] if a.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return _pick(input, np.zeros((), dtype=np.int64), axis, TopkBackward0, topk_result)
    pre = (slice(None),) * axis
    if largest:     # descending, NaN first, ties in index order: a stable sort of the reverse
        flipped = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
        idx = (size - 1) - np.flip(flipped, axis)[pre + (slice(0, k),)]
    else:
        idx = np.argsort(a, axis=axis, kind="stable")[pre + (slice(0, k),)]
    return _pick(input, idx, axis, TopkBackward0, topk_result)
