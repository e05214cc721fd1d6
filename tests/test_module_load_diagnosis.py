"""numtorch's diagnosis appended to load_state_dict errors: shape-aware rename pairing, common
prefixes with leftovers, model key order, and bounded time on checkpoints with thousands of keys.
"""
from __future__ import annotations

import re
import time
from collections import OrderedDict

import numpy as np
import pytest

import numtorch
from harness import compare
from test_module import compare_error


def blocks(T, n: int):
    """A model with ``4 * n`` keys: ``layers.<i>.fc.{weight,bias}``, ``layers.<i>.norm.*``."""
    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = T.nn.Linear(2, 2)
            self.norm = T.nn.LayerNorm(2)

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = T.nn.ModuleList(Block() for _ in range(n))
    return Net()


def load_error(model, state) -> str:
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    return str(info.value)


def pairs(text: str) -> list[tuple[str, str]]:
    """The ``"old" -> "new"`` pairs the diagnosis proposes as plain renames."""
    section = text.split("look renamed (", 1)
    if len(section) == 1:
        return []
    body = section[1].split("\n- ", 1)[0]
    return re.findall(r'\t"([^"]+)" -> "([^"]+)"\n?', body)


def timed_error(model, state) -> tuple[str, float]:
    start = time.perf_counter()
    text = load_error(model, state)
    return text, time.perf_counter() - start


# ------------------------------------------------------------------ size and order
@pytest.mark.parametrize("rename", ["layers.->blocks.", "norm.->ln.", "weight->wieght"])
def test_thousands_of_renamed_keys_are_diagnosed_quickly_in_model_order(rename):
    old, new = rename.split("->")
    net = blocks(numtorch, 750)
    state = OrderedDict((k.replace(old, new), v) for k, v in net.state_dict().items())
    text, seconds = timed_error(net, state)
    assert seconds < 1.0, seconds
    found = pairs(text)
    renamed = [k for k in net.state_dict() if old in k]
    assert [n for _, n in found] == renamed[:10]  # the model's key order, not sorted
    assert all(o == n.replace(old, new) for o, n in found)
    assert f"... and {len(renamed) - 10} more" in text


def test_thousands_of_prefixed_keys_with_leftovers_name_the_prefix_quickly():
    net = blocks(numtorch, 750)
    state = OrderedDict(("module." + k, v) for k, v in net.state_dict().items())
    state["module.extra.weight"] = numtorch.ones(1)
    del state["module.layers.0.fc.bias"]
    text, seconds = timed_error(net, state)
    assert seconds < 1.0, seconds
    assert "2999 of the 3000 missing keys are in the checkpoint with the extra prefix " \
           "'module.'" in text
    assert 'missing: "layers.0.fc.bias"; unexpected: "module.extra.weight"' in text
    assert "look renamed" not in text


def test_the_recommended_prefix_fix_is_torchs_and_works():
    """The advice names torch.nn.modules.utils.consume_prefix_in_state_dict_if_present, which
    exists under both libraries and fixes the load."""
    net = blocks(numtorch, 2)
    state = OrderedDict(("module." + k, v) for k, v in net.state_dict().items())
    assert "torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state_dict, " \
           "'module.')" in load_error(net, state)
    numtorch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state, "module.")
    assert repr(net.load_state_dict(state)) == "<All keys matched successfully>"


def test_large_checkpoint_error_starts_with_torchs_whole_message():
    def body(T):
        net = blocks(T, 200)
        net.load_state_dict(OrderedDict((k.replace("norm.", "ln."), v)
                                        for k, v in net.state_dict().items()))
    compare_error(body)


# ------------------------------------------------------------------ shapes
def test_renamed_pairs_have_matching_shapes():
    """A similar name of another shape is not offered as a rename; it is reported as a rename
    that would not load (with both shapes)."""
    net = numtorch.nn.Sequential(OrderedDict(head=numtorch.nn.Linear(3, 2)))
    state = OrderedDict([("heads.weight", numtorch.zeros(2, 3)), ("heads.bias", numtorch.zeros(5))])
    text = load_error(net, state)
    assert pairs(text) == [("heads.weight", "head.weight")]
    assert '"heads.bias" [5] -> "head.bias" [2]' in text


def test_same_shape_partner_preferred_over_a_closer_name_of_another_shape():
    class Net(numtorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = numtorch.nn.Parameter(numtorch.zeros(3, 2))

    state = OrderedDict([("weigh", numtorch.zeros(3)), ("weights", numtorch.zeros(3, 2))])
    text = load_error(Net(), state)
    assert pairs(text) == [("weights", "weight")]
    assert "[3] ->" not in text


@pytest.mark.parametrize("seed", range(5))
def test_every_proposed_pair_matches_in_shape(seed):
    """Random renames and reshapes over a small transformer: every pair offered has the
    model's shape in the checkpoint."""
    rng = np.random.default_rng(seed)
    net = numtorch.nn.TransformerEncoder(numtorch.nn.TransformerEncoderLayer(8, 2, 16), 2,
                                         enable_nested_tensor=False)
    model = net.state_dict()
    state = OrderedDict()
    for key, value in model.items():
        roll = rng.random()
        if roll < 0.3:
            key = key.replace("weight", "wieght").replace("linear", "lin")
        if rng.random() < 0.3:
            value = numtorch.zeros(*(s + 1 for s in value.shape))
        state[key] = value
    text = load_error(net, state)
    for old, new in pairs(text):
        assert tuple(state[old].shape) == tuple(model[new].shape), (old, new)


def test_diagnosis_without_the_checkpoint_still_pairs_names():
    from numtorch.nn.utils import diagnose_load_failure
    net = numtorch.nn.Linear(2, 2)
    text = diagnose_load_failure(net, ["weight"], ["wieght"], [])
    assert '"wieght" -> "weight"' in text


def test_module_levels_added_or_removed_pair_up():
    net = numtorch.nn.Sequential(OrderedDict(encoder=numtorch.nn.Sequential(
        OrderedDict(layer=numtorch.nn.Linear(2, 2)))))
    state = OrderedDict((k.replace("encoder.layer.", "encoder."), v)
                        for k, v in net.state_dict().items())
    assert pairs(load_error(net, state)) == [("encoder.weight", "encoder.layer.weight"),
                                             ("encoder.bias", "encoder.layer.bias")]


# ------------------------------------------------------------------ loading itself
def test_children_see_the_keys_a_parent_pre_hook_rewrote():
    """Keys are handed to children after the parent's load pre-hooks ran, as in torch."""
    def body(T):
        net = T.nn.Sequential(OrderedDict(a=T.nn.Linear(2, 2), b=T.nn.Linear(2, 2)))
        rng = np.random.default_rng(0)
        state = OrderedDict((k.replace("b.", "old_b."),
                             T.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32)))
                            for k, v in net.state_dict().items())

        def rename(state_dict, prefix, *args):
            for key in [k for k in state_dict if k.startswith(prefix + "old_b.")]:
                state_dict[key.replace("old_b.", "b.")] = state_dict.pop(key)
        net._register_load_state_dict_pre_hook(rename)
        result = net.load_state_dict(state)
        return tuple(result), net.state_dict()
    compare(body)
