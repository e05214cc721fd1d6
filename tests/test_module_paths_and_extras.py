"""torch's module paths (``nn.modules.batchnorm``, ``nn.modules.utils`` ...), Module.share_memory
and Module.compile, nn.utils.get_total_norm and clip_grads_with_norm_, Module.to's argument
errors, Flatten/Unflatten of 0-d input, orthogonal_'s sign correction, and assigning a module
over a parameter, against torch."""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import numtorch
from harness import compare, differential
from test_module import compare_error

MODULE_FILES = ["activation", "batchnorm", "container", "conv", "dropout", "flatten", "linear",
                "loss", "module", "normalization", "pooling", "sparse", "transformer", "utils"]


def _submodule(T, name: str):
    return importlib.import_module(f"{T.__name__}.nn.modules.{name}")


@pytest.mark.parametrize("name", MODULE_FILES)
def test_torch_module_files_hold_the_layers_numtorch_has(name):
    """``from torch.nn.modules.<file> import X`` works under numtorch for every layer X of
    torch's file that numtorch has (MultiheadAttention from ``activation`` too), and numtorch's
    files export nothing torch's lack."""
    import torch
    ours, theirs = _submodule(numtorch, name), _submodule(torch, name)
    for layer in getattr(theirs, "__all__", []):
        if hasattr(numtorch.nn, layer):
            assert getattr(ours, layer) is getattr(numtorch.nn, layer), (name, layer)
    for layer in getattr(ours, "__all__", []):
        assert hasattr(theirs, layer), f"torch.nn.modules.{name} has no {layer}"
    if name == "linear":
        assert ours.NonDynamicallyQuantizableLinear.__mro__[1] is numtorch.nn.Linear


@differential
def test_batchnorm_classes_at_torchs_path(T):
    bn = _submodule(T, "batchnorm")
    layers = [T.nn.BatchNorm1d(3), T.nn.BatchNorm2d(3), T.nn.BatchNorm3d(3), T.nn.LayerNorm(3)]
    x = T.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2, 2)).astype(np.float32))
    return ([isinstance(m, bn._BatchNorm) for m in layers],
            [isinstance(m, bn._NormBase) for m in layers],
            [type(m).__name__ for m in layers], T.nn.BatchNorm3d(3)(x),
            list(T.nn.BatchNorm3d(3).state_dict()), repr(T.nn.BatchNorm3d(4, affine=False)))


@differential(match_message=True)
def test_batchnorm3d_wants_5d_input(T):
    return T.nn.BatchNorm3d(3)(T.ones(2, 3, 4))


@differential
def test_modules_utils_helpers(T):
    u = _submodule(T, "utils")
    return (u._single(2), u._pair(3), u._pair([1, 2]), u._triple((1, 2, 3)), u._quadruple(0),
            u._pair("ab"), u._reverse_repeat_tuple((1, 2), 2),
            u._list_with_default([None, 3], [1, 2, 5, 6]), u._list_with_default(4, [1]),
            u._pair.__name__)


@differential(match_message=True)
def test_list_with_default_needs_a_longer_default(T):
    return _submodule(T, "utils")._list_with_default([1, 2], [1, 2])


@differential
def test_consume_prefix_at_torchs_path(T):
    net = T.nn.Sequential(T.nn.Linear(2, 2))
    state = {"module." + k: v for k, v in net.state_dict().items()}
    _submodule(T, "utils").consume_prefix_in_state_dict_if_present(state, "module.")
    return list(state), tuple(net.load_state_dict(state))


@differential
def test_convolution_padding_attributes(T):
    layers = [T.nn.Conv2d(2, 3, 3, padding=1), T.nn.Conv2d(2, 3, 3, padding="same"),
              T.nn.Conv2d(2, 3, (3, 5), padding=(1, 2)), T.nn.Conv1d(2, 3, 3)]
    return [(m._reversed_padding_repeated_twice, m.kernel_size, m.stride, m.padding)
            for m in layers]


# ------------------------------------------------------------------ share_memory, compile
@differential
def test_share_memory_returns_the_module(T):
    m = T.nn.Linear(2, 2)
    weight = m.weight
    return m.share_memory() is m, m.weight is weight


def test_share_memory_is_documented_as_a_no_op():
    m = numtorch.nn.Linear(2, 2)
    m.share_memory()
    assert not m.weight.is_shared()
    assert "process-local" in numtorch.nn.Module.share_memory.__doc__


@pytest.mark.parametrize("call", [
    ((), {}), ((), dict(mode="max-autotune")), ((1,), {}), ((), dict(foo=1)),
    ((), dict(mode="bad")), ((), dict(mode="default", options={})), ((), dict(dynamic=False))])
