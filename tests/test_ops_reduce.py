"""Reductions against torch: values, gradients, grad_fn names, dtypes, dim/keepdim handling,
namedtuple results and torch's errors."""
import numpy as np
import pytest
import torch

import numtorch
from harness import assert_same, call, compare

FLOATS = ["float32", "float64", "float16", "bfloat16"]
TOL = {"float32": {}, "float64": {}, "float16": dict(rtol=5e-3, atol=5e-3),
       "bfloat16": dict(rtol=3e-2, atol=3e-2)}


def _data(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum0": lambda x: x.sum(0),
    "sum_neg_keep": lambda x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda x: x.sum((0, 2)),
    "mean": lambda x: x.mean(),
    "mean1": lambda x: x.mean(1),
    "mean_tuple_keep": lambda x: x.mean((1, 2), keepdim=True),
    "var": lambda x: x.var(),
    "var0": lambda x: x.var(0),
    "var_unbiased_false": lambda x: x.var(1, unbiased=False),
    "var_correction": lambda x: x.var(dim=(0, 1), correction=0, keepdim=True),
    "std": lambda x: x.std(),
    "std2": lambda x: x.std(2, keepdim=True),
    "std_correction": lambda x: x.std(dim=1, correction=2),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(1),
    "min_dim_keep": lambda x: x.min(-1, keepdim=True),
    "amax": lambda x: x.amax(),
    "amax_dims": lambda x: x.amax((0, 2)),
    "amin_keep": lambda x: x.amin(1, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_tuple": lambda x: x.logsumexp((0, 2), keepdim=True),
    "prod": lambda x: x.prod(),
    "prod1": lambda x: x.prod(1),
    "prod_keep": lambda x: x.prod(-1, keepdim=True),
    "norm": lambda x: x.norm(),
    "norm_dim": lambda x: x.norm(dim=1),
    "norm_p1": lambda x: x.norm(p=1),
    "norm_p3_keep": lambda x: x.norm(p=3, dim=(1, 2), keepdim=True),
    "norm_inf": lambda x: x.norm(float("inf"), dim=0),
    "norm_neginf": lambda x: x.norm(float("-inf")),
    "norm_fro": lambda x: x.norm("fro"),
    "norm_p0": lambda x: x.norm(p=0),
    "cumsum": lambda x: x.cumsum(1),
    "cumsum_neg": lambda x: x.cumsum(-1),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_forward_and_grad(name):
    fn = REDUCTIONS[name]
    for dtype in FLOATS:
        for noncontig in (False, True):
            def body(T):
                src = _data((3, 4, 5), 1)
                x = T.tensor(src, dtype=getattr(T, dtype))
                if noncontig:
                    x = x.transpose(0, 2)
                x = x.detach().requires_grad_()
                r = fn(x)
                y = r[0] if isinstance(r, tuple) else r
                y.backward(T.tensor(_data(tuple(y.shape), 2), dtype=y.dtype))
                return r, x.grad
            compare(body, check_grad_fn=True, **TOL[dtype])


def test_sum_mean_dtypes():
    def body(T):
        i = T.tensor([[1, 2], [3, 4]], dtype=T.int8)
        b = T.tensor([True, True, False])
        f = T.tensor([1.5, 2.5])
        return (i.sum(), i.sum(0), b.sum(), T.sum(f, dtype=T.float64), i.sum(dtype=T.float32),
                f.mean(dtype=T.float64), i.mean(dtype=T.float32), i.prod(), b.prod(),
                i.cumsum(0), b.cumsum(0), f.cumsum(0, dtype=T.float64), T.sum(i, (0, 1)),
                T.tensor(3.0).sum(0), T.tensor(3.0).mean(-1))
    compare(body)


def test_max_min_namedtuple_and_indices():
    def body(T):
        x = T.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
        mx = x.max(1)
        mn = T.min(x, dim=0, keepdim=True)
        return (mx, mx.values, mx.indices, mn.indices, type(mx).__name__, x.argmax(),
                x.argmax(1), x.argmin(0, keepdim=True), x.argmax(keepdim=True),
                T.max(x, T.tensor([3.0, 3.0, 3.0])), T.tensor([3, 1, 3]).max(0),
                T.tensor([[True, False]]).max(), T.tensor([2, 9, 9]).argmax())
    compare(body)


def test_ties_share_gradient():
    def body(T):
        x = T.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
        grads = []
        for f in (lambda x: x.max(), lambda x: x.amax(1), lambda x: x.amin(), lambda x: x.min(),
                  lambda x: x.max(1).values, lambda x: x.norm(float("inf"))):
            x.grad = None
            f(x).sum().backward()
            grads.append(x.grad)
        return grads
    compare(body)


def test_prod_gradient_with_zeros():
    def body(T):
        x = T.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], requires_grad=True)
        g = []
        for f in (lambda x: x.prod(), lambda x: x.prod(0), lambda x: x.prod(1, keepdim=True)):
            x.grad = None
            f(x).sum().backward()
            g.append(x.grad)
        return g
    compare(body)


