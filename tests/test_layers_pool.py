"""MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d and their functional forms against torch."""
from __future__ import annotations

import numpy as np
import pytest

from harness import compare, differential
from layers_util import check_layer, check_structure, rand


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=2), (1, 20, 24, 24)),
    (dict(kernel_size=2), (2, 3, 7, 9)),  # floor mode: the last row and column in no window
    (dict(kernel_size=3), (2, 2, 9, 10)),
    (dict(kernel_size=1), (2, 2, 3, 4)),
    (dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True),
     (2, 3, 9, 8)),
    (dict(kernel_size=3, stride=2, padding=1), (3, 9, 8)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (2, 2, 10, 7)),
    (dict(kernel_size=2, stride=1), (1, 1, 5, 5)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d(kw, shape, dtype):
    check_layer(lambda T: T.nn.MaxPool2d(**kw), [rand(*shape, dtype=dtype)], dtype=dtype)


def test_max_pool2d_return_indices():
    check_layer(lambda T: T.nn.MaxPool2d(3, 2, 1, return_indices=True), [rand(2, 3, 9, 8)])
    check_layer(lambda T: T.nn.MaxPool2d(2, return_indices=True, ceil_mode=True),
                [rand(3, 5, 7)])


def test_max_pool2d_ties_send_gradient_to_first_maximum():
    @differential
    def body(T):
        x = T.tensor(np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [0.0, 2.0, 2.0]]]],
                              dtype=np.float32), requires_grad=True)
        y, idx = T.nn.functional.max_pool2d(x, 2, 1, return_indices=True)
        y.sum().backward()
        return y, idx, x.grad
    body()


def test_max_pool2d_after_relu_zero_windows():
    @differential
    def body(T):
        x = T.tensor(rand(2, 3, 6, 6), requires_grad=True)
        y = T.nn.functional.max_pool2d(T.nn.functional.relu(x - 1.0), 2)
        y.sum().backward()
        return y, x.grad
    body()


def test_max_pool2d_no_grad_fast_path_matches():
    @differential
    def body(T):
        with T.no_grad():
            return T.nn.functional.max_pool2d(T.tensor(rand(2, 3, 8, 6)), 2)
    body()


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8)),
    (dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 10)),
    (dict(kernel_size=2, return_indices=True), (3, 9)),
])
def test_max_pool1d(kw, shape):
    check_layer(lambda T: T.nn.MaxPool1d(**kw), [rand(*shape)])


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 9, 8)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 3, 10, 8)),
    (dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), divisor_override=3), (2, 10, 8)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (1, 1, 6, 6)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_pool2d(kw, shape, dtype):
    check_layer(lambda T: T.nn.AvgPool2d(**kw), [rand(*shape, dtype=dtype)], dtype=dtype)


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 3, 10)),
])
def test_avg_pool1d(kw, shape):
    check_layer(lambda T: T.nn.AvgPool1d(**kw), [rand(*shape)])


