"""nn.init against torch: gains, fans, shapes, errors exactly; distributions statistically.

numtorch draws from its own generator, so values differ from torch's; each body returns facts
that hold for any correct draw (bounds, std within a tolerance on large tensors, orthogonality)
and both libraries must agree on them.
"""
import math
import warnings

import numpy as np
import pytest

from harness import differential

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def values(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


@pytest.mark.parametrize("name", NONLINEARITIES)
@differential
def test_calculate_gain(T, name):
    return T.nn.init.calculate_gain(name)


@pytest.mark.parametrize("param", [None, 0.2, 0, 3, 1.5])
@differential
def test_calculate_gain_leaky_param(T, param):
    return T.nn.init.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("name,param", [("foo", None), ("leaky_relu", True),
                                        ("leaky_relu", "1"), ("Relu", None)])
@differential(match_message=True)
def test_calculate_gain_errors(T, name, param):
    return T.nn.init.calculate_gain(name, param)


@pytest.mark.parametrize("shape", [(3,), (), (4, 5), (6, 3, 5), (8, 4, 3, 2), (2, 3, 1, 1, 4)])
@differential(match_message=True)
def test_fan_in_and_fan_out(T, shape):
    return T.nn.init._calculate_fan_in_and_fan_out(T.empty(shape))


def _uniform_facts(w, lo, hi):
    a = values(w)
    width = hi - lo
    std_ok = abs(a.std() / (width / math.sqrt(12)) - 1) < 0.03
    return bool(a.min() >= lo and a.max() <= hi), std_ok, bool(a.min() < lo + 0.01 * width)


def _normal_facts(w, mean, std):
    a = values(w)
    return abs(a.mean() - mean) < 0.03 * std + 1e-12, abs(a.std() / std - 1) < 0.03


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@differential
def test_uniform_(T, dtype):
    w = T.empty(100, 100, dtype=getattr(T, dtype), requires_grad=dtype != "float16")
    out = T.nn.init.uniform_(w, -0.5, 2.0)
    return out is w, w.shape, w.dtype, w.requires_grad, w.grad_fn, _uniform_facts(w, -0.5, 2.0)


@differential
def test_normal_(T):
    w = T.empty(200, 100, requires_grad=True)
    out = T.nn.init.normal_(w, 0.5, 2.0)
    return out is w, w.dtype, w.is_leaf, _normal_facts(w, 0.5, 2.0)


@differential
def test_normal_zero_std(T):
    return T.nn.init.normal_(T.empty(3, 2, dtype=T.float64), 1.5, 0.0)


@pytest.mark.parametrize("init_fn", [("uniform_", "check_uniform_bounds"),
                                       ("normal_", "normal_kernel_cpu"),
                                       ("trunc_normal_", "normal_kernel_cpu"),
                                       ("orthogonal_", None), ("xavier_uniform_", None),
                                       ("kaiming_normal_", None)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@differential(match_message=True)
def test_random_fills_refuse_integers(T, init_fn, dtype):
    return getattr(T.nn.init, init_fn[0])(T.zeros(3, 4, dtype=getattr(T, dtype)))


@differential(match_message=True)
def test_uniform_bad_range(T):
    return T.nn.init.uniform_(T.empty(3), 2, 1)


@differential(match_message=True)
def test_normal_negative_std(T):
    return T.nn.init.normal_(T.empty(3), 0.0, -1.0)


@pytest.mark.parametrize("val,dtype", [(0.3, "float32"), (2.5, "int64"), (2.5, "bool"),
                                       (-7, "float64"), (3, "float16")])
@differential
def test_constant_(T, val, dtype):
    w = T.empty(2, 3, dtype=getattr(T, dtype))
    out = T.nn.init.constant_(w, val)
    return out is w, w


@differential
def test_zeros_ones_keep_leaf_and_grad_flag(T):
    w = T.empty(4, 2, requires_grad=True)
    T.nn.init.ones_(w)
    T.nn.init.zeros_(w)
    return w, w.is_leaf, w.requires_grad


@pytest.mark.parametrize("shape,dtype", [((3, 5), "float32"), ((5, 3), "float64"),
                                         ((4, 4), "int64"), ((3,), "float32"),
                                         ((2, 2, 2), "float32")])
@differential(match_message=True)
def test_eye_(T, shape, dtype):
    return T.nn.init.eye_(T.empty(shape, dtype=getattr(T, dtype)))


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 1), ((4, 2, 3, 5), 2),
                                          ((2, 4, 3, 3, 3), 1), ((6, 2, 5, 4), 3),
                                          ((4, 2, 3, 3), 3), ((4, 2), 1)])
