"""nn.utils.stateless.functional_call against torch: the call sees the given tensors, the
module keeps its own, gradients reach the given tensors, tied weights, strict errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare, differential
from test_module import compare_error, zoo


def call(T, module, tensors, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return T.nn.utils.stateless.functional_call(module, tensors, *args, **kwargs)


@differential
def test_functional_call_uses_the_given_tensors_and_restores_the_modules(T):
    net = zoo(T)["Net"]()
    weight = T.tensor(np.full((4, 3), 0.5, dtype=np.float32), requires_grad=True)
    scale = T.tensor([3.0], requires_grad=True)
    out = call(T, net, {"fc1.weight": weight, "scale": scale}, (T.ones(3),))
    out.sum().backward()
    return (out, weight.grad, scale.grad, net.fc1.weight.grad, net.scale.grad,
            net(T.ones(3)), type(net.fc1.weight).__name__, net.fc1.weight)


@differential
def test_buffers_reassigned_during_the_call_are_reported_back(T):
    net = zoo(T)["Net"]()
    given = {"stats.running_mean": T.full((2,), 10.0)}
    call(T, net, given, T.ones(3))
    return given["stats.running_mean"], net.stats.running_mean


@differential
def test_tied_weights_follow_the_given_value(T):
    shared = zoo(T)["Shared"]()
    value = T.full((2, 2), 2.0)
    x = T.ones(2)

    class Both(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = shared

        def forward(self, x):
            return self.inner.a(x), self.inner.c(x)

    both = Both()
    tied = call(T, both, {"inner.a.weight": value}, x)
    untied = call(T, both, {"inner.a.weight": value}, x, tie_weights=False)
    same = call(T, both, {"inner.a.weight": value, "inner.c.weight": value}, x)
    return tied, untied, same


@pytest.mark.parametrize("names", [("a.weight", "b.weight", "c.weight"), ("a.weight", "c.weight")],
                         ids=["all_tied_names", "some_tied_names"])
def test_different_values_for_tied_weights_are_refused(names):
    def body(T):
        given = {name: T.full((2, 2), float(i)) for i, name in enumerate(names)}
        call(T, zoo(T)["Shared"](), given, T.ones(2))
    compare_error(body)


@pytest.mark.parametrize("tensors", [{"fc1.weight": None}, {"nope": 1}, {}],
                         ids=["none", "unexpected", "missing"])
def test_strict_reports_missing_and_unexpected_keys(tensors):
    def body(T):
        given = {k: (T.zeros(1) if v == 1 else v) for k, v in tensors.items()}
        call(T, zoo(T)["Net"](), given, T.ones(3), strict=True)
    compare_error(body)


def test_non_tensor_value_is_refused():
    def body(T):
        call(T, zoo(T)["Net"](), {"fc1.weight": [1.0]}, T.ones(3))
    compare(body)


@differential
def test_kwargs_and_deprecation_warning(T):
    class Kw(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = T.nn.Parameter(T.ones(2))

        def forward(self, x, *, scale=1.0):
            return x * self.w * scale

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = T.nn.utils.stateless.functional_call(Kw(), {"w": T.full((2,), 2.0)},
                                                  (T.ones(2),), {"scale": 3.0})
    return out, [w.category.__name__ for w in caught]
