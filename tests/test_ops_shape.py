"""Shape ops (views, reshapes, joins, splits, copies) against torch: values, dtypes, gradients,
grad_fn names, memory sharing with the base, version counters and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import compare, differential

FLOATS = ["float32", "float64", "float16", "bfloat16"]
LAYOUTS = ["contiguous", "transposed", "stepped"]


def leaf(T, shape, dtype="float32", layout="contiguous", seed=0, requires_grad=True):
    """A leaf tensor and a view of it with ``shape`` laid out as ``layout``."""
    rng = np.random.default_rng(seed)
    if layout == "transposed" and len(shape) >= 2:
        base_shape = shape[:-2] + (shape[-1], shape[-2])
    elif layout == "stepped" and len(shape) >= 1:
        base_shape = shape[:-1] + (2 * shape[-1],)
    else:
        base_shape = shape
    base = T.tensor(rng.standard_normal(base_shape), dtype=getattr(T, dtype),
                    requires_grad=requires_grad)
    if layout == "transposed" and len(shape) >= 2:
        return base, base.transpose(-1, -2)
    if layout == "stepped" and len(shape) >= 1:
        return base, base[..., ::2]
    return base, base


def weighted_backward(T, out, seed=1):
    """Backward of a weighted sum of ``out`` so every output element gets its own gradient."""
    w = T.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)), dtype=out.dtype)
    (out * w).sum().backward()


# (name, input shape, op) — each op maps one tensor to one tensor
UNARY = [
    ("view", (3, 4), lambda T, x: x.contiguous().view(2, 6)),
    ("view_-1", (2, 3, 4), lambda T, x: x.contiguous().view(-1, 4)),
    ("view_as", (3, 4), lambda T, x: x.contiguous().view_as(T.zeros(12))),
    ("reshape", (3, 4), lambda T, x: x.reshape(4, 3)),
    ("reshape_tuple", (2, 3, 4), lambda T, x: x.reshape((6, -1))),
    ("reshape_as", (3, 4), lambda T, x: x.reshape_as(T.zeros(2, 2, 3))),
    ("T.reshape", (3, 4), lambda T, x: T.reshape(x, (-1,))),
    ("flatten", (2, 3, 4), lambda T, x: x.flatten()),
    ("flatten_1", (2, 3, 4), lambda T, x: x.flatten(1)),
    ("flatten_0_1", (2, 3, 4), lambda T, x: T.flatten(x, 0, 1)),
    ("unflatten", (2, 12), lambda T, x: x.unflatten(1, (3, -1))),
    ("squeeze", (1, 3, 1, 4), lambda T, x: x.squeeze()),
    ("squeeze_dim", (1, 3, 1, 4), lambda T, x: x.squeeze(2)),
    ("squeeze_dim_noop", (1, 3, 1, 4), lambda T, x: x.squeeze(1)),
    ("squeeze_tuple", (1, 3, 1, 4), lambda T, x: x.squeeze((0, 2))),
    ("unsqueeze", (3, 4), lambda T, x: x.unsqueeze(1)),
    ("unsqueeze_neg", (3, 4), lambda T, x: T.unsqueeze(x, -1)),
    ("permute", (2, 3, 4), lambda T, x: x.permute(2, 0, 1)),
    ("permute_tuple", (2, 3, 4), lambda T, x: T.permute(x, (1, -1, 0))),
    ("movedim", (2, 3, 4), lambda T, x: T.movedim(x, 0, -1)),
    ("transpose", (2, 3, 4), lambda T, x: x.transpose(0, 2)),
    ("swapaxes", (2, 3, 4), lambda T, x: x.swapaxes(-1, 1)),
    ("t", (3, 4), lambda T, x: x.t()),
    ("t_1d", (4,), lambda T, x: x.t()),
    ("T", (3, 4), lambda T, x: x.T),
    ("mT", (2, 3, 4), lambda T, x: x.mT),
    ("expand", (3, 1), lambda T, x: x.expand(2, 3, 4)),
    ("expand_-1", (3, 1), lambda T, x: x.expand(-1, 5)),
    ("expand_as", (1, 4), lambda T, x: x.expand_as(T.zeros(3, 4))),
    ("repeat", (2, 3), lambda T, x: x.repeat(2, 1, 3)),
    ("narrow", (4, 5), lambda T, x: x.narrow(1, 1, 3)),
    ("narrow_neg", (4, 5), lambda T, x: T.narrow(x, 0, -2, 2)),
    ("select", (3, 4), lambda T, x: x.select(1, -1)),
    ("flip", (3, 4), lambda T, x: x.flip(0, 1)),
    ("flip_list", (3, 4), lambda T, x: T.flip(x, [1])),
    ("roll", (3, 4), lambda T, x: x.roll(1, 1)),
    ("roll_flat", (3, 4), lambda T, x: T.roll(x, 5)),
    ("roll_multi", (3, 4), lambda T, x: x.roll((1, -2), (0, 1))),
    ("clone", (3, 4), lambda T, x: x.clone()),
    ("contiguous", (3, 4), lambda T, x: (x * 1).contiguous()),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,shape,op", UNARY, ids=[c[0] for c in UNARY])
def test_unary_shape_ops_float32(name, shape, op, layout):
    if name.startswith("view") and layout != "contiguous":
        pytest.skip("view of a non-contiguous tensor is tested among the errors")

    def body(T):
        base, x = leaf(T, shape, "float32", layout)
        out = op(T, x)
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name,shape,op", UNARY, ids=[c[0] for c in UNARY])
def test_unary_shape_ops_other_floats(name, shape, op, dtype):
    def body(T):
        base, x = leaf(T, shape, dtype, "transposed" if not name.startswith("view") else
                       "contiguous")
        out = op(T, x)
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name,shape,op", UNARY, ids=[c[0] for c in UNARY])
def test_unary_shape_ops_exact_dtypes(name, shape, op, dtype):
    def body(T):
        arr = np.random.default_rng(0).integers(0, 5, shape)
        return op(T, T.tensor(arr, dtype=getattr(T, dtype)))
    compare(body)


# ---------------------------------------------------------------------- views share memory
VIEWS = [
    lambda x: x.view(3, 4),
    lambda x: x.reshape(2, 6),
    lambda x: x.t(),
    lambda x: x.transpose(0, 1),
    lambda x: x.permute(1, 0),
    lambda x: x.narrow(1, 1, 2),
    lambda x: x.select(0, 1),
    lambda x: x.unsqueeze(0),
    lambda x: x[None].squeeze(0),
    lambda x: x.flatten(),
    lambda x: x.unflatten(1, (2, 2)),
    lambda x: x.split(1)[1],
    lambda x: x.chunk(2, 1)[1],
    lambda x: x.unbind(1)[2],
    lambda x: x.T,
    lambda x: x.movedim(1, 0),
]


@pytest.mark.parametrize("k", range(len(VIEWS)))
def test_in_place_change_of_a_view_shows_in_the_base(k):
    def body(T):
        x = T.arange(12.).reshape(3, 4)
        v = VIEWS[k](x)
        v.mul_(10)
        v_version = v._version
        x.add_(1)
        return x, v, x._version, v_version, v._version, v._base is x
    compare(body)


@pytest.mark.parametrize("k", range(len(VIEWS)))
def test_in_place_change_of_the_base_shows_in_the_view(k):
    def body(T):
        x = T.arange(12.).reshape(3, 4)
        v = VIEWS[k](x)
        x[1] = -1.0
        return v, v._version
    compare(body)


@differential
def test_copies_do_not_share_memory(T):
    x = T.arange(12.).reshape(3, 4)
    copies = [x.flip(0), x.roll(1), x.repeat(1, 1), x.clone(), x.t().reshape(12),
              x.t().contiguous(), T.cat([x, x]), T.stack([x])]
    x.zero_()
    return copies


@differential
def test_contiguous_returns_self_when_contiguous(T):
    x = T.ones(2, 3)
    return x.contiguous() is x, x.t().contiguous() is x, x.t().contiguous().is_contiguous()


@differential
def test_flatten_same_dim_returns_the_input(T):
    x = T.ones(2, 3, requires_grad=True)
    return x.flatten(1, 1) is x, T.tensor(2.).flatten().shape


@differential
def test_reshape_of_a_transposed_tensor_is_a_copy(T):
    x = T.arange(6.).reshape(2, 3)
    y = x.t().reshape(6)
    y.add_(100)
    return x, y, y._base is None


@differential
def test_view_of_compatible_non_contiguous_layout(T):
    x = T.arange(24.).reshape(2, 3, 4)
    v = x.transpose(0, 1).view(3, 2, 2, 2)
    v.add_(1)
    return x, v.stride()


@differential
def test_expand_shares_memory(T):
    x = T.zeros(3, 1)
    e = x.expand(3, 4)
    x.add_(2)
    return e, e.stride()


@differential(check_grad_fn=True)
def test_zero_dim_shapes(T):
    x = T.tensor(3.0, requires_grad=True)
    outs = [x.view(1), x.reshape(1, 1), x.unsqueeze(0), x.squeeze(), x.squeeze(0), x.flatten(),
            x.expand(2, 2), x.t(), x.clone()]
    sum(o.sum() for o in outs).backward()
    return outs, x.grad


# ---------------------------------------------------------------------- split family
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("how", ["split_int", "split_list", "chunk", "chunk_uneven", "unbind",
                                 "split_unused", "tensor_split_dim1"])
def test_multi_output_views(how, layout):
    def body(T):
        base, x = leaf(T, (5, 6), "float32", layout)
        parts = {"split_int": lambda: x.split(2),
                 "split_list": lambda: T.split(x, [1, 4], dim=0),
                 "chunk": lambda: x.chunk(3, 1),
                 "chunk_uneven": lambda: T.chunk(x, 4, 0),
                 "unbind": lambda: x.unbind(1),
                 "split_unused": lambda: x.split(2)[1:2],
                 "tensor_split_dim1": lambda: x.split([2, 2, 2], -1)}[how]()
        total = None
        for i, p in enumerate(parts):
            term = (p * (i + 1)).sum()
            total = term if total is None else total + term
        total.backward()
        return list(parts), base.grad
    compare(body, check_grad_fn=True)


# ---------------------------------------------------------------------- cat / stack
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_values_and_gradients(dtype, dim):
    def body(T):
        a_base, a = leaf(T, (2, 3), dtype, "transposed", seed=0)
        b_base, b = leaf(T, (2, 3), dtype, "stepped", seed=1)
        c = T.ones(2, 3, dtype=getattr(T, dtype))
        out = T.cat([a, b, c], dim)
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_values_and_gradients(dtype, dim):
    def body(T):
        a_base, a = leaf(T, (2, 3), dtype, "transposed", seed=0)
        b_base, b = leaf(T, (2, 3), dtype, "contiguous", seed=1)
        out = T.stack((a, b, a), dim=dim)
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True)


@differential(check_grad_fn=True)
def test_cat_promotes_dtypes_and_casts_gradients_back(T):
    a = T.ones(2, 2, dtype=T.float32, requires_grad=True)
    b = T.ones(1, 2, dtype=T.float64, requires_grad=True)
    i = T.ones(1, 2, dtype=T.int64)
    out = T.cat([a, b, i])
    weighted_backward(T, out)
    return out, a.grad, b.grad, T.cat([i, T.zeros(1, 2, dtype=T.float16)]).dtype, \
        T.stack([i[0], T.ones(2, dtype=T.bool)]).dtype


@differential
def test_cat_skips_legacy_empty_vectors(T):
    a = T.ones(2, 3, requires_grad=True)
    e = T.zeros(0, requires_grad=True)
    out = T.cat([e, a, e])
    out.sum().backward()
    return out, a.grad, e.grad, T.cat([T.zeros(0), T.zeros(0)]).shape


@differential
def test_cat_exact_dtypes_and_aliases(T):
    a = T.tensor([[1, 2]], dtype=T.int32)
    b = T.tensor([[True, False]])
    return T.cat((a, a)), T.concat([b, b], 1), T.concatenate([a, a], dim=-1), T.hstack([a, a]), \
        T.vstack([T.tensor([1, 2]), T.tensor([3, 4])]), T.hstack([T.tensor([1]), T.tensor([2])])


@differential
def test_cat_and_stack_out(T):
    out = T.empty(0)
    r = T.cat([T.ones(2), T.zeros(1)], out=out)
    out2 = T.empty(2, 2)
    T.stack([T.ones(2), T.zeros(2)], out=out2)
    return r is out, out, out2


# ---------------------------------------------------------------------- hypothesis
@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_reshape_and_permute_any_shape(shape, data):
    shape = tuple(shape)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    split = data.draw(st.integers(0, len(shape)))

    def body(T):
        base, x = leaf(T, shape, "float64")
        p = x.permute(perm)
        flat = p.reshape(-1)
        out = flat.reshape(shape).flatten(0, split - 1 if split else 0).unsqueeze(-1)
        weighted_backward(T, out)
        return p, flat, out, base.grad
    compare(body, check_grad_fn=True)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), rows=st.lists(st.integers(0, 3), min_size=1, max_size=4),
       data=st.data())
def test_cat_split_roundtrip_any_sizes(n, rows, data):
    dim = data.draw(st.sampled_from([0, 1]))

    def body(T):
        parts = [T.tensor(np.random.default_rng(i).standard_normal((r, n) if dim == 0 else
                                                                    (n, r)), requires_grad=True)
                 for i, r in enumerate(rows)]
        whole = T.cat(parts, dim)
        back = whole.split(rows, dim)
        weighted_backward(T, T.stack([b.sum() for b in back]))
        return whole, list(back), [p.grad for p in parts]
    compare(body)


# ---------------------------------------------------------------------- errors
ERRORS = [
    lambda T, x: x.view(5, 3),
    lambda T, x: x.view(-1, -1),
    lambda T, x: x.view(-2, 6),
    lambda T, x: x.t().view(12),
    lambda T, x: T.zeros(0, 3).view(0, -1),
    lambda T, x: x.reshape(5, 5),
    lambda T, x: x.expand(3, 5),
    lambda T, x: x.expand(4),
    lambda T, x: x[0].expand(-1, 4),
    lambda T, x: x.permute(0),
    lambda T, x: x.permute(0, 0),
    lambda T, x: x.permute(0, 2),
    lambda T, x: T.zeros(2, 3, 4).t(),
    lambda T, x: T.zeros(3).mT,
    lambda T, x: x.repeat(2),
    lambda T, x: x.narrow(0, 5, 1),
    lambda T, x: x.narrow(0, 2, 3),
    lambda T, x: x.narrow(2, 0, 1),
    lambda T, x: x.select(0, 5),
    lambda T, x: x.select(-3, 0),
    lambda T, x: x.split([1, 1]),
    lambda T, x: x.chunk(0),
    lambda T, x: x.unflatten(1, (3, 2)),
    lambda T, x: x.squeeze(5),
    lambda T, x: x.unsqueeze(3),
    lambda T, x: x.unsqueeze(-4),
    lambda T, x: T.zeros(2, 3, 4).flatten(2, 1),
    lambda T, x: x.flatten(0, 3),
    lambda T, x: x.transpose(0, 2),
    lambda T, x: T.cat([]),
    lambda T, x: T.cat([x, x[0]]),
    lambda T, x: T.cat([x, T.zeros(3, 5)]),
    lambda T, x: T.cat([x, T.zeros(3, 5)], 1).shape,
    lambda T, x: T.cat([T.tensor(1.), T.tensor(2.)]),
    lambda T, x: T.cat([x, x], 2),
    lambda T, x: T.stack([]),
    lambda T, x: T.stack([x, x[0]]),
    lambda T, x: T.stack([x, x], 3),
    lambda T, x: x.flip(0, 0),
    lambda T, x: x.roll((1, 2), 0),
    lambda T, x: T.movedim(x, (0, 1), 0),
    lambda T, x: T.movedim(x, (0, 1), (0,)),
    lambda T, x: x.movedim((0, 1), 0),
    lambda T, x: x.moveaxis([0, 1], 0),
    lambda T, x: T.moveaxis(x, 0, (1,)),
    lambda T, x: x.movedim(0, 1.0),
    lambda T, x: x.movedim(None, 1),
    lambda T, x: x.movedim([0, 1], (1, 0)),
    lambda T, x: T.zeros(3).H,
    lambda T, x: T.zeros(2, 3, 4).H,
    lambda T, x: T.zeros(3).mH,
    lambda T, x: x.view(T.float64),
    lambda T, x: x.t().view(T.float16),
    lambda T, x: T.ones(3, 3).view(T.float64),
    lambda T, x: T.tensor(1.0).view(T.float64),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    def body(T):
        return ERRORS[k](T, T.ones(3, 4))
    compare(body, match_message=True)


@differential
def test_T_reverses_other_ranks_with_a_warning(T):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return T.zeros(2, 3, 4).T.shape, T.zeros(4).T.shape, T.zeros(()).T.shape


def test_T_warning_wording():
    import numtorch
    with pytest.warns(UserWarning, match="The use of `x.T` on tensors of dimension other than 2"):
        numtorch.zeros(2, 3, 4).T
    with pytest.warns(UserWarning, match="Tensor.T is deprecated on 0-D tensors"):
        numtorch.zeros(()).T


@differential(check_grad_fn=True)
def test_aliases_and_transposes(T):
    x = T.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
    m = T.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    outs = [x.swapdims(0, 2), T.swapaxes(x, 1, 2), T.moveaxis(x, (0, 1), (2, 0)), x.moveaxis(-1, 0),
            T.adjoint(x), m.adjoint(), m.H, x.mH, T.transpose(T.tensor(1.0, requires_grad=True), 0, -1)]
    weighted_backward(T, T.cat([o.reshape(-1) for o in outs[:-1]]))
    return outs, x.grad, m.grad


@differential
def test_views_of_a_leaf_refuse_recorded_in_place_changes(T):
    x = T.ones(2, 3, requires_grad=True)
    return x[0].masked_fill_(T.tensor([True, False, True]), 0.0)


@differential
def test_in_place_under_no_grad_on_a_view_of_a_parameter(T):
    w = T.ones(2, 3, requires_grad=True)
    with T.no_grad():
        w[0].masked_fill_(T.tensor([True, False, True]), 5.0)
        w[1] = 2.0
        w.t().tril_()
    return w, w._version


# ---------------------------------------------------------------------- repetition, windows
MORE = [
    ("ravel", (3, 4), lambda T, x: x.ravel()),
    ("T.ravel", (3, 4), lambda T, x: T.ravel(x)),
    ("tile", (2, 3), lambda T, x: x.tile((2,))),
    ("tile_lead", (2, 3), lambda T, x: T.tile(x, (2, 1, 2))),
    ("broadcast_to", (3, 1), lambda T, x: T.broadcast_to(x, (2, 3, 4))),
    ("broadcast_to_method", (1, 4), lambda T, x: x.broadcast_to((3, 4))),
    ("repeat_interleave", (2, 3), lambda T, x: x.repeat_interleave(2)),
    ("repeat_interleave_dim", (2, 3), lambda T, x: x.repeat_interleave(3, dim=1)),
    ("repeat_interleave_zero", (2, 3), lambda T, x: x.repeat_interleave(0, dim=0)),
    ("repeat_interleave_counts", (3, 2), lambda T, x: T.repeat_interleave(
        x, T.tensor([1, 0, 3]), dim=0)),
    ("unfold", (3, 7), lambda T, x: x.unfold(1, 3, 2)),
    ("unfold_dim0", (5, 2), lambda T, x: x.unfold(0, 2, 1)),
    ("unfold_step_big", (2, 6), lambda T, x: x.unfold(-1, 2, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,shape,op", MORE, ids=[c[0] for c in MORE])
def test_repetition_and_window_ops(name, shape, op, dtype):
    def body(T):
        base, x = leaf(T, shape, dtype, "transposed")
        out = op(T, x)
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("how", [3, 4, [1, 3], [0, 5, 2], "tensor"], ids=str)
@pytest.mark.parametrize("dim", [0, 1])
def test_tensor_split(how, dim):
    def body(T):
        base, x = leaf(T, (5, 6), "float32", "stepped")
        arg = T.tensor(2) if how == "tensor" else how
        parts = x.tensor_split(arg, dim)
        total = sum((p * (i + 1)).sum() for i, p in enumerate(parts))
        total.backward()
        return list(parts), base.grad
    compare(body, check_grad_fn=True)


@differential(check_grad_fn=True)
def test_broadcast_tensors_and_meshgrid(T):
    a = T.tensor(np.random.default_rng(0).standard_normal((3, 1)), requires_grad=True)
    b = T.tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True)
    c = T.ones(3, 4)
    bt = T.broadcast_tensors(a, b, c)
    ij = T.meshgrid(a[:, 0], b, indexing="ij")
    xy = T.meshgrid([a[:, 0], b, b[:2]], indexing="xy")
    weighted_backward(T, T.stack(list(bt) + list(ij)))
    return bt, bt[2] is c, ij, xy, a.grad, b.grad, T.broadcast_shapes((3, 1), (4,), 1)


@differential
def test_unfold_is_a_view_and_repeat_interleave_indices(T):
    x = T.arange(6.)
    w = x.unfold(0, 2, 2)
    x.mul_(10)
    return w, w._base is x, T.repeat_interleave(T.tensor([2, 0, 1]))


MORE_ERRORS = [
    lambda T: T.ones(3, 4).unfold(1, 5, 1),
    lambda T: T.ones(3, 4).unfold(1, 2, 0),
    lambda T: T.ones(3, 4).tensor_split(0),
    lambda T: T.ones(3, 4).repeat_interleave(T.tensor([1, 2]), dim=0),
    lambda T: T.broadcast_tensors(T.ones(3), T.ones(4)),
    lambda T: T.broadcast_shapes((3,), (4,)),
    lambda T: T.meshgrid(T.ones(2, 2), indexing="ij"),
]

# torch's errors quote tensors as its C++ core prints them: every number format it picks
# (integers, fixed, scaled, scientific, nan/inf), column groups and >2-d blocks
QUOTED = [[[1.0, -2.0], [3.0, 4.0]], [[100.0, -2.5], [3.0, 4.0]], [[1e6, 2.5]], [[1e-5, 2.5]],
          [[123456789.0, 2.0]], [[float("nan"), float("inf"), 1.0]], [[0.5, -1000.5]],
          [[0.001, 0.002], [0.003, 0.004]], [[[0.001] * 12, [0.003] * 12]], [[1e-200, 1e-199]],
          [[1e99, 1.5]], np.arange(30.0).reshape(2, 15) * 1000.5, np.ones((2, 2, 2, 2)),
          np.zeros((2, 0)), np.random.default_rng(0).standard_normal((2, 3, 4)) * 1000]
MORE_ERRORS += [lambda T, a=a: T.meshgrid(T.tensor(np.asarray(a, "float64")), indexing="ij")
                for a in QUOTED]
MORE_ERRORS += [lambda T, d=d: T.meshgrid(T.ones(2, 2, dtype=getattr(T, d)), indexing="ij")
                for d in ("bool", "int64", "bfloat16", "float16", "complex64")]


@pytest.mark.parametrize("k", range(len(MORE_ERRORS)))
def test_repetition_errors(k):
    compare(MORE_ERRORS[k], match_message=True)


@differential
def test_view_as_another_dtype_shares_bytes_without_grad(T):
    x = T.tensor([[1.0, -2.0, 3.0, 0.5]], requires_grad=True)
    h = x.detach()
    bits = h.view(T.int32)
    halves = h.view(T.float16)
    doubles = h.view(T.float64)
    h[0, 0] = 4.0
    return bits, halves.shape, doubles.shape, x.view(T.int32).requires_grad, \
        (x * 1).view(T.float16).grad_fn is None, T.tensor([1, 0], dtype=T.uint8).view(T.bool)
