"""In-place changes through views (CopySlices) and of bases with live views, against torch."""
import numpy as np
import pytest

from harness import compare, differential


def _leaf(T, shape=(3, 4), seed=0):
    return T.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _grads(T, x, out, seed=1):
    w = T.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
    (out * w).sum().backward()
    return x.grad


# a non-contiguous base (transposed, permuted, sliced with steps) and an in-place change of
# one of its views; each returns the base after the change
CHANGES = {
    "row of transposed, mul_": lambda T, h: h[0].mul_(3),
    "element setitem": lambda T, h: h[0].__setitem__(1, 5.0),
    "column of transposed, exp_": lambda T, h: h[:, 1].exp_(),
    "strided slice, add_ tensor": lambda T, h: h[::2].add_(T.ones(4, dtype=h.dtype) * 2),
    "view of view, fill_": lambda T, h: h[1:][:, 2:].fill_(0.5),
    "transpose back, sigmoid_": lambda T, h: h.t()[1].sigmoid_(),
    "copy_ from leaf": lambda T, h: h[2].copy_(T.arange(4.0, dtype=h.dtype)),
    "zero_ of diagonal": lambda T, h: h.diagonal().zero_(),
    "clamp_ of narrow": lambda T, h: h.narrow(1, 1, 2).clamp_(-0.2, 0.2),
    "masked_fill_ of row": lambda T, h: h[1].masked_fill_(h[1] > 0, 0.0),
    "twice on two views": lambda T, h: (h[0].mul_(2), h[:, 0].add_(1)),
}


@pytest.mark.parametrize("name", CHANGES)
def test_in_place_on_a_view_of_a_non_contiguous_base(name):
    def body(T):
        x = _leaf(T)
        h = x.t() * 2                     # (4, 3), strides (1, 4)
        CHANGES[name](T, h)
        return h, h.grad_fn.name(), _grads(T, x, h)
    compare(body, check_grad_fn=True)


def test_in_place_on_a_view_of_a_permuted_3d_base():
    def body(T):
        x = _leaf(T, (2, 3, 4))
        h = x.permute(2, 0, 1) * 1
        h[1:3, :, 0].mul_(h[0, :, 1])
        row = h[3]
        return h, row.grad_fn.name(), _grads(T, x, h)
    compare(body)


@differential
def test_view_reads_gradient_through_later_changes_of_its_base(T):
    x = _leaf(T, (2, 3))
    y = x * 1
    v = y[0]
    y.mul_(2)
    col = y[:, 1]
    y[1].add_(v)           # a view of y changes, so v (and col) read through the CopySlices
    (v.sum() + (col * col).sum()).backward()
    return x.grad, v.grad_fn.name(), col.grad_fn.name(), y.grad_fn.name()


@differential
def test_overlapping_views_sum_their_gradient_after_the_base_changes(T):
    x = _leaf(T, (2, 3))
    y = x * 1
    wide = y[:, None].expand(2, 2, 3)
    windows = y.unfold(1, 2, 1)
    y.mul_(2)
    ((wide * 1).sum() + (windows * 3).sum()).backward()
    return x.grad


MULTI = {
    "split output changed": lambda T, y: y.split(1)[0].mul_(2),
    "unbind output changed": lambda T, y: y.unbind(1)[2].add_(1),
    "chunk output's row changed": lambda T, y: y.chunk(2)[1][0].mul_(2),
    "base changed, split output used": lambda T, y: (
        lambda parts: (y.mul_(2), (parts[1] * 1).sum().backward()))(y.split(1)),
}


@pytest.mark.parametrize("name", MULTI)
def test_outputs_of_multi_view_ops_refuse_in_place_changes(name):
    def body(T):
        MULTI[name](T, _leaf(T, (2, 3)) * 1)
    compare(body, match_message=True)


@differential(match_message=True)
def test_view_of_a_leaf_that_requires_grad_is_refused(T):
    _leaf(T).t()[0].mul_(2)


@differential
def test_in_place_through_view_without_grad_on_base_gives_grad_to_value(T):
    x = _leaf(T, (4,))
    buf = T.zeros(3, 4, dtype=x.dtype).t()
    buf[1].copy_(x * 2)
    buf[:, 2].mul_(x[:3])
    (buf * buf).sum().backward()
    return buf, x.grad, buf.grad_fn.name()
