"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch: indexing,
mutation, keys, state_dict and reprs."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from harness import compare, differential
from test_module import compare_error, raises_like_torch, zoo


def layers(T, *sizes):
    """Affine layers of the zoo between consecutive ``sizes``."""
    Affine = zoo(T)["Affine"]
    return [Affine(a, b) for a, b in zip(sizes, sizes[1:])]


def keys(module) -> list[str]:
    return list(module.state_dict())


# ------------------------------------------------------------------ Sequential
@differential
def test_sequential_forward_keys_and_repr(T):
    net = T.nn.Sequential(*layers(T, 3, 4), zoo(T)["Act"](), *layers(T, 4, 2))
    return net(T.ones(3)), keys(net), repr(net), len(net)


@differential
def test_sequential_from_ordered_dict(T):
    a, b = layers(T, 2, 3, 1)
    net = T.nn.Sequential(OrderedDict([("hidden", a), ("act", zoo(T)["Act"]()), ("out", b)]))
    return keys(net), repr(net), type(net.hidden).__name__, net(T.ones(2))


@differential
def test_sequential_indexing_and_slicing(T):
    net = T.nn.Sequential(*layers(T, 1, 2, 3, 4, 5))
    part = net[1:3]
    stepped = net[::2]
    return (net[0].n_out, net[-1].n_out, type(part).__name__, keys(part), keys(stepped),
            part[0] is net[1], [m.n_out for m in net], repr(net[-2:]))


@pytest.mark.parametrize("index", [4, -5, "1", 1.0])
def test_sequential_bad_index(index):
    def body(T):
        return T.nn.Sequential(*layers(T, 1, 2, 3, 4, 5))[index]
    compare_error(body)


@differential
def test_sequential_mutation(T):
    net = T.nn.Sequential(*layers(T, 1, 2, 3))
    steps = []
    net.append(layers(T, 3, 4)[0])
    steps.append(keys(net))
    net.insert(1, zoo(T)["Act"]())
    net.insert(-1, zoo(T)["Act"]())
    steps.append(repr(net))
    net.extend(layers(T, 4, 5, 6))
    steps.append(len(net))
    popped = net.pop(0)
    steps.append((popped.n_out, keys(net)))
    del net[-1]
    del net[1:3]
    steps.append(keys(net))
    net[0] = layers(T, 9, 9)[0]
    steps.append(repr(net))
    return steps


@raises_like_torch
def test_sequential_insert_out_of_range(T):
    T.nn.Sequential(*layers(T, 1, 2)).insert(5, zoo(T)["Act"]())


@differential
def test_sequential_add_mul_and_inplace(T):
    a = T.nn.Sequential(*layers(T, 1, 2))
    b = T.nn.Sequential(*layers(T, 2, 3, 4))
    added = a + b
    doubled = a * 2
    tripled = 3 * b
    a += b
    b *= 2
    return (keys(added), keys(doubled), keys(tripled), len(a), len(b), repr(doubled),
            names(doubled.named_modules()), names(doubled.named_modules(remove_duplicate=False)))


def names(pairs):
    return [n for n, _ in pairs]


@pytest.mark.parametrize("op", [lambda s: s + [1], lambda s: s * 0, lambda s: s * 1.5])
def test_sequential_operator_errors(op):
    def body(T):
        return op(T.nn.Sequential(zoo(T)["Act"]()))
    compare_error(body)


@differential
def test_sequential_shared_module_has_one_set_of_weights(T):
    shared = zoo(T)["Affine"](8, 8)
    net = T.nn.Sequential(*layers(T, 4, 8), zoo(T)["Act"](), shared, zoo(T)["Act"](), shared,
                          *layers(T, 8, 1))
    with T.no_grad():
        net[2].weight[0, 0] = 100
    return (net[4].weight[0, 0].item(), keys(net), names(net.named_parameters()),
            len(list(net.parameters())), net(T.ones(4)))


# ------------------------------------------------------------------ ModuleList
@differential
def test_module_list_repr_folds_repeats(T):
    Act = zoo(T)["Act"]
    ml = T.nn.ModuleList([*layers(T, 2, 2, 2, 2), Act(), Act(), *layers(T, 2, 3)])
    nested = T.nn.ModuleList([T.nn.Sequential(*layers(T, 1, 1)) for _ in range(2)])
    return repr(ml), repr(nested), repr(T.nn.ModuleList()), keys(ml)


