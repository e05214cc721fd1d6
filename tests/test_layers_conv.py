"""Conv1d, Conv2d, ConvTranspose1d/2d and their functional forms against torch."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import compare, differential
from layers_util import assert_uniform, check_layer, check_structure, rand, sample_params

CONV2D_CASES = [
    # (in, out, kernel, kwargs, input shape)
    (1, 20, 5, {}, (2, 1, 28, 28)),
    (3, 4, (3, 2), {}, (1, 3, 7, 6)),
    (4, 6, 3, dict(stride=2, padding=1), (2, 4, 9, 8)),
    (4, 6, (3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
     (2, 4, 9, 8)),
    (4, 4, 3, dict(groups=4, bias=False), (2, 4, 6, 6)),
    (3, 4, (4, 3), dict(padding="same", dilation=2), (2, 3, 9, 8)),
    (3, 4, 3, dict(padding="valid"), (2, 3, 5, 5)),
    (3, 2, 1, {}, (2, 3, 4, 4)),
    (3, 4, 3, dict(padding=1), (3, 5, 5)),
    (2, 3, 3, dict(padding=(1, 2), padding_mode="reflect"), (2, 2, 5, 6)),
    (2, 3, 3, dict(padding=1, padding_mode="replicate", stride=2), (2, 2, 5, 6)),
    (2, 3, 3, dict(padding="same", padding_mode="circular"), (2, 2, 5, 6)),
]


@pytest.mark.parametrize("cin,cout,k,kw,shape", CONV2D_CASES)
def test_conv2d(cin, cout, k, kw, shape):
    # a weight gradient sums N*OH*OW products (1152 for 28x28 input): float32 summation order
    # alone moves it by ~1e-5 absolute, so the tolerance grows with the sum's length
    terms = shape[0] * shape[-1] * shape[-2] if len(shape) == 4 else 1
    check_layer(lambda T: T.nn.Conv2d(cin, cout, k, **kw), [rand(*shape)],
                atol=1e-5 * max(1.0, terms / 200))


@pytest.mark.parametrize("cin,cout,k,kw,shape", CONV2D_CASES[1:5])
def test_conv2d_float64(cin, cout, k, kw, shape):
    check_layer(lambda T: T.nn.Conv2d(cin, cout, k, **kw), [rand(*shape, dtype=np.float64)],
                dtype=np.float64)


@pytest.mark.parametrize("cin,cout,k,kw,shape", [
    (3, 4, 3, {}, (2, 3, 10)),
    (4, 6, 3, dict(stride=2, padding=1, dilation=2, groups=2), (1, 4, 11)),
    (3, 4, 4, dict(padding="same"), (2, 3, 9)),
    (3, 4, 3, dict(padding=2, padding_mode="reflect"), (2, 3, 7)),
    (3, 4, 3, dict(bias=False), (3, 8)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv1d(cin, cout, k, kw, shape, dtype):
    check_layer(lambda T: T.nn.Conv1d(cin, cout, k, **kw), [rand(*shape, dtype=dtype)],
                dtype=dtype)


@pytest.mark.parametrize("cin,cout,k,kw,shape", [
    (3, 4, 3, {}, (2, 3, 5, 4)),
    (3, 4, 3, dict(stride=2, padding=1, output_padding=1), (2, 3, 5, 4)),
    (6, 6, (3, 2), dict(stride=(2, 3), padding=(0, 1), groups=3, dilation=2), (1, 6, 5, 4)),
    (2, 3, 2, dict(bias=False, stride=2), (2, 4, 3)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose2d(cin, cout, k, kw, shape, dtype):
    check_layer(lambda T: T.nn.ConvTranspose2d(cin, cout, k, **kw), [rand(*shape, dtype=dtype)],
                dtype=dtype)


def test_conv_transpose2d_output_size():
    @differential(atol=1e-5)
    def body(T):
        T.manual_seed(0)
        m = T.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
        m.load_state_dict({"weight": T.tensor(rand(2, 3, 3, 3)), "bias": T.tensor(rand(3))})
        x = T.tensor(rand(1, 2, 4, 4))
        return [m(x, output_size=s).shape for s in ([7, 7], [8, 8], [1, 3, 8, 7])]
    body()
    compare(lambda T: T.nn.ConvTranspose2d(2, 3, 3, stride=2)(T.ones(1, 2, 4, 4),
                                                             output_size=[20, 20]),
            match_message=True)


def test_conv_transpose1d():
    check_layer(lambda T: T.nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1),
                [rand(2, 3, 6)])


@pytest.mark.parametrize("factory", [
    lambda T: T.nn.Conv2d(1, 20, 5),
    lambda T: T.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2,
                          bias=False),
    lambda T: T.nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect"),
    lambda T: T.nn.Conv1d(3, 4, 3, padding=1, padding_mode="circular"),
    lambda T: T.nn.ConvTranspose2d(3, 6, 3, stride=2, output_padding=1, groups=3),
    lambda T: T.nn.ConvTranspose1d(3, 4, 2),
])
def test_structure(factory):
    check_structure(factory)


def test_conv_default_init_distribution():
    import numtorch
    factory = lambda T: T.nn.Conv2d(16, 32, 5)  # noqa: E731
    fan_in = 16 * 25
    assert_uniform(sample_params(numtorch, factory, "weight"), 1 / math.sqrt(fan_in))
    assert_uniform(sample_params(numtorch, factory, "bias", 40), 1 / math.sqrt(fan_in))
    transposed = lambda T: T.nn.ConvTranspose2d(16, 32, 3)  # noqa: E731
    assert_uniform(sample_params(numtorch, transposed, "weight"), 1 / math.sqrt(32 * 9))


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 2, 3, 3)),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5), T.ones(4, 3, 3, 3)),
    lambda T: T.nn.functional.conv2d(T.ones(3, 5), T.ones(4, 3, 3, 3)),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 2, 2), T.ones(4, 3, 3, 3)),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5, dtype=T.float64), T.ones(4, 3, 3, 3)),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 3, 3, 3), T.ones(3)),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 3, 3, 3), stride=2,
                                     padding="same"),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 3, 3, 3), padding="foo"),
    lambda T: T.nn.functional.conv2d(T.ones(2, 4, 5, 5), T.ones(4, 2, 3, 3), groups=3),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 3, 3, 3), stride=0),
    lambda T: T.nn.functional.conv2d(T.ones(2, 3, 5, 5), T.ones(4, 3, 3, 3), padding=-1),
    lambda T: T.nn.Conv2d(3, 4, 3, groups=2),
    lambda T: T.nn.Conv2d(4, 3, 3, groups=2),
    lambda T: T.nn.Conv2d(4, 4, 3, groups=0),
    lambda T: T.nn.Conv2d(4, 4, 3, padding="full"),
    lambda T: T.nn.Conv2d(4, 4, 3, stride=2, padding="same"),
    lambda T: T.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
])
def test_conv_errors(case):
    compare(case, match_message=True)


def test_conv_padding_mode_error_type():
    compare(lambda T: T.nn.Conv2d(4, 4, 3, padding_mode="mirror"))


def test_functional_conv_grad_fn_and_no_weight_grad():
    @differential(check_grad_fn=True, atol=1e-5)
    def body(T):
        F = T.nn.functional
        x = T.tensor(rand(2, 3, 6, 6), requires_grad=True)
        w = T.tensor(rand(4, 3, 3, 3))
        y = F.conv2d(x, w, padding=1)
        y.sum().backward()
        return y, x.grad, w.grad
    body()


def test_conv_keeps_float32():
    import numtorch
    m = numtorch.nn.Conv2d(1, 2, 3)
    y = m(numtorch.ones(1, 1, 5, 5))
    assert y.dtype is numtorch.float32
    y.sum().backward()
    assert m.weight.grad.dtype is numtorch.float32


def test_conv_weight_grad_when_columns_are_rebuilt(monkeypatch):
    """Large column buffers are not kept for backward; the rebuilt ones give the same grads."""
    from numtorch.nn._functional import conv as conv_impl
    monkeypatch.setattr(conv_impl, "_KEEP_COLS_BYTES", 0)
    check_layer(lambda T: T.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), [rand(2, 4, 9, 8)])
    check_layer(lambda T: T.nn.Conv1d(3, 4, 3), [rand(2, 3, 10)])


def test_functional_forms_directly():
    @differential(check_grad_fn=True, atol=1e-5)
    def body(T):
        F = T.nn.functional
        x1 = T.tensor(rand(2, 4, 9), requires_grad=True)
        w1 = T.tensor(rand(6, 2, 3), requires_grad=True)
        x2 = T.tensor(rand(2, 4, 5, 5), requires_grad=True)
        wt = T.tensor(rand(4, 3, 2, 2), requires_grad=True)
        outs = [F.conv1d(x1, w1, None, 2, 1, 1, 2), F.conv_transpose2d(x2, wt, None, 2, 1, 1),
                F.conv_transpose1d(x1, T.tensor(rand(4, 2, 3)), stride=2)]
        sum(o.sum() for o in outs).backward()
        return outs, x1.grad, w1.grad, x2.grad, wt.grad
    body()
    compare(lambda T: T.nn.functional.conv_transpose2d(T.ones(1, 3, 4, 4), T.ones(4, 2, 3, 3)),
            match_message=True)


def test_conv2d_input_layouts_read_only_sliced_and_strided():
    """Row-copy and element-copy column paths: a read-only array, a batch slice (contiguous,
    offset), a transposed view, horizontal strides and dilation; values and gradients."""
    @differential
    def body(T):
        rng = np.random.default_rng(7)
        base = rng.standard_normal((5, 3, 11, 10)).astype(np.float32)
        frozen = base.copy()
        frozen.flags.writeable = False
        w = T.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
        xs = [T.from_numpy(frozen) if T.__name__ == "numtorch" else T.tensor(frozen),
              T.tensor(base)[1:4], T.tensor(base).transpose(2, 3)]
        outs = []
        for x in xs:
            for kw in ({}, {"stride": (1, 2)}, {"dilation": (2, 1), "padding": 1},
                       {"stride": (2, 1), "dilation": (1, 2)}):
                outs.append(T.nn.functional.conv2d(x, w, **kw))
        sum(o.sum() for o in outs).backward()
        return outs, w.grad
    body()