def test_nan_and_inf_handling():
    def body(T):
        x = T.tensor([[1.0, float("nan"), 3.0], [float("-inf"), 0.0, 2.0]])
        y = T.tensor([[float("inf"), 1.0], [-float("inf"), -float("inf")]])
        return (x.max(), x.max(1), x.amax(0), x.argmax(1), x.sum(1), x.mean(0), y.logsumexp(1),
                x.norm(), T.tensor([]).sum(), T.tensor([]).mean(), T.tensor([]).prod())
    compare(body)


def test_var_std_edge_cases():
    def body(T):
        one = T.tensor([2.0], requires_grad=True)
        v = one.var()
        s = T.tensor([[1.0, 2.0], [3.0, 5.0]]).std(0, True, True)
        return v, s, T.tensor([1.0, 2.0, 4.0]).var(False), T.tensor([1.0, 3.0]).std(
            unbiased=True)
    compare(body)


def test_all_any_count_nonzero():
    def body(T):
        x = T.tensor([[0, 1, 2], [3, 0, 0]])
        b = T.tensor([[True, False], [True, True]])
        u = T.tensor([1, 2, 0], dtype=T.uint8)
        f = T.tensor([0.0, 0.5])
        return (x.all(), x.any(), x.all(1), x.any(0, keepdim=True), b.all(0), b.any(), u.all(),
                u.any(), f.all(), f.any(), T.count_nonzero(x), T.count_nonzero(x, dim=0),
                x.count_nonzero(1), T.tensor([]).all(), T.tensor([]).any())
    compare(body)


def test_reduction_errors():
    cases = [
        (lambda T: T.ones(2, 3).sum(2), True),
        (lambda T: T.ones(2, 3).mean(-3), True),
        (lambda T: T.tensor([1, 2]).mean(), True),
        (lambda T: T.tensor([]).max(), True),
        (lambda T: T.ones(0, 3).max(0), True),
        (lambda T: T.tensor([]).amax(), False),
        (lambda T: T.tensor([]).argmax(), False),
        (lambda T: T.tensor([1, 2]).var(), False),
        (lambda T: T.tensor([1, 2]).norm(), False),
        (lambda T: T.ones(2, 3).max(dim=5), True),
        (lambda T: T.ones(2, 3).sum((0, 0)), False),
        (lambda T: T.ones(2, 3).cumsum(2), True),
    ]
    for body, msg in cases:
        assert_same(call(body, torch), call(body, numtorch), match_message=msg)


def test_reduction_on_zero_dim_and_scalar_dims():
    def body(T):
        x = T.tensor(2.5, requires_grad=True)
        outs = [x.sum(0), x.mean(0, keepdim=True), x.max(0), x.amax(0), x.prod(0), x.cumsum(0),
                x.logsumexp(0), x.norm(dim=0), x.argmax(0)]
        (outs[0] + outs[1] + outs[2][0] + outs[4] + outs[5] + outs[6]).backward()
        return outs, x.grad
    compare(body)


def test_saved_tensor_modified_in_place_is_detected():
    def body(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 2
        p = h.prod()
        h.mul_(2)
        p.backward()
    e, a = call(body, torch), call(body, numtorch)
    assert_same(e, a)


def test_gradients_at_degenerate_points():
    def body(T):
        grads = []
        for f, vals in ((lambda x: x.std(), [1.0, 1.0]), (lambda x: x.norm(), [0.0, 0.0]),
                        (lambda x: x.norm(p=3), [0.0, 0.0]), (lambda x: x.norm(p=1), [0.0, -2.0]),
                        (lambda x: x.logsumexp(0), [-float("inf"), 0.0]),
                        (lambda x: x.max(), [1.0, 1.0, 1.0]),
                        (lambda x: x.std(0, keepdim=True).sum(), [[2.0, 1.0], [2.0, 3.0]])):
            x = T.tensor(vals, requires_grad=True)
            f(x).backward()
            grads.append(x.grad)
        return grads
    compare(body)


def test_dtype_error_wording():
    for body in (lambda T: T.tensor([1, 2]).var(), lambda T: T.tensor([1, 2]).std(),
                 lambda T: T.ones(2).mean(dtype=T.int64), lambda T: T.tensor([1, 2]).mean()):
        assert_same(call(body, torch), call(body, numtorch), match_message=True)


@pytest.mark.parametrize("body", [
    lambda T, x: x.prod((0, 1)), lambda T, x: x.prod(dim=(0, 1)), lambda T, x: T.prod(x, (0, 1)),
    lambda T, x: T.prod(x, dim=(0,)), lambda T, x: x.prod([0]), lambda T, x: x.prod(0.5),
    lambda T, x: x.prod(None), lambda T, x: x.prod(dim=None), lambda T, x: x.prod(True),
    lambda T, x: x.prod((0,), keepdim=True), lambda T, x: x.prod((0,), True),
    lambda T, x: T.prod(x, (0,), dtype=T.float64), lambda T, x: x.prod(0, None),
    lambda T, x: x.prod(T.tensor(1)), lambda T, x: T.prod(x, 0, True, dtype=T.float64),
    lambda T, x: x.prod(dtype=T.float64)], ids=range(16))
def test_prod_takes_one_int_dim(body):
    compare(lambda T: body(T, T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])), match_message=True)


