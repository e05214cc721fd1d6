"""Creation functions against torch: dtype inference, memory sharing, ranges, fills, errors."""
import warnings

import numpy as np
import pytest

import numtorch
from harness import compare, differential

RNG = np.random.default_rng(0)

DATA = [
    1, 2.5, True, 1 + 2j, [1, 2], [1.0, 2], [True, False], [True, 2], [True, 2.5], [1, 2j],
    [[1, 2], [3, 4]], [[1.0], [2.0]], [], [[]], [[], []], ((1, 2), (3, 4)), [(1, 2), [3, 4]],
    np.float64(1.5), np.float32(1.5), np.int32(3), np.int16(2), np.bool_(True), np.uint8(7),
    np.complex64(1j), [np.float64(1.0), 2.0], [np.float32(1.0), 2.0], [np.int32(1), 2],
    [1, np.float32(2.0)], [np.int8(1), np.int64(2)], np.array([1, 2], dtype=np.int32),
    np.array([1.0, 2.0]), np.array([[1, 2]], dtype=np.uint8), np.array(5), np.array([True]),
    np.array([1.5], dtype=np.float16), [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
    np.zeros((2, 0)), 2 ** 40, [2 ** 40, 1], -0.0, float("inf"), [float("nan"), 1],
    2 ** 70, [2 ** 64], [1, 2 ** 63], -2 ** 63, [[2 ** 64]], 2 ** 63 - 1,
]


@pytest.mark.parametrize("data", DATA, ids=range(len(DATA)))
@differential
def test_tensor_infers_dtype_and_shape(T, data):
    return T.tensor(data)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "uint8", "bool",
                                   "complex64", "int64"])
@differential
def test_tensor_with_dtype(T, dtype):
    return T.tensor([[0.0, 1.7], [2.2, -0.0]], dtype=getattr(T, dtype)), \
        T.tensor([1, 0, 3], dtype=getattr(T, dtype))


@differential
def test_tensor_of_zero_dim_tensors(T):
    return T.tensor([T.tensor(1.5), T.tensor(2.0)]), T.tensor([T.tensor(1), T.tensor(2)])


@differential(match_message=True)
def test_tensor_of_multi_element_tensors(T):
    T.tensor([T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0])])


@differential(match_message=True)
def test_tensor_ragged(T):
    T.tensor([[1, 2], [3]])


@differential(match_message=True)
def test_tensor_ragged_deeper(T):
    T.tensor([[1, 2], [3, 4, 5]])


@differential(match_message=True)
def test_tensor_string(T):
    T.tensor(["a"])


@differential(match_message=True)
def test_tensor_object(T):
    T.tensor([object()])


@differential
def test_tensor_from_tensor_warns_and_copies(T):
    src = T.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = T.tensor(src)
    t[0] = 5.0 if not t.requires_grad else 5.0
    return t, t.requires_grad, src, [str(x.message)[:70] for x in w], w[0].category.__name__


@differential
def test_tensor_copies_numpy(T):
    a = np.array([1.0, 2.0])
    t = T.tensor(a)
    a[0] = 9.0
    return t


@differential
def test_tensor_requires_grad_and_device(T):
    t = T.tensor([1.0], requires_grad=True, device="cpu")
    return t, t.is_leaf, t.device


@differential(match_message=True)
def test_tensor_int_requires_grad(T):
    T.tensor([1], requires_grad=True)


@differential
def test_tensor_non_contiguous_numpy(T):
    a = np.arange(12.0).reshape(3, 4)[:, ::2]
    return T.tensor(a), T.as_tensor(a), T.from_numpy(np.ascontiguousarray(a))


# ------------------------------------------------------------------ as_tensor, from_numpy
@differential
def test_as_tensor_shares_numpy_memory(T):
    a = np.array([1.0, 2.0])
    t = T.as_tensor(a)
    a[0] = 7.0
    u = T.as_tensor(a, dtype=T.float32)
    a[1] = 8.0
    return t, u


@differential
def test_as_tensor_returns_same_tensor(T):
    t = T.tensor([1.0, 2.0])
    return T.as_tensor(t) is t, T.as_tensor(t, dtype=T.float64), T.as_tensor([1, 2]), \
        T.as_tensor(3.0), T.as_tensor(t, device="cpu") is t


@differential
def test_from_numpy_shares_memory(T):
    a = np.array([[1, 2], [3, 4]], dtype=np.int16)
    t = T.from_numpy(a)
    a[0, 0] = 100
    t[1, 1] = -5
    return t, a, T.from_numpy(np.array(2.5)), T.from_numpy(np.zeros((0, 3), np.float32))


