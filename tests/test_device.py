"""Devices, the cuda module on a machine without CUDA, version info and meta tensors, vs torch."""
import copy
import pickle

import numpy as np
import pytest

import numtorch
from harness import differential

DEVICE_ARGS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 1), ("meta",), ("cpu:0",), ("mps",),
               ("cuda:12",)]


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=[str(a) for a in DEVICE_ARGS])
@differential
def test_device_repr_str_fields(T, args):
    d = T.device(*args)
    return repr(d), str(d), d.type, d.index, d == T.device(*args), hash(d) == hash(T.device(*args))


@differential
def test_device_keywords_and_copying(T):
    d = T.device(type="cuda", index=2)
    return (repr(d), T.device(d) == d, pickle.loads(pickle.dumps(d)) == d,
            copy.deepcopy(d) == d, {T.device("cpu"): 1}[T.device("cpu")])


@differential
def test_device_comparisons(T):
    return (T.device("cpu") == "cpu", T.device("cuda:0") == T.device("cuda"),
            T.device("cpu") != T.device("meta"), T.device("cpu") == 0)


@pytest.mark.parametrize("args", [("gpu",), ("cuda:-1",), ("cuda:0", 1), ("cuda", -1), (None,),
                                  ("cuda:x",), (" cpu",), ("CPU",), ("cuda:01",), (3,), (2.5,),
                                  ([1],)],
                         ids=range(12))
@differential(match_message=True)
def test_device_errors(T, args):
    T.device(*args)


@differential(match_message=True)
def test_device_ordering_unsupported(T):
    return T.device("cpu") < T.device("cpu")


@differential(match_message=True)
def test_device_is_immutable(T):
    T.device("cpu").index = 1


# ------------------------------------------------------------------ cuda module
@differential
def test_cuda_queries(T):
    return T.cuda.is_available(), T.cuda.device_count(), T.cuda.is_initialized(), \
        T.version.cuda, T.cuda.manual_seed(1), T.cuda.manual_seed_all(1), T.cuda.empty_cache()


@pytest.mark.parametrize("name", ["get_device_name", "current_device", "synchronize",
                                  "get_device_capability"])
@differential(match_message=True)
def test_cuda_calls_without_cuda(T, name):
    getattr(T.cuda, name)()


@differential(match_message=True)
def test_tensor_cuda_without_cuda(T):
    T.tensor(1).cuda()


@differential(match_message=True)
def test_to_cuda_without_cuda(T):
    T.ones(2).to("cuda:0")


@differential(match_message=True)
def test_factory_on_cuda_without_cuda(T):
    T.ones(2, device="cuda")


def test_version():
    import torch
    assert isinstance(numtorch.__version__, str) and numtorch.__version__.count(".") >= 2
    assert numtorch.version.cuda is None and torch.version.cuda is None
    assert numtorch.version.__version__ == numtorch.__version__
    import importlib.metadata
    assert importlib.metadata.version("numtorch") == numtorch.__version__


def test_array_module_is_the_backend_hook():
    from numtorch._device import array_module
    assert array_module(numtorch.device("cpu")) is np
    assert array_module(numtorch.device("meta")) is np
    with pytest.raises(AssertionError, match="CUDA"):
        array_module(numtorch.device("cuda"))


# ------------------------------------------------------------------ default device, meta
@differential
def test_default_device_context(T):
    with T.device("meta"):
        a = T.zeros(2, 3)
        b = T.ones(4, dtype=T.int32)
        c = T.tensor([1.0, 2.0])
        inside = T.get_default_device()
    d = T.zeros(1)
    return [(x.device, x.shape, x.dtype) for x in (a, b, c, d)] + [inside,
                                                                    T.get_default_device()]


@differential
def test_set_default_device(T):
    T.set_default_device("meta")
    try:
        a = T.empty(3)
    finally:
        T.set_default_device(None)
    return a.device, T.get_default_device(), T.empty(1).device


@differential
def test_meta_tensor_ops_stay_meta(T):
    m = T.ones(3, 4, device="meta", requires_grad=True)
    y = (m * 2 + 1).sum()
    return (m.device, m.shape, y.device, y.shape, y.requires_grad, m.to(T.float64).device,
            m.to(T.float64).dtype, T.empty_like(m).device, m.is_meta, m.detach().is_meta,
            m.clone().device, m.dim(), m.numel(), m.stride())


@differential(match_message=True)
def test_meta_tolist(T):
    T.zeros(2, device="meta").tolist()


@differential
def test_backends_and_thread_flags(T):
    T.use_deterministic_algorithms(True)
    det = T.are_deterministic_algorithms_enabled()
    T.use_deterministic_algorithms(False)
    return (T.backends.cudnn.is_available(), T.backends.cudnn.version(), T.backends.cudnn.enabled,
            T.backends.cudnn.deterministic, T.backends.mps.is_available(),
            T.backends.mps.is_built(), T.backends.cuda.is_built(),
            T.backends.cuda.matmul.allow_tf32, det, T.are_deterministic_algorithms_enabled(),
            T.get_num_threads() >= 1)


@pytest.mark.parametrize("body", [
    lambda T, m, c: m + c, lambda T, m, c: c + m, lambda T, m, c: m * c,
    lambda T, m, c: T.maximum(m, c), lambda T, m, c: m == c, lambda T, m, c: m.pow(c),
    lambda T, m, c: m + T.tensor(1.0), lambda T, m, c: T.tensor(2.0) * m,
    lambda T, m, c: c + T.ones((), device="meta")], ids=range(9))
@differential(match_message=True)
def test_meta_and_cpu_operands(T, body):
    """A 0-d CPU tensor goes with any device; other mixes are torch's device error."""
    out = body(T, T.ones(2, device="meta"), T.ones(2))
    return str(out.device), out.shape, out.dtype
