"""Autograd engine, grad modes, hooks, autograd.grad and custom Functions, against torch."""
import numpy as np
import pytest

import numtorch
from harness import compare, differential


def _x(T, vals=(1.0, 2.0, 3.0), **kw):
    return T.tensor(list(vals), requires_grad=True, **kw)


# ------------------------------------------------------------------ backward basics
@differential(check_grad_fn=True)
def test_backward_accumulates_into_leaf_grad(T):
    x = _x(T)
    (x * 2).sum().backward()
    first = x.grad.clone()
    (x * x).sum().backward()
    return first, x.grad, x.is_leaf, x.grad_fn


@differential
def test_grad_is_same_object_after_accumulation(T):
    x = _x(T)
    (x * 2).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    return g is x.grad, g


@differential
def test_backward_with_gradient_argument(T):
    x = _x(T)
    y = x * x
    y.backward(T.tensor([1.0, 0.5, -1.0]))
    return x.grad


@differential(match_message=True)
def test_non_scalar_backward_without_gradient(T):
    (_x(T) * 2).backward()


@differential(match_message=True)
def test_backward_gradient_shape_mismatch(T):
    (_x(T) * 2).backward(T.ones(2))


@differential(match_message=True)
def test_backward_gradient_not_a_tensor(T):
    (_x(T) * 2).backward([1.0, 1.0, 1.0])


@differential(match_message=True)
def test_backward_on_tensor_without_grad(T):
    T.ones(3).sum().backward()


@differential
def test_backward_gradient_dtype_is_cast(T):
    x = _x(T)
    (x * 2).backward(T.ones(3, dtype=T.float64))
    return x.grad


@differential(match_message=True)
def test_backward_twice_raises(T):
    x = _x(T)
    y = (x.exp()).sum()
    y.backward()
    y.backward()


@differential
def test_backward_twice_without_saved_tensors_is_allowed(T):
    x = _x(T)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    return x.grad


@differential
def test_retain_graph_allows_second_backward(T):
    x = _x(T)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


@differential(match_message=True)
def test_saved_tensor_modified_in_place(T):
    x = _x(T)
    y = x * 1
    z = (y * y).sum()
    y.add_(1)
    z.backward()


@differential
def test_diamond_graph(T):
    x = _x(T)
    a = x * 2
    b = a * 3
    c = a * a
    (b + c).sum().backward()
    return x.grad


@differential
def test_shared_leaf_used_many_times(T):
    x = _x(T)
    w = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x * w + x * x + w * 3).sum()
    y.backward()
    return x.grad, w.grad


@differential
def test_deep_chain_does_not_recurse(T):
    x = T.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    y.sum().backward()
    return x.grad


@differential
def test_backward_several_roots(T):
    x = _x(T)
    a = (x * 2).sum()
    b = (x * x).sum()
    T.autograd.backward([a, b])
    return x.grad


@differential
def test_backward_roots_depending_on_each_other(T):
    x = _x(T)
    a = x * 2
    b = (a * a).sum()
    T.autograd.backward([b, a], [None, T.ones(3)])
    return x.grad


@differential
def test_backward_inputs_only_accumulates_into_inputs(T):
    x = _x(T)
    w = _x(T, (4.0, 5.0, 6.0))
    (x * w).sum().backward(inputs=[w])
    return x.grad is None, w.grad


@differential
def test_backward_inputs_non_leaf(T):
    x = _x(T)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    return x.grad is None, h.grad, h.retains_grad


@differential(match_message=True)
def test_backward_inputs_empty(T):
    (_x(T) * 2).sum().backward(inputs=[])


def test_create_graph_is_unsupported_with_clear_message():
    x = numtorch.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        numtorch.autograd.grad((x * x).sum(), x, create_graph=True)


@differential
def test_int_and_float_mix_gradient_dtype(T):
    x = _x(T, dtype=T.float64)
    y = (x * T.tensor([1, 2, 3])).sum()
    y.backward()
    return x.grad