@pytest.mark.parametrize("make", [lambda: np.array(["a"]), lambda: np.array([1.0], np.float128)
                                  if hasattr(np, "float128") else np.array([None]),
                                  lambda: np.array([None]), lambda: [1.0, 2.0],
                                  lambda: np.array([1, 2], dtype=">i4")],
                         ids=["str", "float128", "object", "list", "bigendian"])
@differential(match_message=True)
def test_from_numpy_errors(T, make):
    return T.from_numpy(make())


@pytest.mark.parametrize("dt", ["uint16", "uint32", "uint64", "int8", "float16", "complex128"])
@differential
def test_from_numpy_dtypes(T, dt):
    return T.from_numpy(np.array([1, 2], dtype=dt)).dtype


# ------------------------------------------------------------------ fills
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@differential
def test_fill_factories(T, name):
    f = getattr(T, name)
    outs = [f(2, 3), f((2, 3)), f([4]), f(()), f(0), f(2, dtype=T.int32), f(T.Size([1, 2])),
            f(3, dtype=T.bool), f(2, requires_grad=True), f(1, 2, dtype=T.float64)]
    if name == "empty":
        return [(o.shape, o.dtype, o.requires_grad) for o in outs]
    return outs


@differential(match_message=True)
def test_negative_size(T):
    T.zeros(2, -1)


@differential(match_message=True)
def test_size_of_floats(T):
    T.zeros(2.5)


@differential
def test_full(T):
    return (T.full((2, 2), 7), T.full((2,), 1.5), T.full((1,), True), T.full((2,), 2 + 1j),
            T.full((2,), 3, dtype=T.float64), T.full([3], float("inf")), T.full((), 4))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
@differential
def test_like_factories(T, name):
    f = getattr(T, name)
    base = T.tensor([[1.0, 2.0, 3.0]], dtype=T.float64, requires_grad=True)
    outs = [f(base), f(base, dtype=T.float32), f(base, requires_grad=True)]
    return [(o.shape, o.dtype, o.requires_grad, o.device) for o in outs] + \
        ([outs[0]] if name in ("zeros_like", "ones_like") else [])


@differential
def test_full_like(T):
    base = T.tensor([1, 2, 3])
    return T.full_like(base, 7), T.full_like(base, 2.7), T.full_like(base, 2.5, dtype=T.float32)


@differential
def test_meta_factories(T):
    m = T.zeros(2, 3, device="meta")
    return m.device, m.shape, T.ones_like(m).device, T.empty(4, device="meta").dtype, \
        T.full((2,), 3, device="meta").dtype


# ------------------------------------------------------------------ ranges
ARANGE = [(5,), (1, 4), (0, 1, 0.1), (1, 2.5, 0.5), (-1, 1, 0.3), (10, 0, -3), (0, 0.9, 0.3),
          (0.0, 1.0, 0.1), (1.5,), (2, 12, 3), (0, 1e-3, 1e-4), (-3.7, 8.1, 0.7),
          (0, 100.5, 0.25), (5, 5), (0, 10, 7)]


@pytest.mark.parametrize("args", ARANGE, ids=[str(a) for a in ARANGE])
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64", "float16", "int32"])
@differential
def test_arange(T, args, dtype):
    kw = {} if dtype is None else {"dtype": getattr(T, dtype)}
    return T.arange(*args, **kw)


@differential(match_message=True)
def test_arange_zero_step(T):
    T.arange(0, 1, 0)


@differential(match_message=True)
def test_arange_wrong_sign(T):
    T.arange(0, 10, -1)


@differential
def test_arange_tensor_bounds(T):
    return T.arange(T.tensor(3)), T.arange(T.tensor(1.0), 3)


LINSPACE = [(0, 1, 5), (-1.3, 2.7, 100), (3, -7.77, 101), (1e-3, 1e3, 1001), (0.1, 0.7, 33),
            (2, 2, 4), (0, 1, 1), (0, 1, 0), (5, 1, 2), (-10, 10, 2049), (0, 1, 5000),
            (1.0, 1.1, 7)]


@pytest.mark.parametrize("args", LINSPACE, ids=[str(a) for a in LINSPACE])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_exact(args, dtype):
    import torch
    t = torch.linspace(*args, dtype=getattr(torch, dtype)).numpy()
    n = numtorch.linspace(*args, dtype=getattr(numtorch, dtype)).numpy()
    assert n.dtype == t.dtype
    np.testing.assert_array_equal(n, t)


