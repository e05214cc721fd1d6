"""Tensor repr must be character-for-character torch's."""
import math

import numpy as np
import pytest
import torch

import numtorch

RNG = np.random.default_rng(0)


def _both(arr, **kw):
    return torch.tensor(arr, **kw), numtorch.tensor(arr, **kw)


def _check(make):
    expected = repr(make(torch))
    actual = repr(make(numtorch))
    assert actual == expected, f"\ntorch:\n{expected}\nnumtorch:\n{actual}"


VALUES = [
    [1.0, 2.0, 3.0], [0.1, 0.25, -3.5], [1e-5, 1.0], [1e9, 1.0], [1234.5, 0.5], [0.0, 0.0],
    [float("nan"), 1.0], [float("inf"), -float("inf"), 2.5], [float("nan")], [-0.0, 1.0],
    [123456789.0], [1e-10, 1e10, -3.0], [0.1] * 30, [100.0, 0.1], [1.5, -2.25, 1000.125],
    [3.0], [[1.0, 2.0], [3.0, 4.0]], [[[0.5, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]],
    [float("nan"), float("inf")], [1e-4, 1.0], [99999.5, 0.01],
]


@pytest.mark.parametrize("vals", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_float_values(vals, dtype):
    _check(lambda T: T.tensor(vals, dtype=getattr(T, dtype)))


@pytest.mark.parametrize("vals", [[1, 2, 3], [-100, 5, 123456789], [[1, -2], [3, 4]], [0],
                                  [2 ** 62, -1]])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_int_values(vals, dtype):
    a = np.array(vals)
    if np.iinfo(getattr(np, dtype)).max < np.abs(a).max() or (dtype == "uint8" and a.min() < 0):
        pytest.skip("out of range for dtype")
    _check(lambda T: T.tensor(vals, dtype=getattr(T, dtype)))


@pytest.mark.parametrize("make", [
    lambda T: T.tensor([True, False, True]),
    lambda T: T.tensor(True),
    lambda T: T.tensor(3.5),
    lambda T: T.tensor(-7),
    lambda T: T.tensor(2.0, dtype=T.float64),
    lambda T: T.tensor([1 + 2j, -3.5 - 0.5j]),
    lambda T: T.tensor([[1 + 2j, 0j], [1e-5j, 3 + 0j]], dtype=T.complex128),
    lambda T: T.tensor(1 - 1j),
    lambda T: T.tensor([]),
    lambda T: T.tensor([], dtype=T.int64),
    lambda T: T.zeros(0, 3),
    lambda T: T.zeros(2, 0, dtype=T.float64),
    lambda T: T.zeros(0, dtype=T.bool),
    lambda T: T.zeros(3, 4, device="meta"),
    lambda T: T.zeros(5, dtype=T.int32, device="meta"),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    lambda T: T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True) + 1,
    lambda T: T.nn.Parameter(T.tensor([1.0, 2.0])),
    lambda T: T.nn.Parameter(T.tensor([1.0, 2.0]), requires_grad=False),
    lambda T: T.ones(3, dtype=T.float16, requires_grad=True),
], ids=range(22))
def test_special_tensors(make):
    _check(make)


@pytest.mark.parametrize("shape", [(100,), (25, 4), (3, 50), (1001,), (40, 40), (2, 3, 400),
                                   (7, 8, 9, 3), (2000,), (1, 1, 1), (12, 1)])
@pytest.mark.parametrize("kind", ["normal", "int", "wide", "tiny"])
def test_shapes_wrapping_and_summarisation(shape, kind):
    n = int(np.prod(shape))
    base = RNG.standard_normal(n)
    arr = {"normal": base, "int": np.round(base * 50), "wide": base * 1e6,
           "tiny": base * 1e-6}[kind].reshape(shape)
    _check(lambda T: T.tensor(arr, dtype=T.float32))
    if kind == "int":
        _check(lambda T: T.tensor(arr.astype(np.int64)))


@pytest.mark.parametrize("opts", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                  dict(threshold=5), dict(linewidth=40), dict(edgeitems=1,
                                                                              threshold=3),
                                  dict(profile="short"), dict(profile="full")])
