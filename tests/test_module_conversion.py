"""Module.to / float / double / half / bfloat16 / type / cpu / cuda, train/eval, requires_grad_,
zero_grad, __call__ with forward hooks, and copying/pickling whole modules, against torch."""
from __future__ import annotations

import copy
import pickle

import pytest

import numtorch
from harness import compare, differential
from test_module import compare_error, raises_like_torch, zoo


def net_with_grads(T):
    """The zoo Net after one backward pass, with an int buffer and a plain tensor attribute."""
    net = zoo(T)["Net"]()
    net.plain = T.ones(2)
    out = net(T.ones(3))
    (out * out).sum().backward()
    return net


def describe(net) -> tuple:
    """Everything a conversion may change: state, dtypes, grads, the plain attribute."""
    return (net.state_dict(), [(n, p.grad) for n, p in net.named_parameters()], net.plain)


# ------------------------------------------------------------------ dtype and device
@pytest.mark.parametrize("convert", [
    lambda T, m: m.double(), lambda T, m: m.half(), lambda T, m: m.bfloat16(),
    lambda T, m: m.double().float(), lambda T, m: m.to(T.float64),
    lambda T, m: m.to(dtype=T.float16), lambda T, m: m.to("cpu", T.float64),
    lambda T, m: m.to(T.zeros(1, dtype=T.float64)), lambda T, m: m.to("cpu"),
    lambda T, m: m.to(T.device("cpu"), non_blocking=True), lambda T, m: m.cpu(),
    lambda T, m: m.type(T.float64)],
    ids=["double", "half", "bfloat16", "double_float", "to_dtype", "to_dtype_kw", "to_dev_dtype",
         "to_tensor", "to_str", "to_device_nb", "cpu", "type"])
def test_conversion_casts_floating_state_and_grads_only(convert):
    def body(T):
        net = net_with_grads(T)
        weight, bias = net.fc1.weight, net.fc1.bias
        result = convert(T, net)
        return (result is net, net.fc1.weight is weight, net.fc1.bias is bias,
                describe(net), net.fc1.weight.is_leaf, type(net.fc1.weight).__name__)
    compare(body)


@differential
def test_type_casts_integer_buffers_too(T):
    net = zoo(T)["Net"]()
    net.type(T.float64)
    return net.state_dict()


@raises_like_torch
def test_to_integer_dtype_is_refused(T):
    zoo(T)["Net"]().to(T.int32)


@differential
def test_to_complex_warns_and_casts(T):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = zoo(T)["Affine"](1, 1).to(T.complex64)
    return net.weight.dtype, [w.category.__name__ for w in caught]


@differential
def test_to_meta_keeps_shapes(T):
    net = zoo(T)["Net"]().to("meta")
    return [(k, tuple(v.shape), str(v.device), str(v.dtype)) for k, v in net.state_dict().items()]


@raises_like_torch
def test_cuda_without_cuda_raises_torchs_error(T):
    zoo(T)["Net"]().cuda()


@differential
def test_cuda_on_a_stateless_module_is_a_no_op(T):
    return repr(zoo(T)["Act"]().cuda())


@differential
def test_buffers_are_replaced_parameters_are_not(T):
    net = zoo(T)["Net"]()
    running_mean, count = net.stats.running_mean, net.stats.count
    net.double()
    return net.stats.running_mean is running_mean, net.stats.count is count


# ------------------------------------------------------------------ modes and gradients
@differential
def test_train_and_eval_set_every_submodule(T):
    net = zoo(T)["Net"]()
    flags = [m.training for m in net.modules()]
    returned = net.eval()
    evaluated = [m.training for m in net.modules()]
    net.fc1.train()
    mixed = [m.training for m in net.modules()]
    return flags, returned is net, evaluated, mixed, net.train(True) is net


@raises_like_torch
def test_train_mode_must_be_bool(T):
    zoo(T)["Net"]().train("yes")


@differential
def test_requires_grad_freezes_and_unfreezes(T):
    net = zoo(T)["Net"]()
    net.fc1.requires_grad_(False)
    frozen = [p.requires_grad for p in net.parameters()]
    returned = net.requires_grad_()
    return frozen, [p.requires_grad for p in net.parameters()], returned is net


@differential
def test_zero_grad_to_none_or_zeros(T):
    net = net_with_grads(T)
    net.fc1.zero_grad(set_to_none=False)
    partly = [(n, p.grad) for n, p in net.named_parameters()]
    net.zero_grad()
    return partly, [p.grad for p in net.parameters()]


# ------------------------------------------------------------------ calling and hooks
@differential
def test_call_runs_forward(T):
    net = zoo(T)["Net"]()
    out = net(T.ones(3))
    return out, net.stats.running_mean


@raises_like_torch
def test_missing_forward(T):
    T.nn.Module()(T.ones(1))