@pytest.mark.parametrize("seed", range(20))
def test_linspace_exact_random(seed):
    import torch
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(2) * 10.0 ** rng.integers(-3, 4)
    steps = int(rng.integers(2, 3000))
    for dt in ("float32", "float64"):
        t = torch.linspace(a, b, steps, dtype=getattr(torch, dt)).numpy()
        n = numtorch.linspace(a, b, steps, dtype=getattr(numtorch, dt)).numpy()
        np.testing.assert_array_equal(n, t)


@pytest.mark.parametrize("dtype", [None, "int64", "int32", "float16", "bfloat16", "complex64"])
@differential
def test_linspace_dtypes(T, dtype):
    kw = {} if dtype is None else {"dtype": getattr(T, dtype)}
    return T.linspace(-3, 7, 9, **kw), T.linspace(0, 1, 4, **kw)


@differential(match_message=True)
def test_linspace_negative_steps(T):
    T.linspace(0, 1, -1)


@differential
def test_logspace(T):
    return T.logspace(0, 2, 5), T.logspace(-1, 1, 3, base=2.0, dtype=T.float64)


@differential
def test_eye(T):
    return T.eye(3), T.eye(2, 4), T.eye(3, dtype=T.int64), T.eye(0), T.eye(3, 1,
                                                                         requires_grad=True)


@differential(match_message=True)
def test_eye_negative(T):
    T.eye(-1)


@differential
def test_scalar_tensor(T):
    return T.scalar_tensor(3), T.scalar_tensor(2.5, dtype=T.float64), T.scalar_tensor(True)


@differential
def test_asarray(T):
    a = np.array([1.0, 2.0])
    t = T.asarray(a)
    a[0] = 5.0
    src = T.tensor([1, 2])
    c = T.asarray(src, copy=True)
    c[0] = 9
    return (t, T.asarray([1, 2]), T.asarray(3.5), T.asarray(src) is src, src,
            T.asarray(a, dtype=T.float32), T.asarray([1.0], requires_grad=True))


@differential(match_message=True)
def test_asarray_no_copy_impossible(T):
    T.asarray(np.array([1.0, 2.0]), dtype=T.float32, copy=False)


@differential
def test_frombuffer_shares_memory(T):
    buf = bytearray(np.arange(6, dtype=np.int32).tobytes())
    t = T.frombuffer(buf, dtype=T.int32)
    t[0] = 42
    return (t, np.frombuffer(buf, dtype=np.int32)[0], T.frombuffer(buf, dtype=T.int32, count=2,
                                                                   offset=4),
            T.frombuffer(buf, dtype=T.int16).shape)


@differential(match_message=True)
def test_frombuffer_bad_length(T):
    T.frombuffer(bytearray(5), dtype=T.int32)


@pytest.mark.parametrize("seed", range(30))
def test_tensor_random_nested_python_data(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(0, 4, size=int(rng.integers(0, 4))))
    kinds = rng.choice(["bool", "int", "float", "complex", "np32", "np64"],
                       size=int(rng.integers(1, 3)))

    def leaf():
        k = kinds[int(rng.integers(len(kinds)))]
        v = rng.standard_normal() * 100
        return {"bool": lambda: bool(v > 0), "int": lambda: int(v), "float": lambda: float(v),
                "complex": lambda: complex(v, 1.5), "np32": lambda: np.float32(v),
                "np64": lambda: np.float64(v)}[k]()

    def build(dims):
        if not dims:
            return leaf()
        return [build(dims[1:]) for _ in range(dims[0])]
    data = build(shape)
    compare(lambda T: T.tensor(data))


@differential
def test_size_keyword(T):
    return [(t.shape, t.dtype) for t in (T.zeros(size=(2, 3)), T.ones(size=[4]),
                                         T.empty(size=(1, 2), dtype=T.int32),
                                         T.randn(size=(3,)), T.rand(size=(2, 2)))]


@differential
def test_arange_keywords(T):
    return T.arange(end=5), T.arange(start=1, end=4), T.arange(0, end=3, step=0.5)


@pytest.mark.parametrize("data,dtype", [
    ([-1], "uint8"), (-1, "uint8"), ([-255], "uint8"), ([-256], "uint8"), ([300, -2], "uint8"),
    ([True, -1], "uint8"), ([-1.0], "uint8"), ([255.9], "uint8"), ([127.5], "int8"),
    ([-129], "int8"), ([float("nan")], "int32"), ([2.0 ** 63], "int64"), ([1e10], "int32"),
    (np.array([-1, 300]), "uint8"), (np.array([-1.5, 300.0]), "uint8"),
    (np.array([2 ** 40]), "int32")], ids=range(16))
@differential(match_message=True)
def test_integer_range_of_python_numbers(T, data, dtype):
    """Python ints wrap into unsigned types from -max on; floats must fit; arrays just cast."""
    return T.tensor(data, dtype=getattr(T, dtype))
