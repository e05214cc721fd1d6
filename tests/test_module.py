"""nn.Module registration, attribute routing, traversal and repr, differentially against torch.

Each body builds the same small modules from ``zoo(T)`` (classes written against ``T.nn``) and
returns what it observed; the harness compares torch's and numtorch's results, including the
exception type and wording for the error cases.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import numtorch
from harness import compare, differential


DIAGNOSIS = "\n\nnumtorch diagnosis:"


def error_of(T, body, *args):
    """``(exception type name, message)`` of ``body(T, *args)``, or "no error"; numtorch's
    diagnosis appended after torch's text is cut off and class paths read ``torch.``, so the
    rest must equal torch's exactly."""
    try:
        body(T, *args)
    except Exception as exc:  # noqa: BLE001 - the exception is the result under test
        return type(exc).__name__, str(exc).split(DIAGNOSIS)[0].replace("numtorch.", "torch.")
    return "no error"


def compare_error(body, *args):
    """Assert ``body`` raises the same exception type with exactly torch's message."""
    expected, actual = compare(error_of, body, *args)
    assert expected != "no error", "torch did not raise: the case tests nothing"


def raises_like_torch(body):
    """Test decorator: ``body(T)`` must raise as torch does, with torch's exact wording."""
    @functools.wraps(body)
    def test():
        compare_error(body)
    del test.__wrapped__
    return test