@differential
def test_forward_pre_hooks_and_hooks_change_inputs_and_outputs(T):
    m = zoo(T)["Affine"](2, 2)
    calls = []

    def double_input(module, args):
        calls.append(("pre", len(args)))
        return args[0] * 2

    def add_kwarg(module, args, kwargs):
        calls.append(("pre_kw", sorted(kwargs)))
        return args, kwargs

    def first(module, args, output):
        calls.append("first")

    def prepended(module, args, output):
        calls.append("prepended")
        return output + 1

    def with_kwargs(module, args, kwargs, output):
        calls.append(("kw", len(args)))
        return output * 10

    handles = [m.register_forward_pre_hook(double_input),
               m.register_forward_pre_hook(add_kwarg, with_kwargs=True),
               m.register_forward_hook(first),
               m.register_forward_hook(prepended, prepend=True),
               m.register_forward_hook(with_kwargs, with_kwargs=True)]
    hooked = m(T.ones(2))
    for h in handles:
        h.remove()
    plain = m(T.ones(2))
    return hooked, plain, calls, len(m._forward_hooks), len(m._forward_hooks_with_kwargs)


@raises_like_torch
def test_kwargs_pre_hook_must_return_a_pair(T):
    m = zoo(T)["Act"]()
    m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
    m(T.ones(1))


@differential
def test_always_call_hook_runs_when_forward_raises(T):
    class Broken(T.nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")

    m = Broken()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append("always"), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("normal"))
    try:
        m(T.ones(1))
    except ValueError as exc:
        seen.append(str(exc))
    return seen


@differential
def test_hook_handle_is_a_context_manager(T):
    m = zoo(T)["Act"]()
    with m.register_forward_hook(lambda mod, args, out: out + 1):
        inside = m(T.ones(1))
    return inside, m(T.ones(1))


# ------------------------------------------------------------------ copying and pickling
@differential
def test_deepcopy_copies_state_and_keeps_sharing_inside(T):
    s = zoo(T)["Shared"]()
    s.a.weight.grad = T.ones(2, 2)
    c = copy.deepcopy(s)
    return (c.state_dict(), c.a is c.b, c.c.weight is c.a.weight, c.a.weight is s.a.weight,
            c.a.weight.grad, type(c.a.weight).__name__, repr(c), c.training)


@pytest.mark.skipif(not hasattr(numtorch, "save"), reason="numtorch.save lands with serialization")
def test_pickle_round_trip_of_a_whole_module():
    def body(T):
        net = zoo(T)["Net"]()
        net.stats(T.ones(2))
        back = pickle.loads(pickle.dumps(net))
        return back.state_dict(), repr(back), type(back.fc1.weight).__name__
    compare(body)


@pytest.mark.parametrize("args,kwargs", [
    (("cuda",), {}), ((3,), {}), (("xyz",), {}), ((), {"copy": True}),
    ((), {"device": 0})], ids=["cuda", "int_device", "bad_device", "copy", "int_device_kw"])
def test_to_errors(args, kwargs):
    def body(T):
        zoo(T)["Net"]().to(*args, **kwargs)
    compare_error(body)


@differential
def test_to_without_target_or_with_none_changes_nothing(T):
    net = zoo(T)["Net"]()
    results = [net.to() is net, net.to(None) is net, net.to("cpu", None) is net,
               net.to(memory_format=T.channels_last) is net]
    return results, net.state_dict()


@differential
def test_to_empty_materialises_a_meta_model(T):
    net = zoo(T)["Net"]().to("meta")
    weight = net.fc1.weight
    net.to_empty(device="cpu")
    return ([(k, tuple(v.shape), v.dtype, str(v.device)) for k, v in net.state_dict().items()],
            net.fc1.weight is weight, type(net.fc1.weight).__name__)


@differential
def test_set_submodule(T):
    outer = T.nn.Module()
    outer.net = zoo(T)["Net"]()
    outer.set_submodule("net.fc2", zoo(T)["Affine"](4, 7))
    outer.set_submodule("net.extra", zoo(T)["Act"]())
    outer.set_submodule("top", zoo(T)["Act"](), strict=False)
    return list(outer.state_dict()), [n for n, _ in outer.named_modules()]


@pytest.mark.parametrize("call", [
    lambda T, m: m.set_submodule("", T.nn.Module()),
    lambda T, m: m.set_submodule("net.fc1", 3),
    lambda T, m: m.set_submodule("net.nope", T.nn.Module(), strict=True),
    lambda T, m: m.set_submodule("net.scale", T.nn.Module()),
    lambda T, m: m.set_submodule("nope.child", T.nn.Module())])
def test_set_submodule_errors(call):
    def body(T):
        outer = T.nn.Module()
        outer.net = zoo(T)["Net"]()
        call(T, outer)
    compare_error(body)


@differential
def test_moving_to_and_from_meta_makes_new_parameters_as_torch(T):
    net = zoo(T)["Affine"](2, 2)
    net.weight.grad = T.ones(2, 2)
    net.bias.requires_grad_(False)
    weight = net.weight
    net.to("meta")
    to_meta = (net.weight is weight, str(net.weight.grad.device), net.bias.requires_grad)
    weight = net.weight
    net.to_empty(device="meta")
    return to_meta, net.weight is weight, type(net.weight).__name__


@differential
def test_always_call_hook_runs_when_a_pre_hook_raises(T):
    m = zoo(T)["Act"]()
    seen = []

    def failing(module, args):
        raise KeyError("pre")

    m.register_forward_pre_hook(failing)
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    try:
        m(T.ones(1))
    except KeyError:
        seen.append("raised")
    return seen