@differential(match_message=True)
def test_dirac_(T, shape, groups):
    return T.nn.init.dirac_(T.empty(shape), groups)


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
@differential
def test_xavier(T, shape, gain):
    fan_in, fan_out = T.nn.init._calculate_fan_in_and_fan_out(T.empty(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    u = T.nn.init.xavier_uniform_(T.empty(shape), gain=gain)
    n = T.nn.init.xavier_normal_(T.empty(shape), gain=gain)
    bound = math.sqrt(3) * std
    return _uniform_facts(u, -bound, bound), _normal_facts(n, 0.0, std)


@pytest.mark.parametrize("a,mode,nonlinearity", [(0, "fan_in", "leaky_relu"),
                                                 (math.sqrt(5), "fan_in", "leaky_relu"),
                                                 (0, "fan_out", "relu"), (0.1, "FAN_OUT", "tanh"),
                                                 (0, "fan_in", "linear")])
@differential
def test_kaiming(T, a, mode, nonlinearity):
    shape = (128, 64, 3, 3)
    w = T.empty(shape)
    fan = T.nn.init._calculate_fan_in_and_fan_out(w)[0 if mode.lower() == "fan_in" else 1]
    std = T.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = T.nn.init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity)
    n = T.nn.init.kaiming_normal_(T.empty(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3) * std
    return u is w, _uniform_facts(u, -bound, bound), _normal_facts(n, 0.0, std)


@pytest.mark.parametrize("init_fn", ["kaiming_uniform_", "kaiming_normal_"])
@differential(match_message=True)
def test_kaiming_errors(T, init_fn):
    return getattr(T.nn.init, init_fn)(T.empty(3, 4), mode="bad")


@pytest.mark.parametrize("init_fn", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                "kaiming_normal_"])
@differential(match_message=True)
def test_fan_errors(T, init_fn):
    return getattr(T.nn.init, init_fn)(T.empty(5))


@pytest.mark.parametrize("init_fn", ["kaiming_uniform_", "kaiming_normal_"])
@differential
def test_kaiming_zero_element_warns(T, init_fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(T.nn.init, init_fn)(T.empty(0, 3))
    return out, [str(w.message) for w in caught]


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 1.0, 0.5, 0.7), (0.0, 1.0, 1.5, 3.0)])
@differential
def test_trunc_normal_(T, mean, std, a, b):
    w = T.nn.init.trunc_normal_(T.empty(300, 100), mean, std, a, b)
    x = values(w)
    # moments of the truncated normal, computed in closed form
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(be) - cdf(al)
    m = mean + std * (pdf(al) - pdf(be)) / z
    var = std ** 2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    return (bool(x.min() >= a and x.max() <= b), abs(x.mean() - m) < 0.02 * std,
            abs(x.std() / math.sqrt(var) - 1) < 0.03)


@differential
def test_trunc_normal_far_mean_warns(T):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = T.nn.init.trunc_normal_(T.empty(50), mean=10.0, std=1.0, a=-2.0, b=2.0)
    x = values(w)
    return [str(c.message) for c in caught], bool(x.min() >= -2 and x.max() <= 2)


@pytest.mark.parametrize("shape,gain", [((30, 50), 1.0), ((50, 30), 2.0), ((20, 4, 3, 3), 0.5),
                                        ((16, 16), 1.0)])
@differential
def test_orthogonal_(T, shape, gain):
    w = T.empty(shape, dtype=T.float64)
    out = T.nn.init.orthogonal_(w, gain=gain)
    q = values(w).reshape(shape[0], -1)
    small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    return out is w, w.shape, bool(np.allclose(small, gain ** 2 * np.eye(small.shape[0]),
                                               atol=1e-10))


@pytest.mark.parametrize("shape,dtype", [((3,), "float32"), ((3, 4), "float16"),
                                         ((0, 4), "float32")])
@differential(match_message=True)
def test_orthogonal_errors_and_empty(T, shape, dtype):
    return T.nn.init.orthogonal_(T.empty(shape, dtype=getattr(T, dtype)))


@differential(match_message=True)
def test_sparse_(T):
    w = T.nn.init.sparse_(T.empty(40, 30), sparsity=0.3, std=0.5)
    x = values(w)
    zeros_per_column = (x == 0).sum(axis=0)
    bad = None
    try:
        T.nn.init.sparse_(T.empty(3), 0.1)
    except ValueError as e:
        bad = str(e)
    return bool(np.all(zeros_per_column == math.ceil(0.3 * 40))), bad, \
        abs(x[x != 0].std() / 0.5 - 1) < 0.15


def test_generator_makes_draws_reproducible():
    import numtorch
    for fn in ("uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "trunc_normal_",
               "orthogonal_"):
        draws = []
        for _ in range(2):
            g = numtorch.Generator().manual_seed(123)
            draws.append(values(getattr(numtorch.nn.init, fn)(numtorch.empty(5, 4), generator=g)))
        assert np.array_equal(draws[0], draws[1]), fn
        other = values(getattr(numtorch.nn.init, fn)(
            numtorch.empty(5, 4), generator=numtorch.Generator().manual_seed(124)))
        assert not np.array_equal(draws[0], other), fn


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "xavier_uniform",
                                 "kaiming_normal", "orthogonal", "eye"])
@differential
def test_deprecated_aliases_warn(T, old):
    args = (T.empty(4, 4),) + ((0.5,) if old == "constant" else ())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(T.nn.init, old)(*args)
    return out.shape, [(c.category.__name__, str(c.message)) for c in caught]