@differential
def test_module_list_indexing_and_mutation(T):
    ml = T.nn.ModuleList(layers(T, 1, 2, 3))
    steps = [ml[-1].n_out, type(ml[0:1]).__name__, len(ml[:])]
    ml.append(layers(T, 3, 4)[0])
    ml.extend(layers(T, 4, 5))
    ml.insert(0, zoo(T)["Act"]())
    ml += layers(T, 5, 6)
    steps.append(keys(ml))
    steps.append(type(ml.pop(1)).__name__)
    del ml[0]
    del ml[::2]
    ml[0] = zoo(T)["Act"]()
    steps.append((keys(ml), len(ml), [type(m).__name__ for m in ml]))
    combined = ml + T.nn.ModuleList(layers(T, 7, 8))
    steps.append((type(combined).__name__, keys(combined)))
    return steps


@pytest.mark.parametrize("call", [lambda ml: ml[3], lambda ml: ml[-4], lambda ml: ml.extend(3),
                                  lambda ml: ml(1)])
def test_module_list_errors(call):
    def body(T):
        return call(T.nn.ModuleList(layers(T, 1, 2, 3, 4)))
    compare_error(body)


# ------------------------------------------------------------------ ModuleDict
@differential
def test_module_dict(T):
    a, b, c = layers(T, 1, 2, 3, 4)
    md = T.nn.ModuleDict({"first": a, "second": b})
    md["third"] = c
    md.update([("act", zoo(T)["Act"]())])
    md.update(OrderedDict([("z", zoo(T)["Act"]()), ("first", c)]))
    steps = [list(md), list(md.keys()), [type(v).__name__ for v in md.values()],
             [k for k, _ in md.items()], "second" in md, len(md), keys(md), repr(md)]
    popped = md.pop("second")
    del md["z"]
    steps.append((popped.n_out, list(md)))
    md.clear()
    steps.append((len(md), repr(md)))
    return steps


@pytest.mark.parametrize("call", [lambda md: md.update(3), lambda md: md.update([3]),
                                  lambda md: md.update([("a", 1, 2)]), lambda md: md["missing"],
                                  lambda md: md.update({"x": 3})])
def test_module_dict_errors(call):
    def body(T):
        return call(T.nn.ModuleDict({"a": zoo(T)["Act"]()}))
    compare_error(body)


# ------------------------------------------------------------------ ParameterList
@differential
def test_parameter_list(T):
    pl = T.nn.ParameterList([T.ones(2, 3), T.nn.Parameter(T.zeros(1), requires_grad=False)])
    pl.append(T.tensor(np.arange(4.0)))
    pl.extend([T.zeros(2, dtype=T.float64), "note"])
    pl += [T.ones(1)]
    holder = T.nn.Module()
    holder.params = pl
    return (len(pl), [type(p).__name__ for p in pl], [getattr(p, "requires_grad", None)
                                                       for p in pl],
            repr(pl), keys(holder), [n for n, _ in holder.named_parameters()], pl[-1],
            type(pl[1:3]).__name__, len(pl[::2]))


@pytest.mark.parametrize("call", [lambda pl: pl[5], lambda pl: pl.extend(3),
                                  lambda pl: pl.extend(pl[0]), lambda pl: pl(1)])
def test_parameter_list_errors(call):
    def body(T):
        return call(T.nn.ParameterList([T.ones(1), T.ones(2)]))
    compare_error(body)


@differential
def test_parameter_list_setitem_wraps_tensors(T):
    pl = T.nn.ParameterList([T.ones(1), T.ones(1)])
    pl[0] = T.zeros(3)
    pl[-1] = 5
    return type(pl[0]).__name__, pl[1], keys(pl), repr(pl)


