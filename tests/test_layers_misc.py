"""Dropout, Embedding, Flatten, Unflatten and F.pad against torch."""
from __future__ import annotations

import numpy as np
import pytest

import numtorch
from harness import compare, differential
from layers_util import check_layer, check_structure, rand


# ---------------------------------------------------------------------- dropout
def test_dropout_eval_and_p0_are_identity():
    @differential
    def body(T):
        x = T.tensor(rand(3, 4), requires_grad=True)
        m = T.nn.Dropout(0.5).eval()
        return (m(x) is x, T.nn.functional.dropout(x, 0.0) is x,
                T.nn.functional.dropout(x, 0.7, training=False) is x)
    body()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scaling_and_zero_fraction(p):
    numtorch.manual_seed(0)
    x = numtorch.tensor(rand(200, 500) + 5.0, requires_grad=True)
    y = numtorch.nn.Dropout(p)(x)
    yd, xd = y.detach().numpy(), x.detach().numpy()
    kept = yd != 0
    np.testing.assert_allclose(yd[kept], xd[kept] / (1 - p), rtol=1e-6)
    assert abs((~kept).mean() - p) < 0.01
    assert y.dtype is numtorch.float32 and y.grad_fn.name() == "MulBackward0"
    y.backward(numtorch.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_p1_zeroes_everything():
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(3, 4), requires_grad=True)
        y = T.nn.functional.dropout(x, 1.0)
        y.sum().backward()
        return y, x.grad
    body()


def test_dropout_follows_numtorch_seed_and_float64():
    numtorch.manual_seed(7)
    a = numtorch.nn.functional.dropout(numtorch.ones(50, dtype=numtorch.float64), 0.5)
    numtorch.manual_seed(7)
    b = numtorch.nn.functional.dropout(numtorch.ones(50, dtype=numtorch.float64), 0.5)
    assert a.dtype is numtorch.float64
    assert np.array_equal(a.numpy(), b.numpy())
    assert set(np.unique(a.numpy())) <= {0.0, 2.0}


def test_dropout_inplace():
    x = numtorch.tensor(rand(20, 30) + 3)
    y = numtorch.nn.Dropout(0.5, inplace=True)(x)
    assert y is x
    assert (x.numpy() == 0).any() and x._version > 0


@pytest.mark.parametrize("case", [
    lambda T: T.nn.Dropout(1.5),
    lambda T: T.nn.functional.dropout(T.ones(3), -0.1),
])
def test_dropout_errors(case):
    compare(case, match_message=True)


# ---------------------------------------------------------------------- embedding
IDX = np.array([[1, 2, 1], [0, 4, 3]], dtype=np.int64)


@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(padding_idx=-1),
                                dict(scale_grad_by_freq=True),
                                dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0)])
def test_embedding(kw):
    check_layer(lambda T: T.nn.Embedding(5, 3, **kw), [IDX], steps=2)


def test_embedding_int32_indices_float64_and_1d():
    check_layer(lambda T: T.nn.Embedding(6, 4, padding_idx=0),
                [np.array([0, 5, 5, 1], dtype=np.int32)], dtype=np.float64)


def test_embedding_init_and_padding_row():
    numtorch.manual_seed(0)
    w = numtorch.nn.Embedding(2000, 50, padding_idx=3).weight.detach().numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1.0) < 0.01


def test_embedding_from_pretrained():
    @differential
    def body(T):
        table = T.tensor(rand(4, 3))
        frozen = T.nn.Embedding.from_pretrained(table)
        free = T.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
        idx = T.tensor([1, 3])
        return (frozen(idx), frozen.weight.requires_grad, free(idx), repr(free),
                free.weight.requires_grad)
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.embedding(T.tensor([5]), T.ones(3, 3)),
    lambda T: T.nn.functional.embedding(T.tensor([-1]), T.ones(3, 3)),
    lambda T: T.nn.functional.embedding(T.tensor([1.0]), T.ones(3, 3)),
    lambda T: T.nn.Embedding(3, 2, padding_idx=3),
    lambda T: T.nn.Embedding(3, 2, padding_idx=-4),
    lambda T: T.nn.Embedding(3, 2, _weight=T.ones(2, 2)),
])
def test_embedding_errors(case):
    compare(case, match_message=True)


# ---------------------------------------------------------------------- flatten / unflatten
@pytest.mark.parametrize("factory,shape", [
    (lambda T: T.nn.Flatten(), (2, 3, 4, 5)),
    (lambda T: T.nn.Flatten(0, 2), (2, 3, 4, 5)),
    (lambda T: T.nn.Flatten(-2), (2, 3, 4)),
    (lambda T: T.nn.Flatten(1, 1), (2, 3)),
    (lambda T: T.nn.Unflatten(1, (2, 3)), (4, 6, 2)),
    (lambda T: T.nn.Unflatten(-1, [2, -1]), (4, 6)),
])
def test_flatten_unflatten(factory, shape):
    check_layer(factory, [rand(*shape)])