# ------------------------------------------------------------------ requires_grad, leaves
@differential(match_message=True)
def test_requires_grad_on_int_tensor(T):
    T.tensor([1, 2]).requires_grad_()


@differential(match_message=True)
def test_requires_grad_false_on_non_leaf(T):
    y = _x(T) * 2
    y.requires_grad = False


@differential
def test_requires_grad_true_on_non_leaf_is_fine(T):
    y = _x(T) * 2
    y.requires_grad_(True)
    return y, y.is_leaf


@differential(match_message=True)
def test_in_place_on_leaf_requiring_grad(T):
    x = _x(T)
    x.mul_(2)


@differential
def test_in_place_on_leaf_under_no_grad(T):
    x = _x(T)
    with T.no_grad():
        x.mul_(2)
    return x, x.requires_grad, x.is_leaf


@differential
def test_detach_and_detach_(T):
    x = _x(T)
    y = x * 2
    d = y.detach()
    y.detach_()
    return d, d.requires_grad, d.is_leaf, y.requires_grad, y.is_leaf, y.grad_fn


@differential(match_message=True)
def test_detach_shares_version_counter(T):
    x = _x(T)
    y = x.exp()
    d = y.detach()
    d.add_(1)
    y.sum().backward()


@differential
def test_non_leaf_grad_access_warns_and_is_none(T):
    import warnings
    y = _x(T) * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = y.grad
    return g is None, len(w), str(w[0].message)[:60]


# ------------------------------------------------------------------ grad modes
@differential
def test_no_grad_context_and_decorators(T):
    x = _x(T)
    with T.no_grad():
        a = x * 2

    @T.no_grad()
    def f(v):
        return v * 2

    @T.no_grad
    def g(v):
        return v * 2

    with T.no_grad():
        with T.enable_grad():
            b = x * 2

    @T.enable_grad
    def h(v):
        return v * 2

    with T.no_grad():
        c = h(x)
    return (a.requires_grad, f(x).requires_grad, g(x).requires_grad, b.requires_grad,
            c.requires_grad, T.is_grad_enabled(), f.__name__)


@differential
def test_set_grad_enabled(T):
    x = _x(T)
    with T.set_grad_enabled(False):
        a = x * 2
        inside = T.is_grad_enabled()
    T.set_grad_enabled(False)
    off = T.is_grad_enabled()
    b = x * 2
    T.set_grad_enabled(True)

    @T.set_grad_enabled(False)
    def f(v):
        return v * 2
    return a.requires_grad, inside, off, b.requires_grad, f(x).requires_grad, T.is_grad_enabled()


@differential
def test_inference_mode(T):
    x = _x(T)
    with T.inference_mode():
        a = x * 2
        state = (T.is_grad_enabled(), T.is_inference_mode_enabled())
        with T.inference_mode(False):
            inner = (T.is_grad_enabled(), T.is_inference_mode_enabled())

    @T.inference_mode
    def f(v):
        return v * 2

    @T.inference_mode()
    def g(v):
        return v * 2
    return (a.requires_grad, state, inner, f(x).requires_grad, g(x).requires_grad,
            T.is_grad_enabled(), T.is_inference_mode_enabled())


@differential
def test_no_grad_decorates_generators(T):
    x = _x(T)

    @T.no_grad()
    def gen():
        for i in range(2):
            yield (x * i).requires_grad
    return list(gen())


@differential
def test_grad_mode_restored_after_exception(T):
    try:
        with T.no_grad():
            raise ValueError("boom")
    except ValueError:
        pass
    return T.is_grad_enabled()


@differential
def test_factory_requires_grad_inside_no_grad(T):
    with T.no_grad():
        t = T.zeros(2, requires_grad=True)
    return t.requires_grad


# ------------------------------------------------------------------ hooks and retain_grad
@differential
def test_retain_grad_on_intermediate(T):
    x = _x(T)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    return h.grad, h.retains_grad, x.grad