def test_printoptions(opts):
    arr = RNG.standard_normal((4, 12)) * 123.0
    try:
        torch.set_printoptions(**opts)
        numtorch.set_printoptions(**opts)
        _check(lambda T: T.tensor(arr, dtype=T.float32))
        _check(lambda T: T.arange(30))
        _check(lambda T: T.tensor([1e-6, 1.0], requires_grad=True))
    finally:
        torch.set_printoptions(profile="default")
        numtorch.set_printoptions(profile="default")


def test_suffix_wraps_past_linewidth():
    arr = np.arange(14, dtype=np.float64) + 0.5
    _check(lambda T: T.tensor(arr, dtype=T.float64, requires_grad=True))
    _check(lambda T: T.tensor(arr[:11], dtype=T.float16, requires_grad=True) * 2)


def test_default_dtype_changes_suffixes():
    try:
        torch.set_default_dtype(torch.float64)
        numtorch.set_default_dtype(numtorch.float64)
        _check(lambda T: T.tensor([1.5, 2.0]))
        _check(lambda T: T.tensor([1.5, 2.0], dtype=T.float32))
        _check(lambda T: T.tensor([1 + 1j]))
        _check(lambda T: T.zeros(0, dtype=T.float32))
    finally:
        torch.set_default_dtype(torch.float32)
        numtorch.set_default_dtype(numtorch.float32)


def test_str_and_format_match():
    for make in (lambda T: T.tensor([1.0, 2.5]), lambda T: T.tensor(3.25)):
        assert str(make(numtorch)) == str(make(torch))
    assert f"{numtorch.tensor(3.25):.1f}" == f"{torch.tensor(3.25):.1f}"
    assert numtorch._printing.get_printoptions() == torch._tensor_str.get_printoptions()


@pytest.mark.parametrize("seed", range(40))
def test_random_tensors(seed):
    rng = np.random.default_rng(1000 + seed)
    ndim = int(rng.integers(0, 5))
    shape = tuple(int(s) for s in rng.integers(1, 9 if ndim < 3 else 5, size=ndim))
    scale = 10.0 ** rng.integers(-6, 9)
    vals = rng.standard_normal(shape) * scale
    if rng.random() < 0.3:
        vals = np.round(vals)
    if rng.random() < 0.2 and vals.size > 1:
        vals.flat[int(rng.integers(vals.size))] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
    dtype = str(rng.choice(["float32", "float64", "float16", "bfloat16", "int64", "int32",
                            "complex64", "bool"]))
    if dtype.startswith("int"):
        vals = np.nan_to_num(np.clip(vals, -1e9, 1e9)).astype(np.int64)
    elif dtype == "bool":
        vals = vals > 0
    elif dtype == "complex64":
        vals = vals + 1j * rng.standard_normal(shape) * scale
    requires_grad = dtype.startswith(("float", "bfloat")) and rng.random() < 0.3
    _check(lambda T: T.tensor(vals, dtype=getattr(T, dtype), requires_grad=requires_grad))


@pytest.mark.parametrize("seed", range(12))
def test_random_tensors_with_options(seed):
    rng = np.random.default_rng(2000 + seed)
    opts = dict(precision=int(rng.integers(1, 7)), linewidth=int(rng.integers(30, 120)),
                threshold=int(rng.integers(5, 200)), edgeitems=int(rng.integers(1, 4)))
    shape = tuple(int(s) for s in rng.integers(1, 12, size=int(rng.integers(1, 4))))
    vals = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 5)
    dtype = str(rng.choice(["float32", "float64", "complex64", "int64"]))
    if dtype == "int64":
        vals = np.round(vals * 100).astype(np.int64)
    elif dtype == "complex64":
        vals = vals + 1j * rng.standard_normal(shape)
    try:
        torch.set_printoptions(**opts)
        numtorch.set_printoptions(**opts)
        _check(lambda T: T.tensor(vals, dtype=getattr(T, dtype)))
    finally:
        torch.set_printoptions(profile="default")
        numtorch.set_printoptions(profile="default")
