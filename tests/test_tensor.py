"""The Tensor class API (metadata, autograd state, conversions, Python protocols) against torch."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import numtorch
from harness import compare, differential

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3)).astype(np.float32)
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
          "bool", "complex64", "complex128"]


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("name", DTYPES + ["float", "double", "half", "long", "int", "short",
                                           "cfloat", "cdouble"])
def test_dtype_objects(name):
    import torch
    t, n = getattr(torch, name), getattr(numtorch, name)
    assert repr(n) == repr(t) and str(n) == str(t)
    assert (n.is_floating_point, n.is_complex, n.is_signed, n.itemsize) == \
        (t.is_floating_point, t.is_complex, t.is_signed, t.itemsize)
    assert pickle.loads(pickle.dumps(n)) is n


@differential
def test_dtype_identity_and_equality(T):
    return (T.float32 is T.float, T.float64 == T.double, T.int64 != T.int32,
            T.float32 in {T.float}, T.float32.to_complex(), T.complex128.to_real())


@pytest.mark.parametrize("name", DTYPES)
@differential
def test_tensor_dtype_and_element_size(T, name):
    dt = getattr(T, name)
    t = T.tensor(np.array([1, 0, 1]).astype(str(np.dtype(np.bool_) if name == "bool" else
                                                   np.int8)), dtype=dt)
    return t.dtype, t.element_size(), t.is_floating_point(), t.is_complex(), t.type()


@differential
def test_default_dtype(T):
    before = T.get_default_dtype()
    T.set_default_dtype(T.float64)
    try:
        a = T.tensor([1.0, 2.0])
        b = T.tensor([1j])
        c = T.zeros(2)
        d = T.arange(0.0, 1.0, 0.5)
        mid = T.get_default_dtype()
    finally:
        T.set_default_dtype(T.float32)
    return before, mid, a, b, c, d, T.tensor([1.0])


@differential(match_message=True)
def test_set_default_dtype_rejects_int(T):
    T.set_default_dtype(T.int64)


# ------------------------------------------------------------------ metadata
@differential
def test_shape_size_dim(T):
    t = T.tensor(np.zeros((2, 3, 4), np.float32))
    return (t.shape, t.size(), t.size(1), t.size(-1), t.dim(), t.ndim, t.numel(), t.nelement(),
            t.ndimension(), len(t), t.shape[1:], t.stride(), t.is_contiguous(), t.device,
            t.is_cuda, t.is_cpu, t.is_meta, t.requires_grad, t.is_leaf, t.grad_fn, t.grad)


@differential(match_message=True)
def test_size_dim_out_of_range(T):
    T.zeros(2, 3).size(2)


@differential
def test_size_object(T):
    s = T.zeros(2, 3).shape
    return repr(s), s.numel(), s + (4,), type(s[0:1]).__name__, s == (2, 3), list(s)


@differential
def test_zero_dim(T):
    t = T.tensor(2.5)
    return t.shape, t.dim(), t.numel(), t.item(), t.tolist(), float(t), int(t), bool(t)


@differential(match_message=True)
def test_len_of_zero_dim(T):
    len(T.tensor(1.0))


@differential(match_message=True)
def test_iter_of_zero_dim(T):
    iter(T.tensor(1.0))


@differential
def test_iteration(T):
    return [row for row in T.tensor(A)], list(T.tensor([1, 2, 3]))


# ------------------------------------------------------------------ conversion to Python
@pytest.mark.parametrize("name", DTYPES)
@differential
def test_item_and_tolist(T, name):
    arr = np.array([[1.5, -2.0], [0.25, 3.0]])
    if name == "bool":
        arr = arr > 0
    elif name[0] in "iu":
        arr = np.abs(arr).astype(np.int64)
    t = T.tensor(arr, dtype=getattr(T, name))
    return t.tolist(), t[0, 0].item(), type(t[0, 0].item()).__name__, t[1, 1].tolist()


@differential(match_message=True)
def test_item_of_many_elements(T):
    T.zeros(3).item()


@differential
def test_python_number_protocols(T):
    f, i, b = T.tensor([2.75]), T.tensor(3), T.tensor([True])
    return (float(f), int(f), int(i), bool(b), complex(f), [10, 20, 30, 40][i], hex(i),
            float(T.tensor(7)), bool(T.tensor(0.0)))


@differential(match_message=True)
def test_bool_of_many(T):
    bool(T.tensor([1, 2]))


@differential(match_message=True)
def test_index_of_float(T):
    [1, 2][T.tensor(1.0)]


@differential(match_message=True)
def test_float_of_many(T):
    float(T.tensor([1.0, 2.0]))


# ------------------------------------------------------------------ numpy interop
@differential
def test_numpy_shares_memory(T):
    t = T.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 5.0
    return t, type(a).__name__, a.dtype.name


@differential(match_message=True)
def test_numpy_requires_grad(T):
    T.tensor([1.0], requires_grad=True).numpy()


@differential
def test_numpy_force_and_detach(T):
    t = T.tensor([1.0], requires_grad=True)
    return t.detach().numpy(), t.numpy(force=True)


@differential
def test_array_protocol(T):
    t = T.tensor([[1, 2], [3, 4]])
    return np.asarray(t), np.asarray(t, dtype=np.float64), np.array(t).dtype.name, \
        np.add(np.ones(2), T.tensor([1.0, 2.0]).numpy())


@differential(match_message=True)
def test_array_protocol_requires_grad(T):
    np.asarray(T.tensor([1.0], requires_grad=True))


# ------------------------------------------------------------------ grad, data
@differential(match_message=True)
def test_grad_setter_wrong_type(T):
    T.zeros(2, requires_grad=True).grad = 3


@differential(match_message=True)
def test_grad_setter_wrong_shape(T):
    T.zeros(2, requires_grad=True).grad = T.zeros(3)


@differential(match_message=True)
def test_grad_setter_wrong_dtype(T):
    T.zeros(2, requires_grad=True).grad = T.zeros(2, dtype=T.float64)


@differential
def test_grad_setter_and_deleter(T):
    x = T.zeros(2, requires_grad=True)
    x.grad = T.ones(2)
    (x * 3).sum().backward()
    g = x.grad.clone()
    del x.grad
    return g, x.grad


@differential
def test_data_getter_and_setter(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    d[0] = 9.0
    x.data = T.tensor([5.0, 6.0, 7.0], dtype=T.float64)
    return d, d.requires_grad, x, x.requires_grad, x.is_leaf


@differential
def test_data_setter_keeps_graph_usable(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    x.data = T.tensor([3.0, 4.0])
    (x * x).sum().backward()
    return x.grad


# ------------------------------------------------------------------ to and casts
@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "long", "int", "bool",
                                    "short", "char", "byte", "cfloat"])
@differential
def test_cast_methods(T, method):
    t = T.tensor([[1.7, -2.2], [0.0, 3.5]])
    return getattr(t, method)()


@differential
def test_cast_returns_self_when_unchanged(T):
    t = T.tensor([1.0])
    return t.float() is t, t.to(T.float32) is t, t.to("cpu") is t, t.cpu() is t, \
        t.to(T.float32, copy=True) is t, t.to(t) is t


@differential
def test_to_variants(T):
    t = T.tensor([1.5, 2.5])
    other = T.tensor([1], dtype=T.int32)
    return (t.to(T.float64), t.to("cpu", T.int64), t.to(device="cpu", dtype=T.float16),
            t.to(other), t.to(dtype=T.bfloat16, non_blocking=True), t.to(T.device("cpu")),
            t.to("cpu", copy=True), t.to(None, T.float64))


@differential
def test_to_is_differentiable(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(T.float64)
    (y * y).sum().backward()
    return y, y.grad_fn.name(), x.grad, x.int().requires_grad


@differential(match_message=True)
def test_to_bad_argument(T):
    T.tensor([1.0]).to("banana")


@differential
def test_cuda_without_cuda(T):
    res = []
    for f in (lambda: T.tensor(1).cuda(), lambda: T.tensor(1.0).to("cuda"),
              lambda: T.zeros(2, device="cuda"), lambda: T.tensor([1.0], device="cuda:0")):
        try:
            f()
        except Exception as e:  # noqa: BLE001
            res.append((type(e).__name__, str(e)))
    return res


@differential
def test_type_and_type_as(T):
    t = T.tensor([1.5, -2.5])
    return (t.type(), t.type(T.int32), t.type("torch.DoubleTensor"), t.type_as(T.tensor([1])),
            T.tensor([1]).type(), T.tensor([True]).type(), T.tensor([1.0]).half().type())


@differential
def test_meta_tensors(T):
    m = T.zeros(2, 3, device="meta")
    y = m * 2
    return (m.shape, m.dtype, m.device, m.is_meta, y.device, y.shape, y.is_meta,
            T.ones(2, dtype=T.int32).to("meta").dtype, m.to("meta") is m)


@differential(match_message=True)
def test_meta_item(T):
    T.zeros(1, device="meta").item()


@differential(match_message=True)
def test_meta_numpy(T):
    T.zeros(1, device="meta").numpy()


@differential(match_message=True)
def test_meta_to_cpu(T):
    T.zeros(1, device="meta").cpu()


# ------------------------------------------------------------------ copies
@differential
def test_clone_and_contiguous(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    (c * 2).sum().backward()
    return c, c.grad_fn.name(), x.grad, x.contiguous() is x


@differential
def test_deepcopy_leaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    y.data[0] = 5.0
    return x, y, y.grad, y.grad is x.grad, y.requires_grad, y.is_leaf


@differential(match_message=True)
def test_deepcopy_non_leaf(T):
    copy.deepcopy(T.tensor([1.0], requires_grad=True) * 2)


@differential
def test_shallow_copy(T):
    x = T.tensor([1.0, 2.0])
    y = copy.copy(x)
    y[0] = 3.0
    return x, y, y is x


@differential
def test_deepcopy_shared_in_container(T):
    x = T.tensor([1.0, 2.0])
    a, b = copy.deepcopy([x, x])
    return a is b, a


@differential
def test_pickle_roundtrip(T):
    x = T.tensor([[1.0, 2.0]], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    return y, y.requires_grad


# ------------------------------------------------------------------ misc protocol
@differential
def test_hash_and_identity(T):
    t = T.tensor([1.0])
    d = {t: 1}
    return d[t], hash(t) == id(t)


@differential
def test_format(T):
    return f"{T.tensor(3.14159):.2f}", f"{T.tensor(7)}", format(T.tensor([1.0]))


@differential
def test_version_counter(T):
    t = T.tensor([1.0, 2.0])
    v0 = t._version
    t.add_(1)
    t.mul_(2)
    d = t.detach()
    d.add_(1)
    return v0, t._version, d._version


@differential
def test_tensor_is_tensor(T):
    return T.is_tensor(T.tensor(1)), T.is_tensor(1), T.is_floating_point(T.tensor(1.0)), \
        T.numel(T.zeros(2, 3)), isinstance(T.tensor(1), T.Tensor)


@differential
def test_legacy_constructor(T):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return T.Tensor([1, 2]), T.Tensor(2, 3).shape, T.Tensor().shape, T.Tensor(2, 3).dtype


@differential
def test_requires_grad_property_and_method(T):
    x = T.zeros(2)
    r = x.requires_grad_()
    y = T.zeros(2)
    y.requires_grad = True
    y.requires_grad_(False)
    return r is x, x.requires_grad, y.requires_grad, T.zeros(2, dtype=T.complex64).requires_grad_()


# ------------------------------------------------------------------ new_* and storage facts
@differential
def test_new_factories(T):
    base = T.tensor([[1, 2]], dtype=T.int32)
    fl = T.tensor([1.0], dtype=T.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nt = base.new_tensor(T.tensor([3, 4]))
    return (base.new_zeros(2, 3), base.new_zeros((2,)), base.new_ones([1, 2]),
            base.new_full((2,), 7), base.new_tensor([1.5, 2.5]), fl.new_tensor([1, 2]),
            base.new_empty(3).shape, base.new_empty(3).dtype, fl.new_zeros(2, dtype=T.float16),
            fl.new_ones(2, requires_grad=True), base.new(2, 3).shape, base.new([5, 6]),
            base.new().shape, nt, fl.new_full((1, 2), 2.5))


@differential
def test_storage_facts(T):
    t = T.zeros(4, 5, dtype=T.float64)
    v = t[1:, 2:]
    return (t.get_device(), t.storage_offset(), v.storage_offset(), t.nbytes, v.nbytes,
            t.itemsize, t.is_sparse, t.is_quantized, t.is_nested, t.is_signed(),
            T.zeros(1, dtype=T.uint8).is_signed(), t.is_shared(), t.share_memory_() is t,
            t.is_pinned(), t.data_ptr() == t.numpy().ctypes.data, v.data_ptr() - t.data_ptr(),
            (t * 2).output_nr)


@differential
def test_post_accumulate_grad_hook(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    (x * 3).sum().backward()
    (x * 1).sum().backward()
    h.remove()
    (x * 1).sum().backward()
    return seen, x.grad


@differential(match_message=True)
def test_post_accumulate_grad_hook_non_leaf(T):
    (T.tensor([1.0], requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


# ------------------------------------------------------------------ dtype helpers
@pytest.mark.parametrize("name", [None, "float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
@differential
def test_finfo(T, name):
    f = T.finfo() if name is None else T.finfo(getattr(T, name))
    return repr(f), f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, f.dtype


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
@differential
def test_iinfo(T, name):
    i = T.iinfo(getattr(T, name))
    return repr(i), i.bits, i.max, i.min, i.dtype


@pytest.mark.parametrize("make", [lambda T: T.finfo(T.int32), lambda T: T.iinfo(T.float32),
                                  lambda T: T.iinfo(T.bool)], ids=range(3))
@differential(match_message=True)
def test_info_errors(T, make):
    make(T)


@differential
def test_can_cast_and_result_type(T):
    names = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64",
             "complex64"]
    casts = [T.can_cast(getattr(T, a), getattr(T, b)) for a in names for b in names]
    rt = [T.result_type(T.tensor([1]), 1.0), T.result_type(T.tensor([1], dtype=T.int8),
                                                           T.tensor(1000)),
          T.result_type(2, 3.0), T.result_type(T.tensor(1.0, dtype=T.float64), T.tensor([1])),
          T.result_type(T.tensor([True]), 5), T.result_type(T.tensor([1.0]), 1j)]
    return casts, rt


@differential
def test_legacy_tensor_types(T):
    return (T.FloatTensor([1, 2]), T.LongTensor([1.7, 2.2]), T.LongTensor(2, 3).shape,
            T.DoubleTensor(2).dtype, T.BoolTensor([1, 0]), T.ByteTensor([3]), T.IntTensor([1]),
            isinstance(T.zeros(1), T.FloatTensor), isinstance(T.zeros(1), T.LongTensor),
            isinstance(T.zeros(1, dtype=T.int64), T.LongTensor), T.HalfTensor([1]).dtype,
            T.typename(T.zeros(1, dtype=T.int32)), T.typename(1), T.typename(T.zeros(1)))


@differential
def test_is_nonzero(T):
    return T.is_nonzero(T.tensor([0.0])), T.is_nonzero(T.tensor(3)), T.is_nonzero(
        T.tensor([[True]]))


@pytest.mark.parametrize("data", [[], [1, 2]], ids=["empty", "many"])
@differential(match_message=True)
def test_is_nonzero_errors(T, data):
    T.is_nonzero(T.tensor(data))


@pytest.mark.parametrize("name", ["bfloat16", "float8_e4m3fn"])
@differential(match_message=True)
def test_numpy_of_unsupported_dtype(T, name):
    T.zeros(2).to(getattr(T, name)).numpy()


@differential(match_message=True)
def test_bool_of_empty(T):
    bool(T.tensor([]))


@differential
def test_to_positional_non_blocking_and_copy(T):
    t = T.tensor([1.0, 2.0])
    return (t.to(T.float32, True) is t, t.to(T.float32, False, True) is t,
            t.to("cpu", T.float32, False, True) is t, t.to(t, True, True) is t)


@pytest.mark.parametrize("make", [
    lambda T, s: repr(T.Size([])), lambda T, s: (1,) + s, lambda T, s: s + (4,), lambda T, s: s * 2,
    lambda T, s: 2 * s, lambda T, s: s[1:], lambda T, s: s[-1], lambda T, s: s == (2, 3),
    lambda T, s: s == [2, 3], lambda T, s: hash(s) == hash((2, 3)), lambda T, s: T.Size([2.5]),
    lambda T, s: T.Size((True, 2)), lambda T, s: str(s), lambda T, s: s.numel(),
    lambda T, s: T.Size([]).numel(), lambda T, s: s.count(2), lambda T, s: s.index(3),
    lambda T, s: T.Size(T.tensor([2, 3])), lambda T, s: [type(v).__name__ for v in
                                                         T.Size([T.tensor(2)])],
    lambda T, s: s + [4], lambda T, s: pickle.loads(pickle.dumps(s)),
    lambda T, s: T.zeros(2, 3).shape[1:] + T.zeros(4).shape,
], ids=range(22))
@differential(match_message=True)
def test_size_behaviour(T, make):
    r = make(T, T.Size([2, 3]))
    return (type(r).__name__, tuple(r)) if isinstance(r, tuple) else r
