"""Property test: random nested module trees, built identically in torch and numtorch, have the
same state_dict (keys, order, shapes, values, metadata), the same named_parameters /
named_buffers / named_modules (with and without remove_duplicate), and load the same way
(round trip, assign, strict errors).

A tree is a list of entries; each entry is a parameter, a buffer (persistent or not, floating or
integer), a None parameter or buffer, a child subtree, a reference to an earlier parameter
(shared parameter) or to an earlier finished module (shared submodule), registered through the
``register_*`` methods or through attribute assignment.
"""
from __future__ import annotations

import itertools
import math
from collections import OrderedDict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import compare
from test_module import error_of

NAMES = ["weight", "bias", "w", "running_mean", "block", "layer", "a", "b", "0", "1", "2"]

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
via_setattr = st.booleans()
leaf_entries = st.one_of(
    st.tuples(st.just("param"), st.sampled_from(NAMES), via_setattr, shapes),
    st.tuples(st.just("buffer"), st.sampled_from(NAMES), via_setattr, shapes, st.booleans()),
    st.tuples(st.just("int_buffer"), st.sampled_from(NAMES), via_setattr, shapes, st.booleans()),
    st.tuples(st.just("none_param"), st.sampled_from(NAMES), st.just(False)),
    st.tuples(st.just("none_buffer"), st.sampled_from(NAMES), st.just(False)),
    st.tuples(st.just("shared_param"), st.sampled_from(NAMES), via_setattr, st.integers(0, 99)),
    st.tuples(st.just("shared_child"), st.sampled_from(NAMES), via_setattr, st.integers(0, 99)),
)
trees = st.recursive(
    st.lists(leaf_entries, max_size=4),
    lambda subtrees: st.lists(st.one_of(
        leaf_entries,
        st.tuples(st.just("child"), st.sampled_from(NAMES), via_setattr, subtrees)),
        max_size=4),
    max_leaves=14)


def build(T, tree, offset: float = 0.0):
    """The module tree described by ``tree``, with deterministic values shifted by ``offset``."""
    params, finished = [], []
    counter = itertools.count()

    class Node(T.nn.Module):
        pass

    def values(shape, integer: bool):
        start = next(counter)
        data = np.arange(math.prod(shape), dtype=np.float32).reshape(shape) / 4 + start + offset
        return T.tensor(data.astype(np.int64) if integer else data)

    def register(module, kind, name, use_setattr, value, persistent=True):
        settable = use_setattr and name.isidentifier()
        if kind == "param":
            module.__setattr__(name, value) if settable else module.register_parameter(name, value)
        elif kind == "buffer":
            if settable:
                setattr(module, name, T.nn.Buffer(value, persistent=persistent))
            else:
                module.register_buffer(name, value, persistent=persistent)
        elif settable:
            setattr(module, name, value)
        else:
            module.add_module(name, value)

    def make(entries):
        module = Node()
        used = set()
        for entry in entries:
            kind, name, use_setattr = entry[:3]
            while name in used:
                name += "_"
            used.add(name)
            if kind == "param":
                param = T.nn.Parameter(values(entry[3], False))
                params.append(param)
                register(module, "param", name, use_setattr, param)
            elif kind in ("buffer", "int_buffer"):
                register(module, "buffer", name, use_setattr,
                         values(entry[3], kind == "int_buffer"), persistent=entry[4])
            elif kind == "none_param":
                module.register_parameter(name, None)
            elif kind == "none_buffer":
                module.register_buffer(name, None)
            elif kind == "shared_param" and params:
                register(module, "param", name, use_setattr, params[entry[3] % len(params)])
            elif kind == "shared_child" and finished:
                register(module, "child", name, use_setattr, finished[entry[3] % len(finished)])
            elif kind == "child":
                register(module, "child", name, use_setattr, make(entry[3]))
        finished.append(module)
        return module

    return make(tree)


def names(pairs) -> list[str]:
    return [name for name, _ in pairs]