# ------------------------------------------------------------------ ParameterDict
@differential
def test_parameter_dict(T):
    pd = T.nn.ParameterDict({"b": T.ones(2), "a": T.nn.Parameter(T.zeros(3))})
    pd["c"] = T.ones(1, 1)
    pd.update([("d", T.zeros(2, dtype=T.float64)), ("e", "text")])
    pd.update(OrderedDict([("z", T.ones(1)), ("b", T.full((2,), 2.0))]))
    steps = [list(pd), list(pd.keys()), [k for k, _ in pd.items()], repr(pd), keys(pd),
             "c" in pd, len(pd), list(reversed(pd)), pd.get("missing", 0), pd["b"]]
    steps.append(pd.setdefault("new", T.ones(1)).requires_grad)
    popped = pd.pop("a")
    key, value = pd.popitem()
    del pd["c"]
    steps.append((tuple(popped.shape), key, list(pd)))
    copied = pd.copy()
    merged = pd | T.nn.ParameterDict({"q": T.ones(1)})
    pd |= {"r": T.ones(1)}
    steps.append((list(copied), copied["b"] is pd["b"], list(merged), list(pd)))
    fresh = pd.fromkeys(["x", "y"], T.ones(1))
    steps.append((list(fresh), type(fresh["x"]).__name__))
    pd.clear()
    steps.append((len(pd), keys(pd)))
    return steps


@pytest.mark.parametrize("call", [lambda pd: pd[1], lambda pd: pd.update(3),
                                  lambda pd: pd.update([1]), lambda pd: pd.update([("a",)]),
                                  lambda pd: pd["missing"], lambda pd: pd(1)])
def test_parameter_dict_errors(call):
    def body(T):
        return call(T.nn.ParameterDict({"a": T.ones(1)}))
    compare_error(body)


@differential
def test_containers_round_trip_state(T):
    model = T.nn.Module()
    model.seq = T.nn.Sequential(*layers(T, 2, 3))
    model.blocks = T.nn.ModuleList(layers(T, 3, 3, 3))
    model.heads = T.nn.ModuleDict({"cls": layers(T, 3, 2)[0]})
    model.extra = T.nn.ParameterList([T.ones(2)])
    model.table = T.nn.ParameterDict({"k": T.ones(1)})
    sd = OrderedDict((k, v + 1) for k, v in model.state_dict().items())
    result = model.load_state_dict(sd)
    return repr(result), model.state_dict(), repr(model)


# ------------------------------------------------------------------ random edit sequences
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

edits = st.lists(st.tuples(
    st.sampled_from(["append", "insert", "extend", "pop", "del", "del_slice", "setitem",
                     "iadd", "imul", "slice"]),
    st.integers(-6, 6), st.integers(-6, 6)), max_size=10)


def edit(T, container, op: str, i: int, j: int):
    """One list-style edit of a Sequential or ModuleList; returns what it raised, if any."""
    Act = zoo(T)["Act"]
    try:
        if op == "append":
            container.append(zoo(T)["Affine"](1, abs(i) + 1))
        elif op == "insert":
            container.insert(i, Act())
        elif op == "extend":
            container.extend([Act() for _ in range(abs(j) % 3)])
        elif op == "pop":
            container.pop(i)
        elif op == "del":
            del container[i]
        elif op == "del_slice":
            del container[i:j]
        elif op == "setitem":
            container[i] = zoo(T)["Affine"](2, 2)
        elif op == "iadd":
            container += type(container)([Act()])
        elif op == "imul" and isinstance(container, T.nn.Sequential):
            container *= abs(j) % 3 + 1
        elif op == "slice":
            return ("slice", list(container[i:j].state_dict()))
    except Exception as exc:  # noqa: BLE001 - the error is part of what is compared
        return type(exc).__name__, str(exc).replace("numtorch.", "torch.")
    return None


@settings(max_examples=120, deadline=None, derandomize=True)
@given(edits, st.sampled_from(["Sequential", "ModuleList"]))
def test_random_edit_sequences_match_torch(ops, kind):
    def body(T):
        container = getattr(T.nn, kind)([zoo(T)["Affine"](1, k + 1) for k in range(3)]) \
            if kind == "ModuleList" else T.nn.Sequential(*[zoo(T)["Affine"](1, k + 1)
                                                         for k in range(3)])
        results = [edit(T, container, *op) for op in ops]
        return (results, list(container.state_dict()), repr(container), len(container),
                [type(m).__name__ for m in container],
                [n for n, _ in container.named_modules(remove_duplicate=False)])
    compare(body)