@differential(match_message=True)
def test_compile_is_in_place_and_checks_arguments_as_torch(T, call):
    args, kwargs = call
    m = T.nn.Linear(2, 2)
    T.nn.init.constant_(m.weight, 0.5)
    T.nn.init.zeros_(m.bias)
    result = m.compile(*args, **kwargs)
    return result, m(T.ones(1, 2)).detach()


# ------------------------------------------------------------------ norms of gradients
def _grads(T, dtypes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for d in dtypes:
        p = T.nn.Parameter(T.tensor(rng.standard_normal((3, 2)).astype(np.float32)).to(
            getattr(T, d)))
        p.grad = T.tensor((rng.standard_normal((3, 2)) * 3).astype(np.float32)).to(getattr(T, d))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3, 0, "inf", -float("inf")])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64"),
                                    ("float16", "bfloat16"), ("float64",)])
@differential(rtol=1e-6)  # a float32 gradient's norm differs in rounding from torch's
def test_get_total_norm(T, norm_type, dtypes):
    params = _grads(T, dtypes)
    return (T.nn.utils.get_total_norm([p.grad for p in params], norm_type),
            T.nn.utils.get_total_norm(params[0].grad, norm_type),
            T.nn.utils.get_total_norm((p.grad for p in params), norm_type, foreach=False))


@pytest.mark.parametrize("case", ["empty", "empty_double", "nonfinite", "nan", "integer",
                                  "requires_grad"])
@differential(match_message=True)
def test_get_total_norm_edges(T, case):
    if case == "empty":
        return T.nn.utils.get_total_norm([])
    if case == "empty_double":
        T.set_default_dtype(T.float64)
        try:
            return T.nn.utils.get_total_norm([])
        finally:
            T.set_default_dtype(T.float32)
    if case == "nonfinite":
        return T.nn.utils.get_total_norm([T.tensor([float("inf"), 1.0])], error_if_nonfinite=True)
    if case == "nan":
        return T.nn.utils.get_total_norm([T.tensor([float("nan"), 1.0])])
    if case == "integer":
        return T.nn.utils.get_total_norm([T.ones(2), T.tensor([3, 4])])
    return T.nn.utils.get_total_norm([T.ones(3, requires_grad=True)])