@differential(match_message=True)
def test_retain_grad_without_requires_grad(T):
    T.ones(2).retain_grad()


@differential
def test_hook_on_leaf_replaces_gradient(T):
    x = _x(T)
    seen = []
    x.register_hook(lambda g: seen.append(g.clone()))
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    return x.grad, seen


@differential
def test_hook_on_non_leaf_and_order_with_retain_grad(T):
    x = _x(T)
    h = x * 3
    h.retain_grad()
    order = []
    h.register_hook(lambda g: order.append("first") or g * 2)
    h.register_hook(lambda g: order.append("second"))
    (h * h).sum().backward()
    return x.grad, h.grad, order


@differential
def test_hook_handle_remove(T):
    x = _x(T)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 2).sum().backward()
    return x.grad


@differential(match_message=True)
def test_hook_on_tensor_without_grad(T):
    T.ones(2).register_hook(lambda g: g)


@differential
def test_node_hooks(T):
    x = _x(T)
    y = x * 2
    calls = []
    y.grad_fn.register_prehook(lambda go: calls.append(("pre", go[0].tolist())))
    y.grad_fn.register_hook(lambda gi, go: calls.append(("post", gi[0].tolist(),
                                                         go[0].tolist())))
    y.sum().backward()
    return calls, x.grad


@differential
def test_next_functions_and_names(T):
    x = _x(T)
    y = (x * 2).sum()
    nf = y.grad_fn.next_functions
    return (y.grad_fn.name(), nf[0][0].name(), nf[0][1], nf[0][0].next_functions[0][0].name(),
            type(nf[0][0].next_functions[0][0].variable) is type(x))


# ------------------------------------------------------------------ autograd.grad
@differential
def test_autograd_grad_returns_and_does_not_accumulate(T):
    x = _x(T)
    w = _x(T, (4.0, 5.0, 6.0))
    gx, gw = T.autograd.grad((x * w).sum(), [x, w])
    return gx, gw, x.grad is None, w.grad is None


@differential
def test_autograd_grad_single_input_and_grad_outputs(T):
    x = _x(T)
    return T.autograd.grad(x * x, x, grad_outputs=T.tensor([1.0, 2.0, 3.0]))


@differential(match_message=True)
def test_autograd_grad_unused_input(T):
    x = _x(T)
    z = _x(T)
    T.autograd.grad((x * 2).sum(), [x, z])


@differential
def test_autograd_grad_allow_unused_and_materialize(T):
    x = _x(T)
    z = _x(T)
    a = T.autograd.grad((x * 2).sum(), [x, z], allow_unused=True, retain_graph=True)
    return a, T.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)


@differential(match_message=True)
def test_autograd_grad_materialize_with_allow_unused_false(T):
    x = _x(T)
    T.autograd.grad((x * 2).sum(), [x], materialize_grads=True, allow_unused=False)


@differential(match_message=True)
def test_autograd_grad_input_without_grad(T):
    x = _x(T)
    T.autograd.grad((x * 2).sum(), [T.ones(3)])


@differential
def test_autograd_grad_intermediate_and_hooks(T):
    x = _x(T)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    y = (h * h).sum()
    both = T.autograd.grad(y, [h, x], retain_graph=True)
    only_h = T.autograd.grad(y, [h])
    return both, only_h


@differential
def test_autograd_grad_dict_inputs(T):
    x = _x(T)
    r = T.autograd.grad((x * x).sum(), {"a": x})
    return list(r.keys()) if isinstance(r, dict) else r, x.grad is None


@differential
def test_autograd_grad_skips_unneeded_branches(T):
    x = _x(T)
    w = _x(T)
    calls = []
    w.register_hook(lambda g: calls.append("w"))
    y = (x * w).sum()
    gx, = T.autograd.grad(y, [x])
    return gx, calls


