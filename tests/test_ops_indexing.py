"""Indexing against torch: ``x[key]`` (views for basic keys, copies for advanced ones, gradients
accumulating over repeated indices), ``x[key] = value`` (in place, CopySlices), where,
masked_fill, gather, scatter, index_select, nonzero and their errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import compare, differential
from test_ops_shape import FLOATS, LAYOUTS, leaf, weighted_backward

# keys as functions of the module, so tensor keys come from the side under test
KEYS = [
    ("int", lambda T: 1),
    ("neg_int", lambda T: -1),
    ("int_slice", lambda T: (0, slice(1, 3))),
    ("slice_int", lambda T: (slice(1, 3), 0)),
    ("full_slice", lambda T: slice(None)),
    ("explicit_full_slice", lambda T: slice(0, 3)),
    ("tuple_full_slices", lambda T: (slice(None), slice(None))),
    ("step", lambda T: (slice(None), slice(None, None, 2))),
    ("step_start", lambda T: (slice(1, None, 2), slice(3, 0, 1))),
    ("ellipsis", lambda T: Ellipsis),
    ("ellipsis_int", lambda T: (Ellipsis, 1)),
    ("int_ellipsis", lambda T: (2, Ellipsis)),
    ("none", lambda T: None),
    ("none_middle", lambda T: (slice(None), None, 1)),
    ("slice_ellipsis_none", lambda T: (slice(1, 2), Ellipsis, None)),
    ("np_int", lambda T: np.int64(2)),
    ("tensor_0d", lambda T: T.tensor(1)),
    ("list", lambda T: [0, 2, 0]),
    ("nested_list", lambda T: [[0, 1], [2, 2]]),
    ("empty_list", lambda T: []),
    ("long_tensor", lambda T: T.tensor([2, 0, 2, 1])),
    ("int32_tensor", lambda T: T.tensor([[1], [0]], dtype=T.int32)),
    ("neg_indices", lambda T: T.tensor([-1, -3])),
    ("mask", lambda T: T.tensor([True, False, True])),
    ("mask_2d", lambda T: T.tensor(np.random.default_rng(3).random((3, 4)) > 0.5)),
    ("uint8_mask", lambda T: T.tensor([1, 0, 1], dtype=T.uint8)),
    ("true", lambda T: True),
    ("false", lambda T: False),
    ("int_list", lambda T: (0, [0, 1, 1])),
    ("two_arrays", lambda T: ([0, 1, 2], [3, 3, 0])),
    ("arrays_split_by_slice", lambda T: ([0, 1], slice(None), [1, 2])),
    ("slice_two_arrays", lambda T: (slice(None), [0, 1], [1, 4])),
    ("slice_array", lambda T: (slice(1, None), [0, 1])),
    ("none_array", lambda T: (None, [0, 1])),
    ("int_none_array", lambda T: (0, None, [0, 1])),
    ("broadcast_arrays", lambda T: (T.tensor([[0], [2]]), T.tensor([1, 2, 3]))),
    ("mask_and_slice", lambda T: (T.tensor([True, False, True]), slice(1, 3))),
    ("legacy_list_of_slices", lambda T: [0, slice(None)]),
    ("legacy_list_of_tensors", lambda T: [T.tensor([0, 1]), T.tensor([1, 2])]),
]


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_values_gradients_and_grad_fn(name, key, layout):
    def body(T):
        base, x = leaf(T, (3, 4, 5), "float32", layout)
        out = _quiet(lambda: x[key(T)])
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", FLOATS[1:])
@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_other_float_dtypes(name, key, dtype):
    def body(T):
        base, x = leaf(T, (3, 4, 5), dtype, "transposed")
        out = _quiet(lambda: x[key(T)])
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_exact_dtypes(name, key, dtype):
    def body(T):
        x = T.tensor(np.random.default_rng(0).integers(0, 3, (3, 4, 5)), dtype=getattr(T, dtype))
        return _quiet(lambda: x[key(T)])
    compare(body)


@pytest.mark.parametrize("name,key", KEYS, ids=[k[0] for k in KEYS])
def test_getitem_shares_memory_exactly_when_torch_does(name, key):
    def body(T):
        x = T.arange(60.).reshape(3, 4, 5)
        y = _quiet(lambda: x[key(T)])
        y.add_(1000)
        return x, y._version, x._version
    compare(body)


@differential
def test_repeated_indices_accumulate_gradients(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[T.tensor([0, 0, 2, 0])]
    (y * T.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return y, x.grad


@differential
def test_zero_dim_int_tensor_index_is_a_view(T):
    x = T.arange(6.).reshape(2, 3)
    y = x[T.tensor(1)]
    y[0] = -5.0
    return x


@differential
def test_iteration_yields_views(T):
    x = T.arange(6., requires_grad=True)
    rows = list(x.view(2, 3))
    (rows[0] * 2 + rows[1]).sum().backward()
    return rows, x.grad


# ---------------------------------------------------------------------- setitem
SET_KEYS = [k for k in KEYS if k[0] not in ("false", "empty_list")]


@pytest.mark.parametrize("name,key", SET_KEYS, ids=[k[0] for k in SET_KEYS])
def test_setitem_scalar_and_tensor_values(name, key):
    def body(T):
        x = T.arange(60.).reshape(3, 4, 5)
        v = _quiet(lambda: x[key(T)])
        x[key(T)] = -1.0
        y = T.zeros(3, 4, 5, dtype=T.float64)
        vals = T.tensor(np.random.default_rng(0).standard_normal(tuple(v.shape)))
        y[key(T)] = vals
        return x, y, x._version, y._version
    compare(body)


@pytest.mark.parametrize("name,key", SET_KEYS, ids=[k[0] for k in SET_KEYS])
def test_setitem_gradients(name, key):
    def body(T):
        base, x = leaf(T, (3, 4, 5), "float64")
        h = x * 1
        shape = tuple(_quiet(lambda: h[key(T)]).shape)
        v = T.tensor(np.random.default_rng(5).standard_normal(shape[1:]), requires_grad=True)
        h[key(T)] = v * 2                     # broadcast over the first indexed dimension
        weighted_backward(T, h)
        return h, base.grad, v.grad
    compare(body, check_grad_fn=True)


@differential(check_grad_fn=True)
def test_setitem_into_a_buffer_that_needs_no_grad(T):
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = T.zeros(2, 3)
    out[0] = w * 3
    out[1, 1:] = w[:2]
    weighted_backward(T, out)
    return out, w.grad


@differential
def test_setitem_casts_to_the_destination_dtype(T):
    x = T.zeros(3, dtype=T.int64)
    x[0] = 2.7
    x[1:] = T.tensor([1.9, -1.9])
    b = T.zeros(2, dtype=T.bool)
    b[1] = 3
    h = T.zeros(2, dtype=T.float16)
    h[:] = T.tensor([1, 2])
    return x, b, h


@differential
def test_setitem_value_with_leading_ones_and_lists(T):
    x = T.zeros(3, 4)
    x[0] = T.ones(1, 1, 4)
    x[2, [0, 3]] = T.tensor([7.0, 8.0])
    return x


@pytest.mark.parametrize("value", [[1.0, 2.0, 3.0, 4.0], (1.0,), np.ones(4)], ids=str)
def test_setitem_refuses_sequences(value):
    compare(lambda T: T.zeros(3, 4).__setitem__(1, value), match_message=True)


@differential
def test_setitem_through_a_view_changes_the_base(T):
    x = T.zeros(3, 4)
    row = x[1]
    row[2:] = 5.0
    x.t()[0] = 1.0
    return x, x._version, row._version


SET_ERRORS = [
    lambda T: T.zeros(3, 4).__setitem__(0, T.ones(3)),
    lambda T: T.zeros(3, 4).__setitem__(slice(None), T.ones(2, 4)),
    lambda T: T.ones(3, requires_grad=True).__setitem__(0, 1.0),
    lambda T: T.ones(3, requires_grad=True).__setitem__(T.tensor([True, False, True]), 1.0),
    lambda T: T.zeros(3).__setitem__(5, 1.0),
    lambda T: T.zeros(3).__setitem__(slice(None, None, -1), 1.0),
    # torch numbers dimensions among the advanced indices only
    lambda T: T.ones(2, 3, 4).__setitem__((slice(None), T.tensor([5])), 1.0),
    lambda T: T.ones(2, 3, 4).__setitem__((0, slice(None), T.tensor([5])), 1.0),
    lambda T: T.ones(2, 3, 4).__setitem__((T.tensor([1]), T.tensor([5])), T.ones(4)),
]


@pytest.mark.parametrize("k", range(len(SET_ERRORS)))
def test_setitem_errors(k):
    compare(SET_ERRORS[k], match_message=True)


# ---------------------------------------------------------------------- getitem errors
GET_ERRORS = [
    lambda T, x: x[5],
    lambda T, x: x[0, 7],
    lambda T, x: x[-4],
    lambda T, x: x[0, 0, 0],
    lambda T, x: x[1.0],
    lambda T, x: x["a"],
    lambda T, x: x[::-1],
    lambda T, x: x[::0],
    lambda T, x: T.tensor(1.)[0],
    lambda T, x: x[T.ones(2, dtype=T.bool)],
    lambda T, x: x[:, T.ones(3, dtype=T.bool)],
    lambda T, x: x[[0, 5]],
    lambda T, x: x[T.tensor([0, 5])],
    lambda T, x: x[:, T.tensor([-5])],
    lambda T, x: x[T.tensor([0., 1.])],
    lambda T, x: x.reshape(3, 4, 1)[T.tensor([0]), :, T.tensor([5])],
    lambda T, x: x[T.tensor([5]), T.tensor([0])],
    lambda T, x: x[None, ..., T.tensor([5])],
    lambda T, x: x.reshape(3, 2, 2)[1, :, T.tensor([5])],
    lambda T, x: x.reshape(3, 2, 2)[T.ones(3, 2, dtype=T.bool), T.tensor([5])],
    lambda T, x: x[T.tensor([[0], [1]]), T.tensor([1, 7, 9])],
    lambda T, x: x[T.tensor([0, 1]), T.tensor([0, 1, 2])],
    lambda T, x: x[T.tensor([True, False, True]), T.tensor([0, 1])],
    lambda T, x: x.reshape(3, 2, 2)[T.tensor([[True, False]] * 3), T.tensor([0, 1])],
]


@pytest.mark.parametrize("k", range(len(GET_ERRORS)))
def test_getitem_errors(k):
    compare(lambda T: GET_ERRORS[k](T, T.ones(3, 4)), match_message=True)


def _draw_key(data, shape) -> tuple:
    """A random key mixing ints, slices (with steps), None and integer lists."""
    key = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "none", "array"]))
        if kind == "int":
            key.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = data.draw(st.one_of(st.none(), st.integers(-n, n)))
            stop = data.draw(st.one_of(st.none(), st.integers(-n, n)))
            key.append(slice(start, stop, data.draw(st.one_of(st.none(), st.integers(1, 3)))))
        elif kind == "none":
            key += [None, slice(None)]
        else:
            key.append(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3)))
    return tuple(key)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_getitem_random_keys(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    key = _draw_key(data, shape)

    def body(T):
        base, x = leaf(T, shape, "float64")
        out = x[key]
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_setitem_random_keys(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    key = _draw_key(data, shape)
    if any(isinstance(k, list) and len(set(k)) != len(k) for k in key):
        return      # which of several values written to one place wins is unspecified in torch

    def body(T):
        base, x = leaf(T, shape, "float64")
        h = x * 1
        target = tuple(h[key].shape)
        v = T.tensor(np.random.default_rng(9).standard_normal(target[-1:]), requires_grad=True)
        h[key] = v
        weighted_backward(T, h)
        return h, base.grad, v.grad
    compare(body, check_grad_fn=True)


# ---------------------------------------------------------------------- where / masked_fill
@pytest.mark.parametrize("dtype", FLOATS)
def test_where_values_gradients_broadcasting(dtype):
    def body(T):
        a_base, a = leaf(T, (3, 4), dtype, "transposed", seed=0)
        b_base, b = leaf(T, (4,), dtype, "stepped", seed=1)
        cond = T.tensor(np.random.default_rng(2).random((2, 1, 4)) > 0.5)
        out = T.where(cond, a, b)
        weighted_backward(T, out)
        return out, a_base.grad, b_base.grad
    compare(body, check_grad_fn=True)


@differential(check_grad_fn=True)
def test_where_with_scalars_and_promotion(T):
    x = T.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    c = x > 0
    outs = [T.where(c, x, 0.0), T.where(c, 1.5, x), T.where(c, 1, 0), T.where(c, 1.0, 0),
            T.where(c, T.ones(2, 2, dtype=T.int64), 1.5), T.where(c, x.half(), 2.0),
            T.where(c, x.double(), x), T.where(c, T.tensor(2.0, dtype=T.float64), x),
            x.where(c, -x), T.where(c, T.ones(2, dtype=T.int32), T.zeros(2, dtype=T.int16))]
    sum(o.sum() for o in outs[:2] + outs[5:9]).backward()
    return outs, x.grad


@differential
def test_where_one_argument_and_nonzero(T):
    x = T.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    return T.where(x != 0), T.nonzero(x), x.nonzero(as_tuple=True), T.argwhere(x), \
        T.tensor(3).nonzero(), T.tensor(0).nonzero(as_tuple=True), T.zeros(0, 2).nonzero()


@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_fill_values_and_gradients(dtype):
    def body(T):
        base, x = leaf(T, (3, 4), dtype, "transposed")
        mask = T.tensor(np.random.default_rng(2).random((4,)) > 0.5)
        value = T.tensor(2.5, dtype=getattr(T, dtype), requires_grad=True)
        out1 = x.masked_fill(mask, -1.0)
        out2 = T.masked_fill(x, mask, value)
        weighted_backward(T, T.stack([out1, out2]))
        return out1, out2, base.grad, value.grad
    compare(body, check_grad_fn=True)


@differential
def test_masked_fill_exact_dtypes_and_broadcast(T):
    m = T.tensor([True, False, True])
    return T.ones(3, dtype=T.int64).masked_fill(m, 1.7), T.zeros(3, dtype=T.bool).masked_fill(
        m, 1), T.ones(3).masked_fill(T.ones(2, 3, dtype=T.bool), 0), \
        T.ones(2, 3, dtype=T.int32).masked_fill(m, T.tensor(5))


@differential(check_grad_fn=True)
def test_masked_fill_in_place(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    r = h.masked_fill_(T.tensor([True, False, False]), 0.0)
    h.sum().backward()
    y = T.arange(4.)
    y.masked_fill_(y > 1, 9.0)
    return r is h, h, x.grad, y, y._version


@differential
def test_masked_select(T):
    x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = x.masked_select(T.tensor([True, False]))
    weighted_backward(T, out)
    return out, x.grad


MASK_ERRORS = [
    lambda T, x: T.where(x, x, x),
    lambda T, x: T.where(x > 0, T.ones(3), 0.0),
    lambda T, x: x.masked_fill(x, 1.0),
    lambda T, x: x.masked_fill(x > 0, T.ones(2)),
    lambda T, x: x.masked_fill_(T.ones(2, 3, 4, dtype=T.bool), 0.0),
    lambda T, x: x.requires_grad_().masked_fill_(x > 0, 0.0),
]


@pytest.mark.parametrize("k", range(len(MASK_ERRORS)))
def test_mask_errors(k):
    compare(lambda T: MASK_ERRORS[k](T, T.ones(3, 4)), match_message=True)


# ---------------------------------------------------------------------- gather / scatter
def _index(T, shape, high, seed=0):
    return T.tensor(np.random.default_rng(seed).integers(0, high, shape))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dtype, dim):
    def body(T):
        base, x = leaf(T, (3, 4), dtype, "transposed")
        idx = _index(T, (2, 3), x.shape[dim])           # smaller than x apart from dim
        out = x.gather(dim, idx)
        weighted_backward(T, out)
        return out, base.grad, T.gather(x.detach(), dim, idx.int())
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_src_and_value(dtype, dim):
    def body(T):
        base, x = leaf(T, (3, 4), dtype, "stepped")
        src_base, src = leaf(T, (3, 5), dtype, "contiguous", seed=3)
        # a permutation along dim: no two sources land on one place
        idx = T.tensor(np.argsort(np.random.default_rng(4).random((2, 2)), axis=dim))
        h = x * 1
        out1 = h.scatter(dim, idx, src[:2, :2])
        out2 = T.scatter(h, dim, idx, 7.0)
        out3 = h.scatter_add(dim, _index(T, (2, 3), x.shape[dim], 5), src[:2, :3])
        weighted_backward(T, T.stack([out1, out2, out3]))
        return out1, out2, out3, base.grad, src_base.grad
    compare(body, check_grad_fn=True)


@differential
def test_scatter_reduce_modes_and_in_place(T):
    x = T.ones(2, 4)
    idx = T.tensor([[0, 1, 0], [3, 3, 2]])
    src = T.arange(1., 7.).reshape(2, 3)
    a = x.clone().scatter_(1, idx, src, reduce="add")
    m = x.clone().scatter_(1, idx, src, reduce="multiply")
    s = T.zeros(2, 4, dtype=T.int64).scatter_add_(1, idx, T.ones(2, 3, dtype=T.int64))
    v = T.zeros(3).scatter_(0, T.tensor([2]), 5.0)
    big_src = T.zeros(2, 4).scatter(1, idx, T.arange(10.).reshape(2, 5))
    return a, m, s, v, s._version, big_src


@differential(check_grad_fn=True)
def test_scatter_add_in_place_gradients(T):
    src = T.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    h = T.zeros(1, 4)
    h.scatter_add_(1, T.tensor([[0, 0, 3]]), src * 2)
    weighted_backward(T, h)
    return h, src.grad


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dtype, dim):
    def body(T):
        base, x = leaf(T, (3, 4), dtype, "transposed")
        idx = T.tensor([0, 2, 0, 1])
        out = x.index_select(dim, idx)
        weighted_backward(T, out)
        return out, base.grad, T.index_select(x.detach(), dim, idx.int()), \
            x.detach().index_select(dim, T.tensor(1))
    compare(body, check_grad_fn=True)


@differential
def test_take(T):
    x = T.arange(12.).reshape(3, 4).requires_grad_()
    out = T.take(x, T.tensor([[0, 11], [5, 5]]))
    weighted_backward(T, out)
    return out, x.grad


GATHER_ERRORS = [
    lambda T, x: x.gather(1, T.tensor([[0.]])),
    lambda T, x: x.gather(1, T.tensor([[7]])),
    lambda T, x: x.gather(1, T.tensor([[-1]])),
    lambda T, x: x.gather(1, T.tensor([0])),
    lambda T, x: x.gather(1, T.zeros(5, 1, dtype=T.int64)),
    lambda T, x: x.gather(2, T.zeros(1, 1, dtype=T.int64)),
    lambda T, x: x.scatter(1, T.zeros(5, 1, dtype=T.int64), 1.0),
    lambda T, x: x.scatter(1, T.zeros(3, 2, dtype=T.int64), T.ones(3, 1)),
    lambda T, x: x.scatter(1, T.tensor([[7]]), 1.0),
    lambda T, x: x.scatter(1, T.tensor([[0.]]), 1.0),
    lambda T, x: x.scatter_add(1, T.zeros(3, dtype=T.int64), x),
    lambda T, x: x.index_select(0, T.tensor([[0]])),
    lambda T, x: x.index_select(0, T.tensor([7])),
    lambda T, x: x.index_select(0, T.tensor([-1])),
    lambda T, x: x.index_select(0, T.tensor([0.])),
    lambda T, x: x.index_select(2, T.tensor([0])),
]


@pytest.mark.parametrize("k", range(len(GATHER_ERRORS)))
def test_gather_scatter_errors(k):
    compare(lambda T: GATHER_ERRORS[k](T, T.ones(3, 4)), match_message=True)


@differential
def test_zero_dim_results_of_basic_indexing_are_views(T):
    x = T.arange(4.)
    m = T.arange(4.).view(2, 2)
    views = [x[1], x[(2,)], x[-1, ...], x.select(0, 0), x.unbind()[3], m[1, 1], m[0][1],
             x[T.tensor(1)], x[None, 2]]
    for v in views:
        v.add_(10)
    return x, m, [v.shape for v in views], [v._version for v in views]


# ---------------------------------------------------------------------- index_add / copy / fill
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_copy_fill(dtype, dim):
    def body(T):
        base, x = leaf(T, (3, 4), dtype, "transposed")
        n = x.shape[dim]
        src_shape = (2, 4) if dim == 0 else (3, 2)
        s_base, src = leaf(T, src_shape, dtype, "contiguous", seed=4)
        v = T.tensor(1.5, dtype=getattr(T, dtype), requires_grad=True)
        h = x * 1
        added = h.index_add(dim, T.tensor([n - 1, n - 1]), src, alpha=2)
        copied = T.index_copy(h, dim, T.tensor([0, n - 1]), src)
        filled = h.index_fill(dim, T.tensor([1]), -3.0)
        filled_t = T.index_fill(h, dim, T.tensor([0, 1]), v)
        weighted_backward(T, T.stack([added, copied, filled, filled_t]))
        return added, copied, filled, filled_t, base.grad, s_base.grad, v.grad
    compare(body, check_grad_fn=True)


@differential
def test_index_ops_in_place_and_integers(T):
    x = T.zeros(3, 2, dtype=T.int64)
    x.index_add_(0, T.tensor([0, 0, 2]), T.tensor([[1, 2], [3, 4], [5, 6]]))
    y = T.zeros(2, 3)
    y.index_copy_(1, T.tensor([2, 0]), T.tensor([[1.0, 2.0], [3.0, 4.0]]))
    z = T.ones(2, 2, dtype=T.bool).index_fill_(0, T.tensor([1]), False)
    return x, y, z, x._version


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_take_along_dim(dim):
    def body(T):
        # torch views the input for dim=None, which fails for strided inputs
        base, x = leaf(T, (3, 4), "float64", "contiguous" if dim is None else "transposed")
        if dim is None:
            idx = T.tensor([[0, 11], [5, 5]])
        else:
            idx = T.tensor(np.random.default_rng(1).integers(0, x.shape[dim], (3, 4)))
            idx = idx[:1] if dim != 0 else idx[:, :1]       # broadcast along the other dim
        out = T.take_along_dim(x, idx, dim)
        weighted_backward(T, out)
        return out, base.grad
    compare(body, check_grad_fn=True)


INDEX_OP_ERRORS = [
    lambda T: T.ones(3, 4).index_add(0, T.tensor([[0]]), T.ones(1, 4)),
    lambda T: T.ones(3, 4).index_add(0, T.tensor([5]), T.ones(1, 4)),
    lambda T: T.ones(3, 4).index_add(0, T.tensor([-1]), T.ones(1, 4)),
    lambda T: T.ones(3, 4).index_copy(0, T.tensor([5]), T.ones(1, 4)),
    lambda T: T.ones(3, 4).index_fill(0, T.tensor([5]), 1.0),
    lambda T: T.ones(3, 4).index_fill(0, T.tensor([-1]), 2.0),
    lambda T: T.ones(3, 4).index_add(0, T.tensor([0]), T.ones(1, 3)),
    lambda T: T.ones(3, 4).index_copy(0, T.tensor([0.0]), T.ones(1, 4)),
    lambda T: T.ones(3, 4).index_fill(0, T.tensor([0]), T.ones(2)),
    lambda T: T.take_along_dim(T.ones(3, 4), T.zeros(3, dtype=T.int64), 1),
]


@pytest.mark.parametrize("k", range(len(INDEX_OP_ERRORS)))
def test_index_op_errors(k):
    compare(INDEX_OP_ERRORS[k], match_message=k in (1, 2, 3, 4, 5))


@pytest.mark.parametrize("k", range(5))
def test_in_place_changes_through_views_rewrite_the_base_history(k):
    def body(T):
        x = T.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
        w = T.tensor(np.random.default_rng(1).standard_normal(2), requires_grad=True)
        h = x * 2
        view = [lambda: h[1], lambda: h[:, 1:3], lambda: h.t()[2], lambda: h[0], lambda: h[1:]][k]()
        if k == 0:
            view[1:3] = w * 3
        elif k == 1:
            view.masked_fill_(view > 0, 0.5)
        elif k == 2:
            view[[0, 2]] = w
        elif k == 3:
            view.index_add_(0, T.tensor([3, 3]), w)
        else:
            view.tril_()
        weighted_backward(T, h)
        return h, view, x.grad, w.grad
    compare(body, check_grad_fn=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
def test_scatter_reduce(reduce, include_self, dtype):
    def body(T):
        base = T.tensor([[1.0, 5.0, 3.0, 2.0], [2.0, 2.0, 0.0, 7.0]], dtype=getattr(T, dtype),
                        requires_grad=True)
        src = T.tensor([[4.0, 5.0, 5.0], [2.0, 7.0, 7.0]], dtype=getattr(T, dtype),
                       requires_grad=True)
        idx = T.tensor([[0, 1, 1], [2, 2, 3]])
        out = (base * 1).scatter_reduce(1, idx, src, reduce, include_self=include_self)
        weighted_backward(T, out)
        return out, base.grad, src.grad
    compare(body, check_grad_fn=True)


@differential
def test_scatter_reduce_integers_prod_and_in_place(T):
    x = T.tensor([[1, 5, 3]])
    i = T.tensor([[0, 0, 2]])
    s = T.tensor([[2, 2, 4]])
    y = T.ones(3)
    y.scatter_reduce_(0, T.tensor([0, 0, 1]), T.tensor([2.0, 3.0, 4.0]), "prod")
    return x.scatter_reduce(1, i, s, "mean"), x.scatter_reduce(1, i, s, "amax", include_self=False), \
        x.scatter_reduce(1, i, s, "prod"), x.scatter_reduce(1, i, s, "sum", include_self=False), y


@differential(check_grad_fn=True)
def test_in_place_index_ops_record_tensors_given_by_keyword(T):
    src = T.tensor([[1.0, 2.0]], requires_grad=True)
    h = T.zeros(2, 3)
    h.scatter_(1, T.tensor([[2, 0]]), src=src * 2)
    g = T.zeros(3, 2)
    g.index_add_(0, T.tensor([1]), source=src, alpha=3)
    weighted_backward(T, T.cat([h.reshape(-1), g.reshape(-1)]))
    return h, g, src.grad
