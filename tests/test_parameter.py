"""nn.Parameter and nn.Buffer against torch: construction, flags, memory sharing, repr, copies."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from harness import differential
from test_module import compare_error, raises_like_torch


@differential
def test_parameter_defaults_to_requires_grad_and_is_a_leaf(T):
    p = T.nn.Parameter(T.tensor(np.arange(6.0).reshape(2, 3)))
    return (p, p.requires_grad, p.is_leaf, p.grad_fn is None, isinstance(p, T.Tensor),
            type(p).__name__, p.dtype, tuple(p.shape))


@differential
def test_parameter_without_grad_and_empty(T):
    frozen = T.nn.Parameter(T.ones(2), requires_grad=False)
    empty = T.nn.Parameter()
    return frozen, frozen.requires_grad, empty, tuple(empty.shape), empty.dtype


@differential
def test_parameter_requires_grad_even_under_no_grad(T):
    with T.no_grad():
        p = T.nn.Parameter(T.zeros(2))
    return p.requires_grad


@differential
def test_parameter_from_a_non_leaf_is_a_leaf_sharing_memory(T):
    x = T.ones(3, requires_grad=True)
    y = x * 2
    p = T.nn.Parameter(y)
    with T.no_grad():
        y[0] = 7.0
    return p, p.is_leaf, p.grad_fn is None


@differential
def test_parameter_shares_memory_with_its_data(T):
    base = T.zeros(3)
    p = T.nn.Parameter(base)
    base[1] = 5.0
    return p, p.detach()


@differential
def test_parameter_repr(T):
    return (repr(T.nn.Parameter(T.tensor([1.0, 2.0]))),
            repr(T.nn.Parameter(T.tensor([[1.5]]), requires_grad=False)),
            repr(T.nn.Parameter(T.tensor([1.0], dtype=T.float64))))


@raises_like_torch
def test_parameter_of_an_integer_tensor_cannot_require_grad(T):
    T.nn.Parameter(T.tensor([1, 2]))


@differential
def test_integer_parameter_without_grad(T):
    p = T.nn.Parameter(T.tensor([1, 2]), requires_grad=False)
    return p, p.dtype


@raises_like_torch
def test_parameter_from_a_list_is_refused(T):
    T.nn.Parameter([1.0, 2.0])


@differential
def test_parameter_deepcopy_copies_data_not_grad(T):
    p = T.nn.Parameter(T.ones(2))
    p.grad = T.full((2,), 3.0)
    c = copy.deepcopy(p)
    with T.no_grad():
        p.mul_(5)
    return c, c.grad, type(c).__name__, c is p, c.requires_grad


@differential
def test_parameter_in_arithmetic_gives_plain_tensors(T):
    p = T.nn.Parameter(T.ones(2))
    out = p * 3
    return out, type(out).__name__, out.requires_grad


@differential
def test_buffer_is_a_flagged_plain_tensor(T):
    data = T.ones(2)
    b = T.nn.Buffer(data)
    n = T.nn.Buffer(T.zeros(1), persistent=False)
    data[0] = 4.0
    return (b, type(b).__name__, b.persistent, n.persistent, isinstance(b, T.nn.Buffer),
            isinstance(data, T.nn.Buffer), isinstance(b, T.Tensor), b.requires_grad)


@differential
def test_buffer_keeps_requires_grad_but_leaves_the_graph(T):
    x = T.ones(2, requires_grad=True)
    b = T.nn.Buffer(x * 2)
    return b.requires_grad, b.is_leaf, b.grad_fn is None


@differential
def test_empty_buffer(T):
    b = T.nn.Buffer()
    return b, b.persistent


@pytest.mark.parametrize("value", [3, [1.0], np.zeros(2)])
def test_buffer_of_a_non_tensor_is_refused(value):
    def body(T):
        return T.nn.Buffer(value)
    compare_error(body)


# ------------------------------------------------------------------ lazy (uninitialized) state
@differential
def test_uninitialized_parameter_materializes_in_place(T):
    lazy = T.nn.parameter.UninitializedParameter()
    frozen = T.nn.parameter.UninitializedParameter(requires_grad=False, dtype=T.float64)
    holder = T.nn.Module()
    holder.w = lazy
    before = (repr(lazy), T.nn.parameter.is_lazy(lazy), lazy.requires_grad, lazy.dtype,
              [n for n, _ in holder.named_parameters()], repr(copy.deepcopy(lazy)))
    lazy.materialize((2, 3))
    frozen.materialize([4], dtype=T.float32)
    return (before, type(lazy).__name__, tuple(lazy.shape), T.nn.parameter.is_lazy(lazy),
            holder.w is lazy, lazy.requires_grad, type(frozen).__name__, frozen.dtype,
            frozen.requires_grad, tuple(frozen.shape))


@raises_like_torch
def test_uninitialized_parameter_has_no_shape(T):
    return T.nn.parameter.UninitializedParameter().shape


@differential
def test_uninitialized_buffer(T):
    lazy = T.nn.parameter.UninitializedBuffer(persistent=False)
    holder = T.nn.Module()
    holder.b = lazy
    before = (repr(lazy), lazy.persistent, isinstance(lazy, T.nn.Buffer), lazy.requires_grad,
              [n for n, _ in holder.named_buffers()], sorted(holder._non_persistent_buffers_set))
    lazy.materialize((3,), dtype=T.float64)
    return before, type(lazy).__name__, tuple(lazy.shape), lazy.dtype, holder.b is lazy


@differential
def test_is_lazy_of_ordinary_tensors(T):
    return (T.nn.parameter.is_lazy(T.nn.Parameter(T.ones(1))), T.nn.parameter.is_lazy(T.ones(1)),
            T.nn.parameter.is_lazy(3))