def test_flatten_shares_data():
    @differential
    def body(T):
        x = T.tensor(rand(2, 3, 4))
        y = T.nn.Flatten()(x)
        x.add_(1)
        return y
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.Flatten(2, 1)(T.ones(2, 3, 4)),
    lambda T: T.nn.Flatten(4)(T.ones(2, 3, 4)),
    lambda T: T.nn.Unflatten(1, (2, 2))(T.ones(2, 6)),
    lambda T: T.nn.Unflatten(1, 3),
    lambda T: T.nn.Unflatten(1, (2, 1.5)),
])
def test_flatten_errors(case):
    compare(case)


@pytest.mark.parametrize("factory", [
    lambda T: T.nn.Dropout(), lambda T: T.nn.Dropout(0.2, inplace=True),
    lambda T: T.nn.Embedding(5, 3), lambda T: T.nn.Embedding(5, 3, padding_idx=-2),
    lambda T: T.nn.Embedding(5, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True),
    lambda T: T.nn.Embedding(5, 3, dtype=T.float64, _freeze=True),
    lambda T: T.nn.Flatten(), lambda T: T.nn.Flatten(0, 2),
    lambda T: T.nn.Unflatten(1, (2, 3)), lambda T: T.nn.Unflatten(-1, [4, -1]),
])
def test_structure(factory):
    check_structure(factory)


# ---------------------------------------------------------------------- pad
@pytest.mark.parametrize("pad,shape,kw", [
    ((1, 2), (3, 4), {}),
    ((1, 2, 0, 3), (2, 3, 4), dict(value=2.5)),
    ((1, -1, -2, 3), (2, 5, 4), {}),
    ((1, 1, 1, 1, 1, 1), (2, 3, 4), {}),
    ((1, 2), (2, 3, 5), dict(mode="reflect")),
    ((2, 1, 1, 3), (1, 2, 5, 4), dict(mode="reflect")),
    ((1, 2), (2, 3, 5), dict(mode="replicate")),
    ((2, 1, 3, 0), (2, 2, 4, 4), dict(mode="replicate")),
    ((1, 1, 2, 1, 1, 0), (1, 2, 3, 4, 3), dict(mode="replicate")),
    ((1, 2), (2, 3, 5), dict(mode="circular")),
    ((2, 1, 1, 3), (1, 2, 5, 4), dict(mode="circular")),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pad(pad, shape, kw, dtype):
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(*shape, dtype=dtype), requires_grad=True)
        y = T.nn.functional.pad(x, pad, **kw)
        y.backward(T.tensor(rand(*tuple(y.shape), dtype=dtype, seed=3)))
        return y, x.grad
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.pad(T.ones(2, 3), (1,)),
    lambda T: T.nn.functional.pad(T.ones(2, 3, 4, 4), (1, 1), mode="reflect"),
    lambda T: T.nn.functional.pad(T.ones(1, 2, 2), (2, 2), mode="reflect"),
])
def test_pad_errors(case):
    compare(case, match_message=True)


def test_layers_build_on_meta_device():
    @differential
    def body(T):
        layers = [T.nn.Linear(3, 2, device="meta"), T.nn.Conv2d(1, 2, 3, device="meta"),
                  T.nn.BatchNorm2d(3, device="meta"), T.nn.LayerNorm(3, device="meta"),
                  T.nn.Embedding(5, 3, padding_idx=0, device="meta"),
                  T.nn.PReLU(device="meta")]
        return [[(n, str(t.device), tuple(t.shape)) for n, t in m.state_dict().items()]
                for m in layers]
    body()


# ---------------------------------------------------------------------- normalize
@pytest.mark.parametrize("kw", [{}, dict(p=1.0), dict(p=3.0, dim=0), dict(dim=-1),
                                dict(dim=(1, 2)), dict(p=float("inf"), dim=2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize(kw, dtype):
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(3, 4, 5, dtype=dtype), requires_grad=True)
        y = T.nn.functional.normalize(x, **kw)
        y.backward(T.tensor(rand(3, 4, 5, dtype=dtype, seed=3)))
        return y, x.grad
    body()


def test_normalize_zero_rows_use_eps_and_out():
    @differential
    def body(T):
        x = T.tensor([[0.0, 0.0], [3.0, 4.0]])
        out = T.empty(2, 2)
        r = T.nn.functional.normalize(x, eps=1e-3, out=out)
        return T.nn.functional.normalize(x, dim=1), r is out, out
    body()
