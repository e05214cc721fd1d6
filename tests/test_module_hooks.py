"""Module backward hooks (full, pre, legacy) against torch: what the hooks see, what their
results replace, and torch's errors and warnings."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare, differential
from test_module import compare_error, raises_like_torch


def scaled(T):
    """A module with two tensor inputs and a non-tensor one, returning a pair."""
    class Scaled(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = T.nn.Parameter(T.tensor([1.0, 2.0, 3.0]))

        def forward(self, x, factor, y):
            return x * self.w * factor, (y * self.w).sum()

    return Scaled()


def grads(values):
    return [None if g is None else g.detach().clone() for g in values]


@differential
def test_full_backward_hook_sees_input_and_output_gradients(T):
    m = scaled(T)
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append((grads(gi), grads(go))))
    x = T.tensor([1.0, 1.0, 2.0], requires_grad=True)
    y = T.tensor([3.0, 0.5, 1.0], requires_grad=True)
    a, b = m(x, 2.0, y)
    (a.sum() + b * 3).backward()
    return log, x.grad, y.grad, m.w.grad


@differential
def test_pre_hook_replaces_grad_output_and_hook_replaces_grad_input(T):
    m = scaled(T)
    order = []

    def pre(mod, grad_output):
        order.append("pre")
        return (grad_output[0] * 10, grad_output[1])

    def first(mod, grad_input, grad_output):
        order.append("first")
        return (grad_input[0] + 1, None, grad_input[2])

    def prepended(mod, grad_input, grad_output):
        order.append("prepended")

    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(first)
    handle = m.register_full_backward_hook(prepended, prepend=True)
    x = T.ones(3, requires_grad=True)
    y = T.ones(3, requires_grad=True)
    a, b = m(x, 1.0, y)
    (a.sum() + b).backward()
    handle.remove()
    x2 = T.ones(3, requires_grad=True)
    m(x2, 1.0, T.ones(3))[0].sum().backward()
    return order, x.grad, y.grad, m.w.grad, x2.grad


@differential
def test_hook_fires_at_the_outputs_when_no_input_needs_grad(T):
    m = scaled(T)
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, grads(go))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = m(T.ones(3), 1.0, T.ones(3))
        (a.sum() + b).backward()
    return log, m.w.grad, [w.category.__name__ for w in caught]


@raises_like_torch
def test_hook_without_input_grads_must_return_none(T):
    m = scaled(T)
    m.register_full_backward_hook(lambda mod, gi, go: (T.ones(3), None, None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m(T.ones(3), 1.0, T.ones(3))[0].sum().backward()


@raises_like_torch
def test_hook_returning_the_wrong_number_of_gradients(T):
    m = scaled(T)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0],))
    m(T.ones(3, requires_grad=True), 1.0, T.ones(3))[0].sum().backward()


@raises_like_torch
def test_pre_hook_returning_the_wrong_number_of_gradients(T):
    m = scaled(T)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0],))
    m(T.ones(3, requires_grad=True), 1.0, T.ones(3))[0].sum().backward()


@raises_like_torch
def test_full_and_legacy_hooks_cannot_be_mixed(T):
    m = scaled(T)
    m.register_full_backward_hook(lambda *a: None)
    m.register_backward_hook(lambda *a: None)


@raises_like_torch
def test_legacy_and_full_hooks_cannot_be_mixed(T):
    m = scaled(T)
    m.register_backward_hook(lambda *a: None)
    m.register_full_backward_hook(lambda *a: None)


@differential
def test_legacy_backward_hook_sees_the_output_grad_fn(T):
    class Mul(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = T.nn.Parameter(T.tensor([2.0, 3.0]))

        def forward(self, x):
            return x * self.w

    m = Mul()
    log = []

    def hook(mod, grad_input, grad_output):
        log.append((type(mod).__name__, grads(grad_input), grads(grad_output)))
        return (grad_input[0] * 0, grad_input[1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.register_backward_hook(hook)
        x = T.tensor([1.0, 4.0], requires_grad=True)
        m(x).sum().backward()
    return log, x.grad, m.w.grad


@differential
def test_backward_hook_on_a_module_with_non_tensor_output_warns(T):
    class Boxed(T.nn.Module):
        def forward(self, x):
            return [x * 2]

    m = Boxed()
    m.register_full_backward_hook(lambda *a: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = m(T.ones(2, requires_grad=True))
    return [str(w.message).split(" but received")[0] for w in caught], type(out).__name__


@differential
def test_hooks_inside_a_sequential_fire_from_the_output_backwards(T):
    rng = np.random.default_rng(0)
    net = T.nn.Sequential(*[T.nn.Linear(3, 3) for _ in range(3)])
    with T.no_grad():
        for p in net.parameters():
            p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    order = []
    for i, layer in enumerate(net):
        layer.register_full_backward_hook(lambda mod, gi, go, i=i: order.append((i, grads(go))))
    net(T.ones(2, 3, requires_grad=True)).sum().backward()
    return order


def global_hooks(T):
    from importlib import import_module
    return import_module(f"{T.__name__}.nn.modules.module")


@differential
def test_global_forward_hooks_run_before_the_modules_own(T):
    g = global_hooks(T)
    m = scaled(T)
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("own pre"))
    m.register_forward_hook(lambda mod, args, out: order.append("own"))
    handles = [
        g.register_module_forward_pre_hook(lambda mod, args: order.append(
            ("global pre", type(mod).__name__, len(args)))),
        g.register_module_forward_hook(lambda mod, args, out: order.append("global")),
        g.register_module_forward_hook(lambda mod, args, kwargs, out: order.append(
            ("global kw", sorted(kwargs))), with_kwargs=True)]
    try:
        m(T.ones(3), 2.0, y=T.ones(3))
    finally:
        for h in handles:
            h.remove()
    m(T.ones(3), 2.0, T.ones(3))
    return order


@differential
def test_global_always_call_hook_runs_when_forward_raises(T):
    g = global_hooks(T)

    class Broken(T.nn.Module):
        def forward(self, x):
            raise ValueError("broken")

    seen = []
    handle = g.register_module_forward_hook(lambda mod, args, out: seen.append(out),
                                            always_call=True)
    try:
        Broken()(T.ones(1))
    except ValueError:
        seen.append("raised")
    finally:
        handle.remove()
    return seen


@differential
def test_global_full_backward_hooks(T):
    g = global_hooks(T)
    log = []
    handles = [g.register_module_full_backward_pre_hook(
                   lambda mod, go: log.append(("pre", type(mod).__name__))),
               g.register_module_full_backward_hook(
                   lambda mod, gi, go: log.append(("full", type(mod).__name__, grads(gi))))]
    try:
        m = scaled(T)
        a, b = m(T.ones(3, requires_grad=True), 1.0, T.ones(3))
        (a.sum() + b).backward()
        m(T.ones(3, requires_grad=True), 1.0, T.ones(3))[0].sum().backward()
    finally:
        for h in handles:
            h.remove()
    return log


@raises_like_torch
def test_global_full_and_legacy_backward_hooks_cannot_be_mixed(T):
    g = global_hooks(T)
    handle = g.register_module_full_backward_hook(lambda *a: None)
    try:
        g.register_module_backward_hook(lambda *a: None)
    finally:
        handle.remove()
        if T.__name__ == "torch":
            g._global_is_full_backward_hook = None
        else:
            from numtorch.nn.utils.hooks import GLOBAL
            GLOBAL.is_full_backward = None


@differential
def test_global_registration_hooks_may_replace_values(T):
    g = global_hooks(T)
    seen = []

    def on_param(mod, name, param):
        seen.append(("param", name))
        return T.nn.Parameter(param.detach() * 0 + 7)

    handles = [g.register_module_parameter_registration_hook(on_param),
               g.register_module_buffer_registration_hook(
                   lambda mod, name, buf: seen.append(("buffer", name))),
               g.register_module_module_registration_hook(
                   lambda mod, name, sub: seen.append(("module", name, type(sub).__name__)))]
    try:
        m = T.nn.Module()
        m.w = T.nn.Parameter(T.ones(2))
        m.register_buffer("b", T.zeros(1))
        m.child = T.nn.Module()
        m.add_module("other", T.nn.Module())
    finally:
        for h in handles:
            h.remove()
    m.late = T.nn.Parameter(T.ones(1))
    return seen, m.w, m.late