def shifted(T, state: dict, by: float) -> OrderedDict:
    """A copy of ``state`` with every value shifted (floating) or incremented (integer)."""
    return OrderedDict((k, v + (by if v.is_floating_point() else 1)) for k, v in state.items())


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(trees)
def test_state_dict_and_traversal_match_torch(tree):
    def body(T):
        model = build(T, tree)
        state = model.state_dict()
        return (state, dict(state._metadata),
                names(model.named_parameters()),
                names(model.named_parameters(remove_duplicate=False)),
                names(model.named_buffers()), names(model.named_buffers(remove_duplicate=False)),
                names(model.named_modules()), names(model.named_modules(remove_duplicate=False)),
                names(model.named_children()), len(list(model.parameters())),
                list(model.state_dict(keep_vars=True)), repr(model))
    compare(body)


@SETTINGS
@given(trees)
def test_load_round_trip_matches_torch(tree):
    def body(T):
        source, target = build(T, tree), build(T, tree, offset=100.0)
        held = list(target.parameters())
        result = target.load_state_dict(shifted(T, source.state_dict(), 0.5))
        same_objects = [p is q for p, q in zip(held, target.parameters())]
        assigned = build(T, tree, offset=7.0)
        assigned_result = assigned.load_state_dict(shifted(T, source.state_dict(), -1.0),
                                                   assign=True)
        return (repr(result), target.state_dict(), same_objects, repr(assigned_result),
                assigned.state_dict(), names(assigned.named_parameters()))
    compare(body)


@SETTINGS
@given(trees, st.integers(0, 99))
def test_strict_load_errors_match_torch(tree, pick):
    def body(T):
        model = build(T, tree)
        state = model.state_dict()
        if state:
            del state[list(state)[pick % len(state)]]
        state["unexpected.key"] = T.zeros(1)
        relaxed = build(T, tree).load_state_dict(state, strict=False)
        return (error_of(T, lambda T_: model.load_state_dict(state)),
                relaxed.missing_keys, relaxed.unexpected_keys)
    compare(body)


ATTRIBUTE_NAMES = ["w", "b", "child", "running_mean", "training", "forward", "", "a.b"]
operations = st.lists(st.tuples(
    st.sampled_from(["parameter", "tensor", "buffer", "buffer_np", "module", "none", "int",
                     "del", "register_buffer", "register_buffer_np", "register_parameter",
                     "add_module"]),
    st.sampled_from(ATTRIBUTE_NAMES)), max_size=12)


def apply_operation(T, module, op: str, name: str):
    """One assignment/registration/deletion on ``module``; returns what it raised, if any."""
    value = {"parameter": lambda: T.nn.Parameter(T.ones(2)), "tensor": lambda: T.zeros(2),
             "buffer": lambda: T.nn.Buffer(T.ones(1)),
             "buffer_np": lambda: T.nn.Buffer(T.ones(1), persistent=False),
             "module": lambda: T.nn.Module(), "none": lambda: None, "int": lambda: 3}
    try:
        if op in value:
            setattr(module, name, value[op]())
        elif op == "del":
            delattr(module, name)
        elif op.startswith("register_buffer"):
            module.register_buffer(name, T.ones(3), persistent=op == "register_buffer")
        elif op == "register_parameter":
            module.register_parameter(name, T.nn.Parameter(T.ones(3)))
        else:
            module.add_module(name, T.nn.Module())
    except Exception as exc:  # noqa: BLE001 - the error is part of what is compared
        return type(exc).__name__, str(exc).replace("numtorch.", "torch.")
    return None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(operations)
def test_attribute_routing_sequences_match_torch(ops):
    """Any sequence of assignments, registrations and deletions leaves the same registries,
    plain attributes and state_dict as in torch, raising the same errors on the way."""
    def body(T):
        module = T.nn.Module()
        errors = [apply_operation(T, module, op, name) for op, name in ops]
        plain = sorted(k for k in vars(module) if not k.startswith("_") and k != "training")
        return (errors, list(module._parameters), list(module._buffers),
                sorted(module._non_persistent_buffers_set), list(module._modules), plain,
                list(module.state_dict()), module.training)
    compare(body)