# ------------------------------------------------------------------ custom Function
def _square_fn(T):
    class Square(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            ctx.save_for_backward(a, None)
            ctx.k = k
            return a * a * k

        @staticmethod
        def backward(ctx, g):
            a, missing = ctx.saved_tensors
            assert missing is None
            return g * 2 * a * ctx.k, None
    return Square


@differential(check_grad_fn=False)
def test_function_basic(T):
    x = _x(T)
    y = _square_fn(T).apply(x, 3.0)
    y.sum().backward()
    return y, x.grad, y.grad_fn.name(), y.requires_grad


@differential
def test_function_needs_input_grad_and_no_grad_mode(T):
    seen = []

    class F(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g, None
    x, y = _x(T), T.ones(3)
    out = F.apply(x, y, 2)
    with T.no_grad():
        out2 = F.apply(x, y, 2)
    return seen[0], out.requires_grad, out2.requires_grad


@differential
def test_function_multiple_outputs_and_non_differentiable(T):
    class Split(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            idx = T.argmax(a) if hasattr(T, "argmax") else T.tensor(2)
            ctx.mark_non_differentiable(idx)
            return a * 2, a * 3, idx

        @staticmethod
        def backward(ctx, g1, g2, g3):
            return g1 * 2 + g2 * 3
    x = _x(T)
    p, q, idx = Split.apply(x)
    (p.sum() + q.sum()).backward()
    return x.grad, idx.requires_grad, p.grad_fn.name(), q.requires_grad


@differential
def test_function_materializes_missing_output_grads(T):
    class Two(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1, a * 1

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2 * 5
    x = _x(T)
    p, _ = Two.apply(x)
    p.sum().backward()
    return x.grad


@differential
def test_function_set_materialize_grads_false(T):
    class Two(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(False)
            return a * 1, a * 1

        @staticmethod
        def backward(ctx, g1, g2):
            assert g2 is None
            return g1
    x = _x(T)
    p, _ = Two.apply(x)
    p.sum().backward()
    return x.grad


@differential(match_message=True)
def test_function_wrong_number_of_grads(T):
    class Bad(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g
    Bad.apply(_x(T), _x(T)).sum().backward()


@differential(match_message=True)
def test_function_bad_gradient_shape(T):
    class Bad(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(5)
    Bad.apply(_x(T)).sum().backward()


@differential
def test_function_gradient_broadcast_is_summed(T):
    class Wide(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(2, 3)
    x = _x(T)
    Wide.apply(x).sum().backward()
    return x.grad


@differential(match_message=True)
def test_function_saved_tensor_modified(T):
    x = _x(T)
    a = x * 1
    y = _square_fn(T).apply(a, 1.0)
    a.add_(1)
    y.sum().backward()


@differential
def test_function_returning_input_and_once_differentiable(T):
    from torch.autograd.function import once_differentiable as od_torch
    od = od_torch if T.__name__ == "torch" else T.autograd.function.once_differentiable

    class Ident(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        @od
        def backward(ctx, g):
            return g * 4
    x = _x(T)
    y = Ident.apply(x)
    y.sum().backward()
    return y is x, y.is_leaf, x.grad


@differential
def test_function_setup_context_style(T):
    class Mul(T.autograd.Function):
        @staticmethod
        def forward(a, b):
            return a * b

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a
    x, w = _x(T), _x(T, (2.0, 2.0, 2.0))
    Mul.apply(x, w).sum().backward()
    return x.grad, w.grad


@differential(match_message=True)
def test_function_backward_twice(T):
    y = _square_fn(T).apply(_x(T), 2.0).sum()
    y.backward()
    y.backward()


# ------------------------------------------------------------------ random graphs
@pytest.mark.parametrize("seed", range(4))
def test_random_expression_graphs(seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(4) for _ in range(3)]
    ops = rng.integers(0, 4, size=12)

    def body(T):
        leaves = [T.tensor(d, requires_grad=True) for d in data]
        vals = list(leaves)
        for k, op in enumerate(ops):
            a, b = vals[k % len(vals)], vals[(3 * k + 1) % len(vals)]
            vals.append([a * b, a + b, a - b * 0.5, (a * 0.3).exp()][op])
        (vals[-1] * vals[-2]).sum().backward()
        return [t.grad for t in leaves]
    compare(body, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["mul", "div"])
@differential(match_message=True)
def test_backward_twice_through_scalar_product(T, op):
    x = _x(T)
    y = (x * 2 if op == "mul" else x / 2).sum()
    y.backward()
    y.backward()


@differential
def test_backward_on_leaf_itself(T):
    x = _x(T)
    x.backward(T.tensor([1.0, 2.0, 3.0]))
    s = T.tensor(2.0, requires_grad=True)
    s.backward()
    return x.grad, s.grad


@differential
def test_autograd_grad_of_input_itself(T):
    x = _x(T)
    h = x * 2
    return T.autograd.grad(x, x, T.ones(3)), T.autograd.grad(h, h, T.full((3,), 2.0))


@differential
def test_grad_accumulates_across_dtypes_and_broadcast(T):
    x = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
    b = T.tensor([[1.0], [2.0], [3.0]], dtype=T.float64)
    (x * b).sum().backward()
    (x * b.float()).sum().backward()
    return x.grad


@differential
def test_hooks_on_shared_intermediate_fire_once_with_total(T):
    x = _x(T)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.clone()))
    (h * h + h * 3).sum().backward()
    return seen, x.grad


@differential(match_message=True)
def test_detect_anomaly_reports_nan_gradient(T):
    import warnings
    x = T.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with T.autograd.detect_anomaly():
            (x.sqrt() * 0).sum().backward()


@differential
def test_anomaly_mode_flags(T):
    import warnings
    before = T.is_anomaly_enabled()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with T.autograd.detect_anomaly(check_nan=False):
            inside = (T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled())
    with T.autograd.set_detect_anomaly(True):
        second = T.is_anomaly_enabled()
    x = T.tensor([0.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    return before, inside, second, T.is_anomaly_enabled(), len(w), x.grad


@differential
def test_gradcheck_passes_for_correct_gradients(T):
    x = T.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=T.float64, requires_grad=True)
    w = T.tensor([1.5, -0.5], dtype=T.float64, requires_grad=True)
    return T.autograd.gradcheck(lambda a, b: (a * b).exp() + a * 3, (x, w))


@differential
def test_gradcheck_detects_wrong_gradient(T):
    class Wrong(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g * 3
    x = T.tensor([0.5, 1.5], dtype=T.float64, requires_grad=True)
    quiet = T.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    try:
        T.autograd.gradcheck(Wrong.apply, (x,))
    except RuntimeError as e:
        return quiet, type(e).__name__, str(e).splitlines()[0]
    return quiet, None


@differential
def test_node_metadata_and_isinstance(T):
    y = _x(T) * 2
    y.grad_fn.metadata["tag"] = 1
    return dict(y.grad_fn.metadata), isinstance(y.grad_fn, T.autograd.graph.Node)


@differential
def test_functional_jacobian_and_vjp(T):
    def f(a, b):
        return a * b + a.exp(), (a * a).sum()
    x = T.tensor([0.5, -1.0], dtype=T.float64)
    w = T.tensor([2.0, 3.0], dtype=T.float64)
    jac = T.autograd.functional.jacobian(f, (x, w))
    single = T.autograd.functional.jacobian(lambda a: a * a, x)
    out, v = T.autograd.functional.vjp(lambda a: (a * 3).sum(), x)
    out2, v2 = T.autograd.functional.vjp(lambda a, b: a * b, (x, w), T.ones(2, dtype=T.float64))
    return jac, single, out, v, out2, v2, x.requires_grad


def _autograd_garbage() -> list:
    """Tensors and graph nodes that only the cyclic garbage collector could free."""
    import gc
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [type(o).__name__ for o in gc.garbage
                if isinstance(o, (numtorch.Tensor, numtorch.autograd.graph.Node))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_leaves_and_graphs_form_no_reference_cycles():
    import gc
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            x = numtorch.tensor([1.0, 2.0], requires_grad=True)
            x.register_hook(lambda g: g)
            (x * x).sum().backward()
        assert _autograd_garbage() == []
    finally:
        gc.enable()


@differential
def test_leaf_hooks_survive_across_graphs(T):
    x = _x(T)
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    first = x.grad.clone()
    (x * 3).sum().backward()
    return first, x.grad


def test_saved_outputs_form_no_reference_cycles():
    import gc
    gc.collect()
    gc.disable()
    try:
        x = numtorch.tensor([1.0, 2.0], requires_grad=True)
        for _ in range(10):
            y = x.exp().sigmoid().tanh()
        del y
        assert _autograd_garbage() == []
    finally:
        gc.enable()


@differential(match_message=True)
def test_saved_output_modified_in_place_names_producer(T):
    x = _x(T)
    y = x.exp()
    z = y.sum() * 1
    w = (y * 1).sum()
    y.add_(1)
    (z + w).backward()


def test_function_saving_its_output_forms_no_cycle():
    import gc

    class Exp(numtorch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            out, = ctx.saved_tensors
            return g * out
    x = numtorch.tensor([0.5, 1.0], requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            y = Exp.apply(x)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
        del y
        assert _autograd_garbage() == []
    finally:
        gc.enable()


@differential
def test_leaf_grad_is_laid_out_like_the_leaf(T):
    """Gradients arriving transposed or permuted are stored contiguously (like a dense leaf's
    own layout; contiguous for leaves with gaps); retained grads are contiguous."""
    rng = np.random.default_rng(0)
    data = [T.tensor(rng.standard_normal(s)) for s in ((2, 3), (4, 3), (3, 2), (4, 6), (2, 3, 4))]
    w = data[0].clone().requires_grad_()
    (data[1] @ w.t()).sum().backward()
    strides = [w.grad.stride(), w.grad.view(-1)]
    p = data[0].clone().requires_grad_()
    (p.permute(1, 0) * data[2]).sum().backward()
    leaves = [data[2].t().requires_grad_(), data[3][:, ::2].requires_grad_(),
              data[4].permute(2, 0, 1).requires_grad_()]
    for leaf in leaves:
        (leaf.t() * 1 if leaf.dim() == 2 else leaf.permute(1, 2, 0) * 1).sum().backward()
        strides.append((leaf.stride(), leaf.grad.stride()))
    y = data[0].clone().requires_grad_().t() * 1
    y.retain_grad()
    (y.t() * data[0]).sum().backward()
    return strides, p.grad.stride(), p.grad, y.stride(), y.grad.stride(), y.grad


class _Halve:
    def __call__(self, g):
        return g[:1]


HOOKS_CHANGING_GRAD = {
    "leaf, size": (True, lambda g: g[:2]),
    "leaf, dtype": (True, lambda g: g.double()),
    "non-leaf, size": (False, lambda g: g.sum()),
    "non-leaf, dtype": (False, lambda g: g.half()),
    "non-leaf, long": (False, lambda g: g.long()),
    "non-leaf, reshaped": (False, lambda g: g.reshape(3, 1)),
    "callable object": (False, _Halve()),
    "not a tensor": (False, lambda g: 5),
}


@pytest.mark.parametrize("name", HOOKS_CHANGING_GRAD)
def test_hook_changing_the_gradient_size_or_dtype_is_refused(name):
    on_leaf, hook = HOOKS_CHANGING_GRAD[name]

    def body(T):
        x = _x(T)
        y = x * 2
        (x if on_leaf else y).register_hook(hook)
        y.sum().backward()
        return x.grad
    compare(body, match_message=True)


@differential(match_message=True)
def test_node_pre_hook_changing_the_gradient_size_is_refused(T):
    x = _x(T)
    y = x.exp()
    y.grad_fn.register_prehook(lambda grads: (grads[0][:2],))
    y.sum().backward()


@differential(match_message=True)
def test_hook_on_captured_tensor_changing_size_is_refused(T):
    x = _x(T)
    y = x * 2
    y.register_hook(lambda g: g[:1])
    T.autograd.grad((y * 1).sum(), y)


@differential
def test_function_node_class_is_named_after_the_function(T):
    class Sq(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g

    class Cube(Sq):
        pass

    x = _x(T)
    a, b, c = Sq.apply(x), Sq.apply(x), Cube.apply(x)
    return (type(a.grad_fn).__name__, a.grad_fn.name(), type(a.grad_fn) is type(b.grad_fn),
            type(c.grad_fn).__name__, repr(a.grad_fn).split(" object at ")[0])


def _aliasing_cases(T):
    """Graphs where one gradient array could reach several places: the same array for two
    inputs (add), a leaf used twice, a user-given gradient, broadcasting, retain_grad, hooks."""
    a = T.ones(3, requires_grad=True)
    b = T.ones(3, requires_grad=True)
    (a + b).sum().backward()
    yield "add", a, b
    x = T.ones(2, 3, requires_grad=True)
    w = T.ones(4, 3, requires_grad=True)
    y = x @ w.t()
    y.retain_grad()
    (y * 2).sum().backward()
    yield "matmul+retain", x, w, y
    g = T.full((3,), 2.0)
    leaf = T.ones(3, requires_grad=True)
    leaf.backward(g)
    yield "user gradient", leaf, g
    c = T.ones(3, requires_grad=True)
    d = T.ones(1, requires_grad=True)
    (c * d).sum().backward()
    yield "broadcast", c, d
    e = T.ones(3, requires_grad=True)
    seen = []
    e.register_hook(lambda grad: seen.append(grad))
    (e * 3).sum().backward()
    yield "hook", e, seen[0]
    f = T.ones(3, requires_grad=True)
    h = f * 1.0
    (h + h).sum().backward()
    yield "twice", f


def test_leaf_gradients_never_alias_other_tensors():
    """A first .grad may be the engine's own result array (not a copy), but never memory that
    another gradient, a retained gradient, a hook's argument or the user's tensor shares: writing
    into one .grad changes nothing else, as in torch."""
    @differential
    def body(T):
        out = []
        for name, *tensors in _aliasing_cases(T):
            grads = [t.grad if t.requires_grad and t.grad is not None else t for t in tensors]
            grads[0].add_(100.0)  # through the first leaf's .grad
            out.append((name, [gr.clone() for gr in grads]))
        return out
    body()


def test_unshared_first_gradient_is_kept_without_a_copy(monkeypatch):
    """A Linear layer's weight and bias gradients are the arrays the backward computed (torch
    steals such gradients too); a copy is made only when something else holds the array."""
    import numtorch.autograd.graph as graph
    copies = []
    original = graph._new_leaf_grad
    monkeypatch.setattr(graph, "_new_leaf_grad", lambda g, d: copies.append(1) or original(g, d))
    lin = numtorch.nn.Linear(4, 3)
    lin(numtorch.ones(2, 4)).sum().backward()
    assert copies == []
    assert lin.weight.grad._data.flags.c_contiguous and lin.weight.grad._data.flags.writeable
    kept = numtorch.ones(3)
    leaf = numtorch.ones(3, requires_grad=True)
    leaf.backward(kept)
    assert copies == [1] and not np.shares_memory(leaf.grad._data, kept._data)


def test_leaf_with_hooks_before_a_leaf_without():
    """A leaf whose node runs hooks (the engine's slow path) followed by a plain leaf with an
    unshared gradient: a Linear layer with a hook on its weight."""
    @differential
    def body(T):
        T.manual_seed(0)
        lin = T.nn.Linear(4, 3)
        seen = []
        lin.weight.register_hook(lambda g: seen.append(g.clone()))
        lin(T.ones(2, 4)).sum().backward()
        return lin.weight.grad, lin.bias.grad, seen
    body()