@pytest.mark.parametrize("total", ["5", "0.5", "5_double", "nan", "inf", "float", "vector",
                                   "int"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float16",)])
@differential(match_message=True)
def test_clip_grads_with_norm_(T, total, dtypes):
    params = _grads(T, dtypes)
    value = {"5": lambda: T.tensor(5.0), "0.5": lambda: T.tensor(0.5),
             "5_double": lambda: T.tensor(5.0, dtype=T.float64),
             "nan": lambda: T.tensor(float("nan")), "inf": lambda: T.tensor(float("inf")),
             "float": lambda: 5.0, "vector": lambda: T.tensor([5.0, 2.0]),
             "int": lambda: T.tensor(5)}[total]()
    result = T.nn.utils.clip_grads_with_norm_(params, 1.0, value)
    return result, [p.grad for p in params]


@differential
def test_clip_grad_norm_is_total_norm_then_clip(T):
    a, b = _grads(T, ("float32", "float32")), _grads(T, ("float32", "float32"))
    total = T.nn.utils.clip_grad_norm_(a, 1.0)
    T.nn.utils.clip_grads_with_norm_(b, 1.0, T.nn.utils.get_total_norm([p.grad for p in b]))
    single = _grads(T, ("float32",))
    T.nn.utils.clip_grads_with_norm_(single[0], 1.0, T.tensor(3.0))
    none = T.nn.utils.clip_grads_with_norm_([T.nn.Parameter(T.ones(2))], 1.0, 5.0)
    return total, [p.grad for p in a], [p.grad for p in b], single[0].grad, none


# ------------------------------------------------------------------ Module.to's arguments
TO_CALLS = [
    ((1, 2, 3), {}), (("cpu", 2), {}), ((), {"a": 1}), (("cpu", "float64", True, True, 5), {}),
    (("float64", "cpu"), {}), (([1],), {}), ((None, None, None), {}), (("cpu",), {"dtype": 2}),
    (("ones", "float32"), {}), (("float32", 1), {}), (("cpu", "float32", 3), {}),
    (("cpu", True), {}), ((True,), {}), (("float64", True), {}), (("float64", True, True), {}),
    (("cpu", None, True), {}), ((), {"dtype": "float64", "non_blocking": True}),
    ((), {"tensor": "ones64"}), (("ones", True), {}), ((None,), {}), ((None, "float64"), {}),
    (("cpu",), {"non_blocking": 1}), ((), {"copy": True}), ((), {"copy": False}),
    (("float64",), {"device": "cpu"}), ((0,), {}), (("float64",), {"dtype": "float64"}),
    (("int64",), {}), (("cuda",), {}), ((), {"memory_format": 1}),
]


@pytest.mark.parametrize("call", TO_CALLS, ids=[str(i) for i in range(len(TO_CALLS))])
@differential(match_message=True)
def test_module_to_arguments_as_torch(T, call):
    def resolve(v):
        if v == "ones":
            return T.ones(1)
        if v == "ones64":
            return T.ones(1, dtype=T.float64)
        return getattr(T, v) if isinstance(v, str) and v in ("float32", "float64", "int64") \
            else v
    args, kwargs = call
    m = T.nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = m.to(*map(resolve, args), **{k: resolve(v) for k, v in kwargs.items()})
    return out is m, m.weight.dtype, str(m.weight.device)


# ------------------------------------------------------------------ Flatten, Unflatten, PReLU
@pytest.mark.parametrize("dims", [(0, -1), (0, 0), (-1, -1), (1, -1), (0, 1), (-2, 0)])
@differential(match_message=True)
def test_flatten_of_a_scalar(T, dims):
    return T.ones(()).flatten(*dims), T.flatten(T.ones(()), *dims)


@differential(match_message=True)
def test_flatten_layer_on_a_scalar_raises_index_error(T):
    return T.nn.Flatten()(T.ones(()))


@pytest.mark.parametrize("dim", [0, -1, 1])
def test_unflatten_of_a_scalar(dim):
    """torch's message goes on with a C++ stack trace; numtorch gives its first two lines."""
    import torch

    def error(T):
        try:
            T.nn.Unflatten(dim, (1,))(T.ones(()))
        except Exception as exc:  # noqa: BLE001 - the error is the result
            return type(exc).__name__, str(exc)
        return "no error", ""
    (expected_type, expected), (actual_type, actual) = error(torch), error(numtorch)
    assert actual_type == expected_type != "no error"
    if dim == 1:
        assert actual == expected
    else:
        assert actual == ("unflatten got an unexpected error:\nDimension specified as 0 but "
                          "tensor has no dimensions")
        assert expected.startswith(actual + "\n")


# ------------------------------------------------------------------ orthogonal_
def test_orthogonal_applies_the_sign_of_r_diagonal():
    """numtorch's draw is Q of the QR of its normal sample with each column's sign set so R's
    diagonal is positive: then Q^T A (= R) is upper triangular with a positive diagonal."""
    from numtorch.random import numpy_generator
    for shape in ((6, 4), (4, 6), (5, 5)):
        out = numtorch.nn.init.orthogonal_(numtorch.empty(shape, dtype=numtorch.float64),
                                           generator=numtorch.Generator().manual_seed(3))
        sample = numpy_generator(numtorch.Generator().manual_seed(3)).normal(0.0, 1.0, shape)
        q, a = out.numpy(), sample
        if shape[0] < shape[1]:
            q, a = q.T, a.T
        r = q.T @ a
        assert np.allclose(np.tril(r, -1), 0, atol=1e-10), shape
        assert (np.diag(r) > 0).all(), shape


@differential
def test_orthogonal_draws_are_sign_symmetric(T):
    """Haar-distributed matrices: each entry's mean is 0 (without the sign correction numpy's
    QR makes Q[0, 0] negative every time)."""
    T.manual_seed(0)
    corner = np.array([T.nn.init.orthogonal_(T.empty(4, 3, dtype=T.float64))[0, 0].item()
                       for _ in range(400)])
    diag = np.array([np.diag(T.nn.init.orthogonal_(T.empty(3, 3, dtype=T.float64)).numpy())
                     for _ in range(400)])
    return bool(abs(corner.mean()) < 0.1), bool((np.abs(diag.mean(axis=0)) < 0.1).all())


# ------------------------------------------------------------------ assignment routing
def test_assigning_a_module_over_a_parameter_raises_torchs_type_error():
    def body(T):
        m = T.nn.Linear(2, 2)
        m.weight = T.nn.Linear(1, 1)
    compare_error(body)
    m = numtorch.nn.Linear(2, 2)
    with pytest.raises(TypeError) as info:
        m.weight = numtorch.nn.Linear(1, 1)
    assert str(info.value) == ("cannot assign 'numtorch.nn.modules.linear.Linear' as parameter "
                               "'weight' (torch.nn.Parameter or None expected)")
    assert isinstance(m.weight, numtorch.nn.Parameter)