def zoo(T):
    """Small modules written against ``T.nn`` (torch or numtorch), deterministic weights."""
    nn = T.nn

    class Affine(nn.Module):
        def __init__(self, n_in: int, n_out: int, bias: bool = True) -> None:
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            w = np.arange(n_in * n_out, dtype=np.float32).reshape(n_out, n_in) / 10
            self.weight = nn.Parameter(T.tensor(w))
            if bias:
                self.bias = nn.Parameter(T.zeros(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            out = (x.unsqueeze(-2) * self.weight).sum(-1)
            return out if self.bias is None else out + self.bias

        def extra_repr(self) -> str:
            return f"in_features={self.n_in}, out_features={self.n_out}, " \
                   f"bias={self.bias is not None}"

    class Act(nn.Module):
        def forward(self, x):
            return x * 2

    class Stats(nn.Module):
        def __init__(self, n: int = 3) -> None:
            super().__init__()
            self.register_buffer("running_mean", T.zeros(n))
            self.register_buffer("count", T.tensor(0))
            self.register_buffer("scratch", T.ones(n), persistent=False)
            self.momentum = 0.1

        def forward(self, x):
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * x
            return x

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(T.ones(1))
            self.fc1 = Affine(3, 4)
            self.act = Act()
            self.fc2 = Affine(4, 2, bias=False)
            self.stats = Stats(2)

        def forward(self, x):
            return self.stats(self.fc2(self.act(self.fc1(x))) * self.scale)

    class Shared(nn.Module):
        """One module used twice and one parameter held by two modules."""

        def __init__(self) -> None:
            super().__init__()
            self.a = Affine(2, 2)
            self.b = self.a
            self.c = Affine(2, 2)
            self.c.weight = self.a.weight
            self.d = Stats(2)
            self.d.running_mean = self.c.bias.detach()

    return dict(Affine=Affine, Act=Act, Stats=Stats, Net=Net, Shared=Shared)


def names(pairs) -> list[str]:
    return [name for name, _ in pairs]


def module_names(T, pairs) -> list[tuple[str, str]]:
    return [(name, type(m).__name__) for name, m in pairs]


# ------------------------------------------------------------------ routing
@differential
def test_parameter_buffer_and_child_assignment_route_into_registries(T):
    net = zoo(T)["Net"]()
    return (list(net._parameters), list(net._buffers), list(net._modules),
            list(net.stats._buffers), sorted(net.stats._non_persistent_buffers_set),
            "momentum" in net.stats.__dict__)


@differential
def test_tensor_assigned_to_buffer_name_replaces_the_buffer_and_keeps_persistence(T):
    stats = zoo(T)["Stats"](3)
    stats(T.ones(3))
    stats.scratch = T.full((3,), 5.0)
    return (stats.running_mean, stats.scratch, list(stats.state_dict()),
            sorted(stats._non_persistent_buffers_set), "running_mean" in stats.__dict__)


@differential
def test_plain_tensor_attribute_is_not_state(T):
    net = zoo(T)["Net"]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.w1 = T.tensor([1.0], requires_grad=True)
    net.plain = T.zeros(2)
    return (list(net.state_dict()), names(net.named_parameters()),
            names(net.named_buffers()), net.w1, "w1" in net.__dict__)


@differential
def test_none_clears_a_parameter_buffer_or_child_and_is_skipped(T):
    net = zoo(T)["Net"]()
    net.scale = None
    net.stats.running_mean = None
    net.act = None
    net.register_buffer("empty", None)
    return (list(net.state_dict()), names(net.named_parameters()), names(net.named_buffers()),
            module_names(T, net.named_modules()), net.scale, net.act, list(net._modules))


@differential
def test_nn_buffer_assignment_registers_a_buffer(T):
    m = T.nn.Module()
    m.kept = T.nn.Buffer(T.ones(2))
    m.dropped = T.nn.Buffer(T.zeros(2), persistent=False)
    b = T.nn.Buffer(T.ones(2, requires_grad=True))
    return (list(m.state_dict()), names(m.named_buffers()), isinstance(m.kept, T.nn.Buffer),
            isinstance(T.ones(1), T.nn.Buffer), b.requires_grad, b.persistent,
            type(m.kept).__name__)


@differential
def test_reassigning_a_name_moves_it_between_registries(T):
    m = T.nn.Module()
    m.register_buffer("x", T.zeros(2), persistent=False)
    m.x = T.nn.Parameter(T.ones(2))
    first = (list(m._parameters), list(m._buffers), sorted(m._non_persistent_buffers_set))
    m.x = zoo(T)["Act"]()
    second = (list(m._parameters), list(m._buffers), list(m._modules))
    m.plain = 3
    m.plain = T.nn.Parameter(T.ones(1))
    return first, second, list(m._parameters), "plain" in m.__dict__


@differential
def test_delattr_removes_state_and_plain_attributes(T):
    net = zoo(T)["Net"]()
    del net.scale
    del net.stats.scratch
    del net.stats.running_mean
    del net.fc2
    net.note = "x"
    del net.note
    return (list(net.state_dict()), sorted(net.stats._non_persistent_buffers_set),
            hasattr(net, "note"), hasattr(net, "scale"))


@raises_like_torch
def test_missing_attribute_error(T):
    return zoo(T)["Net"]().nothing_here


@differential
def test_assignment_to_a_child_name_replaces_the_child(T):
    net = zoo(T)["Net"]()
    net.fc2 = zoo(T)["Affine"](4, 5)
    return list(net.state_dict()), [tuple(v.shape) for v in net.state_dict().values()]


# ------------------------------------------------------------------ registration errors
def _bad_registrations():
    def empty_buffer(T, m):
        m.register_buffer("", T.zeros(1))

    def dotted_buffer(T, m):
        m.register_buffer("a.b", T.zeros(1))

    def existing_buffer(T, m):
        m.register_buffer("training", T.zeros(1))

    def int_buffer_name(T, m):
        m.register_buffer(3, T.zeros(1))

    def non_tensor_buffer(T, m):
        m.register_buffer("b", [1.0])

    def empty_param(T, m):
        m.register_parameter("", T.nn.Parameter(T.zeros(1)))

    def dotted_param(T, m):
        m.register_parameter("a.b", T.nn.Parameter(T.zeros(1)))

    def existing_param(T, m):
        m.register_parameter("forward", T.nn.Parameter(T.zeros(1)))

    def tensor_as_param(T, m):
        m.register_parameter("p", T.zeros(1))

    def non_leaf_param(T, m):
        p = T.nn.Parameter(T.zeros(1))
        q = p * 2
        q.__class__ = T.nn.Parameter
        m.register_parameter("p", q)

    def tensor_to_param_name(T, m):
        m.register_parameter("p", T.nn.Parameter(T.zeros(1)))
        m.p = T.zeros(1)

    def int_to_child_name(T, m):
        m.add_module("child", T.nn.Module())
        m.child = 3

    def int_to_buffer_name(T, m):
        m.register_buffer("b", T.zeros(1))
        m.b = 3

    def non_module_child(T, m):
        m.add_module("c", 3)

    def dotted_child(T, m):
        m.add_module("a.b", T.nn.Module())

    def empty_child(T, m):
        m.add_module("", T.nn.Module())

    def existing_child(T, m):
        m.add_module("eval", T.nn.Module())

    def int_child_name(T, m):
        m.add_module(1, T.nn.Module())

    def buffer_name_taken_by_param(T, m):
        m.p = T.nn.Parameter(T.zeros(1))
        m.register_buffer("p", T.zeros(1))

    return [empty_buffer, dotted_buffer, existing_buffer, int_buffer_name, non_tensor_buffer,
            empty_param, dotted_param, existing_param, tensor_as_param, non_leaf_param,
            tensor_to_param_name, int_to_child_name, int_to_buffer_name, non_module_child,
            dotted_child, empty_child, existing_child, int_child_name,
            buffer_name_taken_by_param]


@pytest.mark.parametrize("case", _bad_registrations(), ids=lambda f: f.__name__)
def test_bad_registration_raises_torchs_error(case):
    def body(T):
        case(T, T.nn.Module())
    compare_error(body)


def _use_before_init():
    def parameter(T, m):
        m.w = T.nn.Parameter(T.zeros(1))

    def child(T, m):
        m.c = T.nn.Module()

    def buffer(T, m):
        m.register_buffer("b", T.zeros(1))

    def register_parameter(T, m):
        m.register_parameter("w", T.nn.Parameter(T.zeros(1)))

    def read_attribute(T, m):
        return m.anything

    def state_dict(T, m):
        return m.state_dict()

    return [parameter, child, buffer, register_parameter, read_attribute, state_dict]


@pytest.mark.parametrize("case", _use_before_init(), ids=lambda f: f.__name__)
def test_use_before_super_init_raises_torchs_error(case):
    def body(T):
        class Early(T.nn.Module):
            def __init__(self):
                case(T, self)
                super().__init__()
        return Early()
    compare_error(body)


@differential
def test_plain_attribute_before_super_init_is_allowed(T):
    class Early(T.nn.Module):
        def __init__(self):
            self.size = 3
            super().__init__()
    return Early().size


@raises_like_torch
def test_unexpected_init_arguments(T):
    return T.nn.Module(3)


@raises_like_torch
def test_unexpected_init_keyword(T):
    return T.nn.Module(size=3)


# ------------------------------------------------------------------ traversal
@differential
def test_named_parameters_buffers_and_modules_in_registration_order(T):
    net = zoo(T)["Net"]()
    return (names(net.named_parameters()), names(net.named_buffers()),
            module_names(T, net.named_modules()), module_names(T, net.named_children()),
            [tuple(p.shape) for p in net.parameters()], [tuple(b.shape) for b in net.buffers()],
            [type(m).__name__ for m in net.children()], [type(m).__name__ for m in net.modules()])


@differential
def test_shared_modules_and_parameters_are_yielded_once_unless_asked(T):
    s = zoo(T)["Shared"]()
    return (names(s.named_parameters()), names(s.named_parameters(remove_duplicate=False)),
            names(s.named_buffers()), names(s.named_buffers(remove_duplicate=False)),
            module_names(T, s.named_modules()),
            module_names(T, s.named_modules(remove_duplicate=False)),
            names(s.named_children()), len(list(s.modules(remove_duplicate=False))),
            len(list(s.parameters())))


@differential
def test_prefix_recurse_and_memo(T):
    net = zoo(T)["Net"]()
    memo = {net.fc1}
    return (names(net.named_parameters(prefix="model")),
            names(net.named_parameters(recurse=False)),
            names(net.named_buffers(prefix="m", recurse=False)),
            names(net.stats.named_buffers(prefix="stats")),
            module_names(T, net.named_modules(prefix="root")),
            module_names(T, net.named_modules(memo=memo)), len(memo))


@differential
def test_get_submodule_parameter_and_buffer(T):
    outer = T.nn.Module()
    outer.net = zoo(T)["Net"]()
    return (type(outer.get_submodule("net.fc1")).__name__, outer.get_submodule("") is outer,
            outer.get_parameter("net.fc1.weight"), outer.get_parameter("net.scale"),
            outer.get_buffer("net.stats.running_mean"), outer.get_buffer("net.stats.scratch"))


@pytest.mark.parametrize("call", [
    lambda m: m.get_submodule("net.nope"), lambda m: m.get_submodule("net.scale"),
    lambda m: m.get_submodule("net.stats.momentum"), lambda m: m.get_parameter("net.fc1.nope"),
    lambda m: m.get_parameter("net.stats.running_mean"), lambda m: m.get_buffer("net.fc1.weight"),
    lambda m: m.get_buffer("net.nope.x"), lambda m: m.get_buffer("net.stats.momentum")])
def test_get_by_path_errors(call):
    def body(T):
        outer = T.nn.Module()
        outer.net = zoo(T)["Net"]()
        return call(outer)
    compare_error(body)


@differential
def test_apply_visits_children_first_then_self(T):
    net = zoo(T)["Net"]()
    seen = []
    result = net.apply(lambda m: seen.append(type(m).__name__))
    return seen, result is net


# ------------------------------------------------------------------ repr and dir
@differential
def test_repr_nested_with_extra_repr(T):
    class Multi(T.nn.Module):
        def extra_repr(self):
            return "first\nsecond"

    net = zoo(T)["Net"]()
    net.multi = Multi()
    outer = T.nn.Module()
    outer.inner = net
    return repr(outer), repr(T.nn.Module()), repr(zoo(T)["Affine"](1, 2)), str(Multi())


@differential
def test_dir_lists_state_names_without_digits(T):
    net = zoo(T)["Net"]()
    seq = T.nn.Sequential(zoo(T)["Act"]())
    listed = dir(net)
    return ([n for n in ("scale", "fc1", "running_mean", "forward", "training") if n in listed],
            "0" in dir(seq), listed == sorted(listed))


# ------------------------------------------------------------------ beyond torch
def test_trainable_plain_tensor_attribute_warns_naming_it():
    class MLP(numtorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = numtorch.tensor([1.0], requires_grad=True)

    with pytest.warns(UserWarning, match=r"MLP\.w1 .*nn\.Parameter.*register_buffer"):
        MLP()


def test_untrainable_or_intermediate_tensor_attribute_does_not_warn():
    m = numtorch.nn.Module()
    leaf = numtorch.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.plain = numtorch.zeros(2)
        m.activation = leaf * 2
        m.param = numtorch.nn.Parameter(numtorch.zeros(1))
    assert "plain" in m.__dict__ and "activation" in m.__dict__


def test_docstring_examples_run():
    import doctest

    import numtorch.nn.modules.module as module_file
    result = doctest.testmod(module_file, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0
