"""nn.utils gradient clipping and parameter/vector conversion against torch."""
import functools
import math
import warnings

import numpy as np
import pytest

import harness


def differential(fn=None, **kw):
    """harness.differential with the same data generator state for both libraries."""
    def deco(body):
        @functools.wraps(body)
        def seeded(T, *args, **kwargs):
            return body(T, np.random.default_rng(0), *args, **kwargs)
        return harness.differential(_drop_rng(seeded, body), **kw)
    return deco(fn) if fn is not None else deco


def _drop_rng(wrapper, body):
    import inspect
    sig = inspect.signature(body)
    params = list(sig.parameters.values())
    wrapper.__signature__ = sig.replace(parameters=[params[0]] + params[2:])
    del wrapper.__wrapped__
    return wrapper


def params_with_grads(T, rng, dtypes=("float32", "float32", "float32"), missing=False):
    shapes = [(4, 3), (3,), (2, 2, 2)]
    ps = []
    for shape, dt in zip(shapes, dtypes):
        p = T.nn.Parameter(T.tensor(rng.standard_normal(shape).astype(dt)))
        p.grad = T.tensor(rng.standard_normal(shape).astype(dt) * 3)
        ps.append(p)
    if missing:
        ps.append(T.nn.Parameter(T.zeros(2)))  # no grad: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, "inf", math.inf, -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@differential
def test_clip_grad_norm_(T, rng, norm_type, max_norm):
    ps = params_with_grads(T, rng, missing=True)
    total = T.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    return total, [p.grad for p in ps]


@pytest.mark.parametrize("foreach", [None, True, False])
@differential
def test_clip_grad_norm_foreach_and_generators(T, rng, foreach):
    ps = params_with_grads(T, rng)
    total = T.nn.utils.clip_grad_norm_((p for p in ps), 1.0, foreach=foreach)
    return total, [p.grad for p in ps]


@differential
def test_clip_grad_norm_mixed_dtypes_and_single_tensor(T, rng):
    ps = params_with_grads(T, rng, dtypes=("float32", "float64", "float32"))
    total = T.nn.utils.clip_grad_norm_(ps, 0.3)
    single = params_with_grads(T, rng)[0]
    return total, [p.grad for p in ps], T.nn.utils.clip_grad_norm_(single, 0.1), single.grad


@differential
def test_clip_grad_norm_empty(T, rng):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = T.nn.utils.clip_grad_norm_([], 1.0)
        b = T.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        c = T.nn.utils.clip_grad_norm_([T.nn.Parameter(T.ones(2))], 1.0)
    return a, b, c, [str(w.message) for w in caught]


@pytest.mark.parametrize("error_if_nonfinite", [False, True])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
@differential(match_message=True)
def test_clip_grad_norm_nonfinite(T, rng, error_if_nonfinite, bad):
    ps = params_with_grads(T, rng)
    ps[1].grad[0] = bad
    total = T.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=error_if_nonfinite)
    return total, ps[0].grad


@differential
def test_clip_grad_norm_keeps_grad_objects(T, rng):
    ps = params_with_grads(T, rng)
    before = [p.grad for p in ps]
    T.nn.utils.clip_grad_norm_(ps, 0.01)
    return [a is p.grad for a, p in zip(before, ps)], before


@pytest.mark.parametrize("clip", [0.5, 2, 100.0])
@differential
def test_clip_grad_value_(T, rng, clip):
    ps = params_with_grads(T, rng, missing=True)
    out = T.nn.utils.clip_grad_value_(ps, clip)
    single = params_with_grads(T, rng)[2]
    T.nn.utils.clip_grad_value_(single, clip, foreach=True)
    return out, [p.grad for p in ps], single.grad


@differential
def test_clip_grad_norm_deprecated_alias(T, rng):
    ps = params_with_grads(T, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total = T.nn.utils.clip_grad.clip_grad_norm(ps, 1.0)
    return total, [(w.category.__name__, str(w.message)) for w in caught]


@differential
def test_parameters_to_vector(T, rng):
    model = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 2))
    for p in model.parameters():
        with T.no_grad():
            p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype("float32")))
    vec = T.nn.utils.parameters_to_vector(model.parameters())
    g = T.tensor(rng.standard_normal(tuple(vec.shape)).astype("float32"))
    vec.backward(g)
    return vec, vec.grad_fn.name(), [p.grad for p in model.parameters()]


@differential
def test_vector_to_parameters_shares_memory(T, rng):
    ps = [T.nn.Parameter(T.zeros(3)), T.nn.Parameter(T.zeros(2, 2))]
    vec = T.arange(9.0)
    T.nn.utils.vector_to_parameters(vec, ps)
    vec[0] = 100.0
    return ps, [p.is_leaf for p in ps], [p.requires_grad for p in ps]


@pytest.mark.parametrize("case", ["not_tensor", "too_short"])
@differential(match_message=True)
def test_vector_to_parameters_errors(T, rng, case):
    ps = [T.nn.Parameter(T.zeros(2, 2))]
    if case == "not_tensor":
        return T.nn.utils.vector_to_parameters([1.0, 2.0], ps)
    return T.nn.utils.vector_to_parameters(T.arange(3.0), ps)
