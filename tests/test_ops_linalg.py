"""Linear algebra, triangular masks and ordering against torch: matmul for every rank
combination with batch broadcasting, mm/bmm/mv/dot/outer/inner, addmm/baddbmm, einsum (ellipsis,
repeated subscripts, broadcasting, sublists), tril/triu, sort/argsort/topk, and their errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import compare, differential
from test_ops_shape import FLOATS, LAYOUTS, leaf, weighted_backward

# half-precision products round once per output in torch and in numtorch, but the float32 sums
# behind them may differ in order
TOL = {"float16": dict(rtol=2e-3, atol=2e-3), "bfloat16": dict(rtol=2e-2, atol=2e-2)}

MATMUL_SHAPES = [
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (2, 4, 5)),
]


def _pair(T, sa, sb, dtype, layout):
    a_base, a = leaf(T, sa, dtype, layout, seed=0)
    b_base, b = leaf(T, sb, dtype, layout, seed=1)
    return a_base, a, b_base, b


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_all_ranks(sa, sb, layout):
    def body(T):
        a_base, a, b_base, b = _pair(T, sa, sb, "float32", layout)
        out = a @ b
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", FLOATS[1:])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_other_float_dtypes(sa, sb, dtype):
    def body(T):
        a_base, a, b_base, b = _pair(T, sa, sb, dtype, "transposed")
        out = T.matmul(a, b)
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True, **TOL.get(dtype, {}))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_integers_exactly(sa, sb, dtype):
    def body(T):
        rng = np.random.default_rng(0)
        a = T.tensor(rng.integers(-5, 5, sa), dtype=getattr(T, dtype))
        b = T.tensor(rng.integers(-5, 5, sb), dtype=getattr(T, dtype))
        return a @ b
    compare(body)


@differential(check_grad_fn=True)
def test_rmatmul_and_fixed_rank_forms(T):
    a = T.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    b = T.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
    v = T.tensor(np.random.default_rng(2).standard_normal(4), requires_grad=True)
    bb = T.tensor(np.random.default_rng(3).standard_normal((2, 4, 3)), requires_grad=True)
    outs = [a.mm(b), T.mm(a, b), a.mv(v), T.mv(a, v), v.dot(v), T.dot(v, v * 2),
            T.bmm(bb, bb.transpose(1, 2)), bb.bmm(bb.mT), T.outer(v, v[:2]), v.outer(v),
            T.ger(v, v), a.__rmatmul__(a.t())]
    sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
    return outs, a.grad, b.grad, v.grad, bb.grad


@differential
def test_inner(T):
    a = T.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    c = T.tensor(np.random.default_rng(1).standard_normal((2, 5, 4)), requires_grad=True)
    v = T.tensor(np.random.default_rng(2).standard_normal(4), requires_grad=True)
    outs = [T.inner(a, a), T.inner(v, v), T.inner(a, v), a.inner(c), T.inner(v, T.tensor(2.0))]
    sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
    return outs, a.grad, c.grad, v.grad


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1), (2, 0)])
@pytest.mark.parametrize("input_shape", [(3, 5), (5,), (1, 5), (3, 1)], ids=str)
def test_addmm(dtype, beta, alpha, input_shape):
    def body(T):
        i_base, i = leaf(T, input_shape, dtype, "contiguous", seed=2)
        a_base, a, b_base, b = _pair(T, (3, 4), (4, 5), dtype, "transposed")
        out = T.addmm(i, a, b, beta=beta, alpha=alpha)
        weighted_backward(T, out)
        return out, i_base.grad, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True, **TOL.get(dtype, {}))


@differential
def test_addmm_beta_zero_ignores_nan_input(T):
    i = T.full((2, 2), float("nan"))
    return T.addmm(i, T.ones(2, 3), T.ones(3, 2), beta=0), i.addmm(T.ones(2, 3), T.ones(3, 2))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -1.5)])
def test_baddbmm(dtype, beta, alpha):
    def body(T):
        i_base, i = leaf(T, (1, 3, 5), dtype, "contiguous", seed=2)
        a_base, a, b_base, b = _pair(T, (2, 3, 4), (2, 4, 5), dtype, "stepped")
        out = T.baddbmm(i, a, b, beta=beta, alpha=alpha)
        weighted_backward(T, out)
        return out, i_base.grad, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True, **TOL.get(dtype, {}))


@settings(max_examples=20, deadline=None)
@given(batch_a=st.lists(st.sampled_from([1, 2]), max_size=2),
       batch_b=st.lists(st.sampled_from([1, 2]), max_size=2),
       m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3),
       vec_a=st.booleans(), vec_b=st.booleans())
def test_matmul_random_batches(batch_a, batch_b, m, k, n, vec_a, vec_b):
    sa = (k,) if vec_a else tuple(batch_a) + (m, k)
    sb = (k,) if vec_b else tuple(batch_b) + (k, n)

    def body(T):
        a_base, a, b_base, b = _pair(T, sa, sb, "float64", "contiguous")
        out = a @ b
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body)


# ---------------------------------------------------------------------- einsum
EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->ij", [(3, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("...i,...i", [(2, 1, 4), (3, 4)]),
    ("ij,ij->ij", [(1, 4), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("i j , j k -> i k", [(3, 4), (4, 5)]),
    ("Ab,bC->AC", [(3, 4), (4, 5)]),
    ("ijk,k->ij", [(2, 3, 1), (4,)]),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eq,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum(eq, shapes, dtype):
    def body(T):
        leaves = [leaf(T, s, dtype, "transposed" if len(s) > 1 else "stepped", seed=i)
                  for i, s in enumerate(shapes)]
        out = T.einsum(eq, *[x for _, x in leaves])
        weighted_backward(T, out)
        return out, [b.grad for b, _ in leaves]
    compare(body, **TOL.get(dtype, {}))


@differential
def test_einsum_operand_list_and_sublist_forms(T):
    a = T.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    b = T.tensor(np.random.default_rng(1).standard_normal((4, 5)), requires_grad=True)
    outs = [T.einsum("ij,jk->ik", [a, b]), T.einsum(a, [0, 1], b, [1, 2], [0, 2]),
            T.einsum(a, [0, 1], b, [1, 2]), T.einsum(a, [Ellipsis, 1], [1, Ellipsis])]
    sum(o.sum() for o in outs).backward()
    return outs, a.grad, b.grad


@differential
def test_einsum_integers(T):
    a = T.tensor([[1, 2], [3, 4]])
    return T.einsum("ij,jk->ik", a, a), T.einsum("ii", a)


EINSUM_ERRORS = [
    lambda T: T.einsum("ij,jk->ik", T.ones(3, 4), T.ones(3, 4)),
    lambda T: T.einsum("ij->ij", T.ones(3)),
    lambda T: T.einsum("ij,jk->ik", T.ones(3, 4)),
]


@pytest.mark.parametrize("k", range(len(EINSUM_ERRORS)))
def test_einsum_errors(k):
    compare(EINSUM_ERRORS[k])


# ---------------------------------------------------------------------- tril / triu
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("diagonal", [0, 1, -1, 5, -5])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 4, 3)], ids=str)
def test_tril_triu(dtype, diagonal, shape):
    def body(T):
        base, x = leaf(T, shape, dtype, "transposed")
        lo, up = x.tril(diagonal), T.triu(x, diagonal=diagonal)
        weighted_backward(T, T.stack([lo, up]))
        return lo, up, base.grad
    compare(body, check_grad_fn=True)


@differential
def test_tril_triu_in_place_and_exact_dtypes(T):
    x = T.arange(9).reshape(3, 3)
    b = T.ones(3, 3, dtype=T.bool)
    r = x.tril_(-1)
    h = T.ones(2, 3, requires_grad=True) * 2
    h.triu_(1)
    h.sum().backward()
    return r is x, x, b.triu(), x._version, h


@differential
def test_tril_in_place_gradient(T):
    w = T.ones(3, 3, requires_grad=True)
    h = w * 3
    h.tril_()
    weighted_backward(T, h)
    return h, w.grad


# ---------------------------------------------------------------------- ordering
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_and_gradients(dtype, dim, descending):
    def body(T):
        base = T.tensor(np.random.default_rng(0).permutation(40).reshape(5, 8) / 4.0,
                        dtype=getattr(T, dtype), requires_grad=True)
        x = base[:, ::2]
        r = x.sort(dim, descending)
        weighted_backward(T, r.values)
        return r.values, r.indices, tuple(r), base.grad, T.argsort(x, dim, descending)
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_with_ties_and_nan(descending):
    def body(T):
        x = T.tensor([3.0, 1.0, float("nan"), 1.0, 3.0, -2.0, float("nan"), 1.0],
                     requires_grad=True)
        r = T.sort(x, stable=True, descending=descending)
        weighted_backward(T, r.values)
        return r.values, r.indices, x.grad, x.argsort(stable=True, descending=descending)
    compare(body, check_grad_fn=True)


@differential
def test_sort_exact_dtypes_and_zero_dim(T):
    i = T.tensor([[3, 1, 2], [0, -5, 7]])
    b = T.tensor([True, False, True, False])
    s = T.tensor(3.0, requires_grad=True)
    rs = s.sort()
    rs.values.backward()
    return i.sort(), i.sort(0, descending=True), b.sort(stable=True), rs, s.grad, \
        T.msort(i), type(i.sort()).__name__, repr(T.tensor([2.0, 1.0]).sort())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("k,dim,largest", [(1, -1, True), (3, 1, False), (2, 0, True),
                                           (0, -1, True), (4, 1, False)])
def test_topk(dtype, k, dim, largest):
    def body(T):
        base = T.tensor(np.random.default_rng(1).permutation(24).reshape(4, 6) - 10.0,
                        dtype=getattr(T, dtype), requires_grad=True)
        x = base.t().t()
        r = x.topk(k, dim, largest)
        weighted_backward(T, r.values)
        r2 = T.topk(x, k, dim=dim, largest=largest, sorted=True)
        return r.values, r.indices, base.grad, r2.indices, type(r).__name__
    compare(body, check_grad_fn=True)


@differential
def test_topk_integers_and_zero_dim(T):
    x = T.tensor([[5, 1, 9], [2, 8, 3]])
    return x.topk(2), x.topk(1, 0, largest=False), T.tensor(4.0).topk(1), \
        T.tensor([1.0, float("nan"), 3.0]).topk(2)


@differential
def test_topk_ties_in_short_rows_take_the_lower_index(T):
    """Rows of up to three elements: torch's selection keeps tied elements in index order
    (longer rows with ties follow its std::nth_element, which numtorch does not mimic)."""
    nan = float("nan")
    rows = [[1.0, 1.0], [1.0, 1.0, 1.0], [2.0, nan, 2.0], [[3.0, 1.0, 3.0], [0.0, 0.0, 1.0]]]
    return [(T.tensor(r).topk(k, largest=big), T.tensor(r).topk(k, largest=big, sorted=False))
            for r in rows for k in (1, 2) for big in (True, False)]


EINSUM_INT = [("ij->i", [(2, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("ij,j->i", [(2, 3), (3,)]),
              ("i,i->", [(3,), (3,)]), ("ij,ij->ij", [(2, 3), (2, 3)]), ("i,j->ij", [(2,), (3,)]),
              ("ijk,k->", [(2, 3, 4), (4,)]), ("ij,k->k", [(2, 3), (4,)]),
              ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)])]


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "bool"])
@pytest.mark.parametrize("equation,shapes", EINSUM_INT, ids=[e for e, _ in EINSUM_INT])
def test_einsum_integer_dtypes(equation, shapes, dtype):
    """Sums promote to int64 (as torch's sum does); bmm contractions keep the dtype and refuse
    bool and mixed dtypes."""
    def body(T):
        ops = [T.tensor(np.arange(1, 1 + int(np.prod(s))).reshape(s) % 3).to(getattr(T, dtype))
               for s in shapes]
        return T.einsum(equation, *ops)
    compare(body, match_message=True)


BOOL_PRODUCTS = [lambda T, b: b(2, 2) @ b(2, 2), lambda T, b: b(2) @ b(2),
                 lambda T, b: b(2, 2) @ b(2), lambda T, b: b(2) @ b(2, 2),
                 lambda T, b: b(2, 2, 2) @ b(2, 2, 2), lambda T, b: b(2, 2, 2) @ b(2, 2),
                 lambda T, b: b(2, 2) @ b(2, 2, 2), lambda T, b: b(2, 2, 2) @ b(2),
                 lambda T, b: T.mm(b(2, 2), b(2, 2)), lambda T, b: T.mv(b(2, 2), b(2)),
                 lambda T, b: T.dot(b(2), b(2)), lambda T, b: T.bmm(b(1, 2, 2), b(1, 2, 2)),
                 lambda T, b: T.addmm(b(2, 2), b(2, 2), b(2, 2)),
                 lambda T, b: T.baddbmm(b(1, 2, 2), b(1, 2, 2), b(1, 2, 2)),
                 lambda T, b: T.tensordot(b(2, 2), b(2, 2)),
                 lambda T, b: T.tensordot(b(2, 3), b(3, 2), 1), lambda T, b: T.inner(b(2), b(2)),
                 lambda T, b: T.inner(b(2, 2), b(2, 2)), lambda T, b: T.outer(b(2), b(2))]


@pytest.mark.parametrize("k", range(len(BOOL_PRODUCTS)))
def test_bool_matrix_products_name_torch_kernels(k):
    compare(lambda T: BOOL_PRODUCTS[k](T, lambda *s: T.ones(*s, dtype=T.bool)),
            match_message=True)


# ---------------------------------------------------------------------- errors
ERRORS = [
    lambda T: T.ones(3, 4).mm(T.ones(3, 4)),
    lambda T: T.ones(3, 4).mm(T.ones(4, 2, dtype=T.float64)),
    lambda T: T.ones(3, 4).mm(T.ones(4)),
    lambda T: T.ones(4).mm(T.ones(4, 2)),
    lambda T: T.ones(3, 4) @ T.ones(3, 4),
    lambda T: T.ones(3, 4) @ T.tensor(1.0),
    lambda T: T.ones(4) @ T.ones(3),
    lambda T: T.ones(2, 3, 4) @ T.ones(3, 4, 5),
    lambda T: T.ones(2, 3, 4) @ T.ones(5, 2),
    lambda T: T.ones(3, 4).bmm(T.ones(3, 4)),
    lambda T: T.ones(2, 3, 4).bmm(T.ones(2, 5, 4)),
    lambda T: T.ones(2, 3, 4).bmm(T.ones(3, 4, 4)),
    lambda T: T.ones(2, 3, 4).bmm(T.ones(3, 4)),
    lambda T: T.ones(3, 3).dot(T.ones(3, 3)),
    lambda T: T.ones(4).dot(T.ones(3)),
    lambda T: T.ones(4).dot(T.ones(4, dtype=T.float64)),
    lambda T: T.addmm(T.ones(5), T.ones(3, 4), T.ones(4, 3)),
    lambda T: T.addmm(T.ones(3), T.ones(3, 4), T.ones(3, 3)),
    lambda T: T.ones(4).tril(),
    lambda T: T.ones(4).triu(),
    lambda T: T.ones(4).topk(5),
    lambda T: T.ones(4).sort(1),
    lambda T: T.ones(3, 4).mT.mm(T.ones(3, 5)).topk(4, 2),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    compare(ERRORS[k], match_message=True)


@differential
def test_tril_triu_out(T):
    out = T.empty(0)
    r = T.tril(T.ones(3, 3), out=out)
    out2 = T.empty(3, 3)
    T.triu(T.ones(3, 3), 1, out=out2)
    return r is out, out, out2


# ---------------------------------------------------------------------- diagonals, tensordot
DIAGS = [
    ("diagonal", (4, 4), lambda T, x: x.diagonal()),
    ("diagonal_offset", (3, 5), lambda T, x: T.diagonal(x, 2)),
    ("diagonal_neg", (5, 3), lambda T, x: x.diagonal(-1)),
    ("diagonal_dims", (2, 3, 4), lambda T, x: x.diagonal(1, 2, 0)),
    ("diagonal_empty", (2, 3), lambda T, x: x.diagonal(5)),
    ("diag_vector", (4,), lambda T, x: T.diag(x)),
    ("diag_vector_offset", (3,), lambda T, x: x.diag(-2)),
    ("diag_matrix", (4, 3), lambda T, x: x.diag(1)),
    ("diag_embed", (2, 3), lambda T, x: T.diag_embed(x)),
    ("diag_embed_dims", (2, 3), lambda T, x: x.diag_embed(1, 0, 2)),
    ("trace", (3, 4), lambda T, x: x.trace()),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,shape,op", DIAGS, ids=[c[0] for c in DIAGS])
def test_diagonal_ops(name, shape, op, dtype):
    def body(T):
        base, x = leaf(T, shape, dtype, "transposed")
        out = op(T, x)
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True, **TOL.get(dtype, {}))


@differential
def test_diagonal_is_a_writable_view(T):
    x = T.zeros(3, 3)
    d = x.diagonal()
    d.add_(1)
    x.diagonal(1).fill_(5)
    return x, d._base is x, T.tensor([[1, 2], [3, 4]]).trace(), x.diag()


TENSORDOTS = [(2, (3, 4, 5)), (1, (4, 5)), (0, (2, 2)), (([1, 0], [0, 1]), (3, 2, 5)),
              (([2], [1]), (2, 4, 5))]


@pytest.mark.parametrize("dims,b_shape", TENSORDOTS, ids=str)
def test_tensordot(dims, b_shape):
    def body(T):
        a_base, a = leaf(T, (2, 3, 4), "float64", "transposed")
        b_base, b = leaf(T, b_shape, "float64", "stepped", seed=1)
        out = T.tensordot(a, b, dims)
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body)


DIAG_ERRORS = [
    lambda T: T.ones(3).diagonal(),
    lambda T: T.ones(2, 2).diagonal(0, 0, 0),
    lambda T: T.ones(3).trace(),
    lambda T: T.ones(2, 2, 2).diag(),
    lambda T: T.tensordot(T.ones(2, 3), T.ones(4, 5), 1),
    lambda T: T.tensordot(T.ones(2, 3, 4), T.ones(4, 5), 2),
    lambda T: T.tensordot(T.ones(2, 3, 4), T.ones(4, 5, 6), ([-1], [1])),
]


@pytest.mark.parametrize("k", range(len(DIAG_ERRORS)))
def test_diagonal_errors(k):
    compare(DIAG_ERRORS[k], match_message=True)


@pytest.mark.parametrize("k", range(4))
def test_matmul_operand_types(k):
    def body(T):
        x = T.ones(2, 2)
        arr = np.ones((2, 2), dtype=np.float32)
        return [lambda: arr @ x, lambda: x @ [[1.0, 2.0], [3.0, 4.0]], lambda: T.matmul(x, 3),
                lambda: x @ arr][k]()
    compare(body, match_message=True)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_on_the_meta_device_has_shapes_only(sa, sb):
    def body(T):
        a = T.empty(sa, device="meta", requires_grad=True)
        b = T.empty(sb, device="meta")
        out = a @ b
        return out, out.device, out.clone(), out.t().contiguous() if out.ndim == 2 else out
    compare(body)
    import numtorch
    big = numtorch.empty(4096, 4096, device="meta")
    assert (big @ big)._data.strides == (0, 0)        # no data computed or stored