@pytest.mark.parametrize("size,shape", [
    ((3, 5), (2, 3, 10, 7)),
    (1, (2, 3, 10, 7)),
    (4, (2, 3, 8, 8)),
    ((None, 2), (2, 3, 5, 7)),
    ((7, 9), (1, 2, 5, 4)),
    (2, (3, 5, 5)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_avg_pool2d(size, shape, dtype):
    check_layer(lambda T: T.nn.AdaptiveAvgPool2d(size), [rand(*shape, dtype=dtype)], dtype=dtype)


def test_adaptive_avg_pool1d():
    check_layer(lambda T: T.nn.AdaptiveAvgPool1d(3), [rand(2, 3, 10)])


@pytest.mark.parametrize("factory", [
    lambda T: T.nn.MaxPool2d(2),
    lambda T: T.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda T: T.nn.MaxPool1d(3),
    lambda T: T.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda T: T.nn.AvgPool1d(3, 2),
    lambda T: T.nn.AdaptiveAvgPool2d((5, 7)),
    lambda T: T.nn.AdaptiveAvgPool2d(1),
    lambda T: T.nn.AdaptiveAvgPool1d(4),
])
def test_structure(factory):
    check_structure(factory)


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.max_pool2d(T.ones(2, 3, 5, 5), 3, padding=2),
    lambda T: T.nn.functional.max_pool2d(T.ones(2, 3, 2, 2), 3),
    lambda T: T.nn.functional.max_pool2d(T.ones(5, 5), 3),
    lambda T: T.nn.functional.avg_pool2d(T.ones(2, 3, 5, 5), 3, padding=2),
    lambda T: T.nn.functional.max_pool2d(T.ones(1, 1, 4, 4), 2, stride=0),
    lambda T: T.nn.functional.max_pool2d(T.ones(1, 1, 4, 4), 2, stride=-1),
    lambda T: T.nn.functional.max_pool2d(T.ones(1, 1, 4, 4), 0, stride=1),
    lambda T: T.nn.functional.max_pool2d(T.ones(1, 1, 4, 4), 2, dilation=0),
    lambda T: T.nn.functional.avg_pool2d(T.ones(1, 1, 4, 4), 2, stride=-1),
    lambda T: T.nn.functional.adaptive_avg_pool2d(T.ones(4), 2),
])
def test_pool_errors(case):
    compare(case, match_message=True)


def test_max_pool2d_nan_propagates_like_torch():
    @differential
    def body(T):
        a = rand(1, 1, 4, 6)
        a[0, 0, 0, 1] = np.nan
        a[0, 0, 1, 0] = np.nan
        a[0, 0, 3, 5] = np.nan
        x = T.tensor(a, requires_grad=True)
        y, idx = T.nn.functional.max_pool2d(x, (2, 3), return_indices=True)
        y.backward(T.ones_like(y))
        return y, idx, x.grad
    body()


@pytest.mark.parametrize("shape", [(3, 4, 6, 8), (2, 3, 7, 9), (5, 4, 6), (1, 1, 2, 2),
                                   (2, 1, 3, 2)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_2x2_ties_indices_and_gradients(shape, ceil_mode):
    """The 2x2 stride-2 path on values full of ties (each window's first maximum in row-major
    order gets the gradient and the index), odd sizes, unbatched input."""
    @differential
    def body(T):
        rng = np.random.default_rng(sum(shape))
        x = T.tensor(rng.integers(0, 3, shape).astype(np.float32), requires_grad=True)
        y, idx = T.nn.functional.max_pool2d(x, 2, ceil_mode=ceil_mode, return_indices=True)
        y.backward(T.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32)))
        return y, idx, x.grad
    body()


def test_max_pool2d_2x2_non_contiguous_nan_and_integer_input():
    @differential
    def body(T):
        a = rand(2, 3, 6, 4)
        a[0, 1, 2, 3] = np.nan
        a[1, 2, 0, 0] = np.nan
        x = T.tensor(a, requires_grad=True)
        y1, i1 = T.nn.functional.max_pool2d(x, 2, return_indices=True)
        xt = x.transpose(2, 3)  # a strided view
        y2, i2 = T.nn.functional.max_pool2d(xt, 2, 2, return_indices=True)
        (y1.sum() + y2.sum()).backward()
        ints = T.nn.functional.max_pool2d(T.arange(48).reshape(1, 3, 4, 4) % 5, 2)
        return y1, i1, y2, i2, x.grad, ints
    body()


@pytest.mark.parametrize("dtype", ["float16", "float64", "int64", "int32", "uint8", "int8"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (1, 2, 4, 300), (2, 1, 5, 301)])
def test_max_pool2d_2x2_dtypes_and_wide_rows(dtype, shape):
    """Every element size of the 2x2 path (pairs narrowed by a cast, or strided for 8-byte
    elements) and rows wide enough that a window's offset needs more than one byte."""
    @differential
    def body(T):
        rng = np.random.default_rng(shape[-1])
        a = rng.integers(0, 4, shape)
        x = T.tensor(a.astype(dtype))
        y, idx = T.nn.functional.max_pool2d(x, 2, return_indices=True)
        out = [y, idx]
        if dtype.startswith("float"):
            x.requires_grad_(True)
            y = T.nn.functional.max_pool2d(x, 2)
            y.backward(T.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype)))
            out += [y, x.grad]
        return out
    body()