@pytest.mark.parametrize("name", ["amax", "amin", "max", "min"])
def test_extreme_gradients_with_nan(name):
    """amax/amin count equal values only (a NaN result spreads NaN); max/min tie NaNs."""
    def body(T):
        nan = float("nan")
        x = T.tensor([[1.0, nan, 3.0], [2.0, 2.0, 1.0], [nan, nan, 0.0]], requires_grad=True)
        grads = []
        for f in (lambda: getattr(x, name)(), lambda: getattr(T, name)(x, 1)):
            out = f()
            (out if isinstance(out, T.Tensor) else out[0]).sum().backward()
            grads.append(x.grad.clone())
            x.grad = None
        return grads
    compare(body)


@pytest.mark.parametrize("body", [
    lambda T: T.tensor([True, False]).argmax(), lambda T: T.tensor([True]).argmin(0),
    lambda T: T.argmax(T.tensor([[True]]), dim=1, keepdim=True),
    lambda T: T.tensor([[True, False]]).max(1), lambda T: T.tensor([True, False]).amax()],
    ids=range(5))
def test_bool_reductions(body):
    compare(body, match_message=True)


# ---------------------------------------------------------------------- stats.py
STATS = {
    "var_mean": lambda T, x: T.var_mean(x, 1),
    "var_mean_all": lambda T, x: T.var_mean(x, unbiased=False),
    "std_mean": lambda T, x: T.std_mean(x, dim=(0, 2), keepdim=True),
    "aminmax": lambda T, x: T.aminmax(x, dim=1),
    "aminmax_all": lambda T, x: x.aminmax(),
    "median": lambda T, x: x.median(),
    "median_dim": lambda T, x: x.median(1),
    "median_keep": lambda T, x: T.median(x, -1, keepdim=True),
    "nansum": lambda T, x: x.nansum(1),
    "cumprod": lambda T, x: x.cumprod(1),
    "cumprod_last": lambda T, x: T.cumprod(x, -1),
}


@pytest.mark.parametrize("name", list(STATS))
def test_stats_forward_and_grad(name):
    fn = STATS[name]
    for dtype in ("float32", "float64"):
        for noncontig in (False, True):
            def body(T):
                x = T.tensor(_data((3, 4, 5), 1), dtype=getattr(T, dtype))
                if noncontig:
                    x = x.transpose(0, 2)
                x = x.detach().requires_grad_()
                r = fn(T, x)
                outs = list(r) if isinstance(r, tuple) else [r]
                total = sum((o * T.tensor(_data(tuple(o.shape), 5 + i), dtype=o.dtype)).sum()
                            for i, o in enumerate(outs) if o.dtype.is_floating_point)
                total.backward()
                return r, x.grad
            compare(body, check_grad_fn=True)


def test_stats_special_values():
    def body(T):
        z = T.tensor([[2.0, 0.0, 3.0, 0.0], [1.0, 2.0, 0.0, 4.0]], requires_grad=True)
        z.cumprod(1).sum().backward()
        n = T.tensor([1.0, float("nan"), 2.0], requires_grad=True)
        s = n.nansum()
        s.backward()
        i = T.tensor([[3, 1, 2], [5, 5, 4]])
        return (z.grad, s, n.grad, T.tensor([1.0, float("nan"), 3.0]).median(),
                i.median(), i.cumprod(0), T.tensor([True, True]).cumprod(0), i.aminmax(),
                T.tensor([2.0, 1.0, 2.0, 1.0]).median(), T.tensor([4.0, 1.0, 3.0]).median(0))
    compare(body)


def test_stats_only_one_output_used():
    def body(T):
        x = T.tensor(_data((2, 3), 1), requires_grad=True)
        v, m = T.var_mean(x, 1)
        m.sum().backward()
        g1 = x.grad.clone()
        x.grad = None
        lo, hi = T.aminmax(x)
        hi.backward()
        return g1, x.grad, v.grad_fn.name(), m.grad_fn.name()
    compare(body)


def test_complex_reductions():
    def body(T):
        z = T.tensor([[1 + 2j, 3 - 1j], [0.5j, -2 + 0j]])
        return (z.sum(), z.mean(0), z.prod(), z.cumsum(1), z.norm(), z.var(), z.std(1),
                T.var_mean(z), T.std_mean(z, 0))
    compare(body)


def test_empty_inputs():
    def body(T):
        e = T.ones(0, 3)
        return (e.sum(0), e.mean(0), e.prod(0), e.amax(1), e.max(1), e.argmax(1), e.logsumexp(0),
                e.norm(dim=0), e.var(0), e.cumsum(0), e.softmax(0), e.log_softmax(1), e.all(0),
                e.any(1), e + T.ones(3), e.exp(), e.median(1), e.count_nonzero(0), e.std(),
                T.tensor([]).var(), e.norm(float("inf"), dim=1))
    compare(body)
