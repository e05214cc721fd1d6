"""state_dict and load_state_dict, differentially against torch: keys, order, values, metadata,
hooks, strict errors in torch's words, in-place copies that keep Parameter identity."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import numtorch
from harness import compare, differential
from test_module import compare_error, raises_like_torch, names, zoo


def perturbed_state(T, model, offset: float = 1.0) -> OrderedDict:
    """A state dict like ``model``'s with every floating value shifted by ``offset``."""
    out = OrderedDict()
    for key, value in model.state_dict().items():
        arr = np.asarray(value.detach().numpy()) + (offset if value.is_floating_point() else 1)
        out[key] = T.tensor(arr.astype(arr.dtype))
    return out


# ------------------------------------------------------------------ state_dict
@differential
def test_state_dict_order_values_and_metadata(T):
    net = zoo(T)["Net"]()
    net(T.ones(3))
    sd = net.state_dict()
    return (sd, type(sd).__name__, dict(sd._metadata), type(sd._metadata).__name__,
            [v.requires_grad for v in sd.values()], [type(v).__name__ for v in sd.values()])


@differential
def test_state_dict_keep_vars_returns_the_parameters_themselves(T):
    net = zoo(T)["Net"]()
    sd = net.state_dict(keep_vars=True)
    return (sd["fc1.weight"] is net.fc1.weight, sd["stats.running_mean"] is net.stats.running_mean,
            [v.requires_grad for v in sd.values()])


@differential
def test_state_dict_values_share_memory_with_the_model(T):
    net = zoo(T)["Net"]()
    sd = net.state_dict()
    sd["fc1.weight"][0, 0] = 42.0
    return net.fc1.weight.detach()[0, 0].item()


@differential
def test_shared_tensors_appear_under_every_name(T):
    s = zoo(T)["Shared"]()
    sd = s.state_dict()
    return list(sd), dict(sd._metadata)


@differential
def test_state_dict_prefix_destination_and_positional_args(T):
    net = zoo(T)["Net"]()
    dest = OrderedDict()
    out = net.state_dict(destination=dest, prefix="model.")
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        positional = net.fc1.state_dict(None, "p.")
    return (out is dest, list(dest), hasattr(dest, "_metadata"), list(positional),
            dict(positional._metadata), [w.category.__name__ for w in caught])


@differential
def test_module_version_goes_into_metadata(T):
    class Versioned(T.nn.Module):
        _version = 3

        def __init__(self):
            super().__init__()
            self.inner = zoo(T)["Act"]()
            self.w = T.nn.Parameter(T.ones(1))

    return dict(Versioned().state_dict()._metadata)


@differential
def test_state_dict_hooks(T):
    net = zoo(T)["Net"]()
    calls = []
    net.fc1.register_state_dict_pre_hook(lambda m, prefix, keep: calls.append(("pre", prefix,
                                                                               keep)))

    def post(module, sd, prefix, local_metadata):
        calls.append(("post", prefix, sorted(local_metadata)))
        sd[prefix + "added"] = T.zeros(1)
    handle = net.stats.register_state_dict_post_hook(post)
    first = list(net.state_dict(keep_vars=True))
    handle.remove()
    second = list(net.state_dict())
    return first, second, calls


@raises_like_torch
def test_public_post_hook_must_return_none(T):
    m = zoo(T)["Act"]()
    m.register_state_dict_post_hook(lambda *a: {})
    return m.state_dict()


@differential
def test_legacy_state_dict_hook_may_replace_the_result_at_the_root(T):
    m = zoo(T)["Affine"](1, 1)
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: OrderedDict(only=T.zeros(1)))
    return list(m.state_dict())


@differential
def test_extra_state_round_trip(T):
    class WithExtra(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = T.nn.Parameter(T.zeros(1))
            self.note = {"epoch": 0}

        def get_extra_state(self):
            return dict(self.note)

        def set_extra_state(self, state):
            self.note = state

    src, dst = WithExtra(), WithExtra()
    src.note["epoch"] = 7
    sd = src.state_dict()
    result = dst.load_state_dict(sd)
    return list(sd), sd["_extra_state"], dst.note, repr(result)


# ------------------------------------------------------------------ load_state_dict
@differential
def test_load_copies_in_place_keeping_parameter_identity(T):
    net = zoo(T)["Net"]()
    weight, running_mean = net.fc1.weight, net.stats.running_mean
    result = net.load_state_dict(perturbed_state(T, net))
    return (result, repr(result), str(result), net.fc1.weight is weight,
            net.stats.running_mean is running_mean, net.state_dict(),
            net.fc1.weight.requires_grad, type(net.fc1.weight).__name__)


@differential
def test_load_casts_to_the_models_dtype(T):
    net = zoo(T)["Net"]()
    sd = OrderedDict((k, v.double() if v.is_floating_point() else v.int())
                     for k, v in perturbed_state(T, net).items())
    net.load_state_dict(sd)
    return net.state_dict()


@differential
def test_load_with_assign_installs_the_checkpoint_tensors(T):
    net = zoo(T)["Net"]()
    net.fc2.weight.requires_grad_(False)
    sd = OrderedDict((k, v.double() if v.is_floating_point() else v)
                     for k, v in perturbed_state(T, net).items())
    old = net.fc1.weight
    net.load_state_dict(sd, assign=True)
    return (net.fc1.weight is old, net.stats.running_mean is sd["stats.running_mean"],
            net.fc1.weight, net.fc2.weight, net.stats.running_mean,
            names(net.named_parameters()), sorted(net.stats._non_persistent_buffers_set))


@raises_like_torch
def test_strict_load_reports_every_problem_in_one_error(T):
    net = zoo(T)["Net"]()
    sd = perturbed_state(T, net)
    del sd["fc1.bias"]
    del sd["stats.count"]
    sd["fc2.weight"] = T.zeros(3, 3)
    sd["fc9.weight"] = T.zeros(1)
    sd["scale_extra"] = T.zeros(1)
    sd["stats.scratch"] = T.zeros(2)
    net.load_state_dict(sd)


@differential
def test_non_strict_load_returns_missing_and_unexpected_keys(T):
    net = zoo(T)["Net"]()
    sd = perturbed_state(T, net)
    del sd["fc1.bias"]
    sd["extra.weight"] = T.zeros(1)
    sd["stats.scratch"] = T.zeros(2)
    result = net.load_state_dict(sd, strict=False)
    return (result.missing_keys, result.unexpected_keys, repr(result), type(result).__name__,
            net.state_dict())


@raises_like_torch
def test_non_strict_load_still_refuses_shape_mismatch(T):
    net = zoo(T)["Net"]()
    net.load_state_dict({"fc1.weight": T.zeros(5)}, strict=False)


@raises_like_torch
def test_non_tensor_value_is_reported(T):
    zoo(T)["Affine"](1, 1).load_state_dict({"weight": [[1.0]], "bias": T.zeros(1)})


@raises_like_torch
def test_load_requires_a_mapping(T):
    zoo(T)["Affine"](1, 1).load_state_dict([("weight", T.zeros(1, 1))])


@differential
def test_scalar_saved_as_one_element_vector_loads(T):
    m = T.nn.Module()
    m.register_buffer("step", T.tensor(0.0))
    m.load_state_dict({"step": T.tensor([3.0])})
    return m.step


@raises_like_torch
def test_key_for_a_none_parameter_is_unexpected(T):
    zoo(T)["Affine"](2, 2, bias=False).load_state_dict(
        {"weight": T.zeros(2, 2), "bias": T.zeros(2)})


@differential
def test_load_accepts_a_plain_dict_in_any_order(T):
    net = zoo(T)["Net"]()
    sd = perturbed_state(T, net, 2.0)
    shuffled = {k: sd[k] for k in reversed(list(sd))}
    net.load_state_dict(shuffled)
    return net.state_dict()


@differential
def test_load_into_shared_parameters(T):
    s = zoo(T)["Shared"]()
    sd = s.state_dict()
    sd = OrderedDict((k, v + i) for i, (k, v) in enumerate(sd.items()))
    result = s.load_state_dict(sd)
    return repr(result), s.state_dict(), s.a is s.b, s.c.weight is s.a.weight


@differential
def test_load_state_dict_hooks(T):
    net = zoo(T)["Net"]()
    calls = []

    def pre(module, sd, prefix, local_metadata, strict, missing, unexpected, errors):
        calls.append(("pre", type(module).__name__, prefix, sorted(local_metadata), strict))
        sd[prefix + "bias"] = sd.pop(prefix + "old_bias")

    def post(module, incompatible):
        calls.append(("post", type(module).__name__, list(incompatible.missing_keys)))
        incompatible.unexpected_keys.clear()

    net.fc1.register_load_state_dict_pre_hook(pre)
    net.register_load_state_dict_post_hook(post)
    sd = perturbed_state(T, net)
    sd["fc1.old_bias"] = sd.pop("fc1.bias")
    sd["junk"] = T.zeros(1)
    result = net.load_state_dict(sd)
    return repr(result), calls, net.fc1.bias


@raises_like_torch
def test_post_hook_adding_a_missing_key_fails_strict_load(T):
    net = zoo(T)["Affine"](1, 1)
    net.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.append("ghost"))
    net.load_state_dict(net.state_dict())


@raises_like_torch
def test_post_hook_must_not_return_a_value(T):
    net = zoo(T)["Affine"](1, 1)
    net.register_load_state_dict_post_hook(lambda m, keys: keys)
    net.load_state_dict(net.state_dict())


@differential
def test_load_from_state_dict_override_migrates_old_checkpoints(T):
    """The override point BatchNorm uses: version 1 checkpoints lack ``num_batches_tracked``."""
    class Norm(T.nn.Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.weight = T.nn.Parameter(T.ones(2))
            self.register_buffer("num_batches_tracked", T.tensor(5))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing,
                                  unexpected, errors):
            version = local_metadata.get("version", None)
            if (version is None or version < 2) and prefix + "num_batches_tracked" not in \
                    state_dict:
                state_dict[prefix + "num_batches_tracked"] = T.tensor(0)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing,
                                          unexpected, errors)

    outer = T.nn.Module()
    outer.norm = Norm()
    old = OrderedDict([("norm.weight", T.full((2,), 3.0))])
    old._metadata = OrderedDict([("", {"version": 1}), ("norm", {"version": 1})])
    result = outer.load_state_dict(old)
    return repr(result), outer.state_dict(), dict(outer.state_dict()._metadata)


@differential
def test_metadata_reaches_load_from_state_dict(T):
    seen = []

    class Probe(T.nn.Module):
        def _load_from_state_dict(self, sd, prefix, local_metadata, *rest):
            seen.append((prefix, dict(local_metadata)))
            super()._load_from_state_dict(sd, prefix, local_metadata, *rest)

    outer = T.nn.Module()
    outer.p = Probe()
    sd = outer.state_dict()
    outer.load_state_dict(sd, assign=True)
    outer.load_state_dict({})
    return seen


@differential
def test_optimizer_style_reference_survives_load(T):
    net = zoo(T)["Affine"](2, 2)
    held = list(net.parameters())
    net.load_state_dict(perturbed_state(T, net, 5.0))
    return [p is q for p, q in zip(held, net.parameters())], held


# ------------------------------------------------------------------ beyond torch: diagnosis
def test_load_error_suggests_stripping_a_common_prefix():
    net = zoo(numtorch)["Net"]()
    wrapped = OrderedDict(("module." + k, v) for k, v in net.state_dict().items())
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(wrapped)
    text = str(info.value)
    assert text.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s)")
    assert "'module.'" in text and "consume_prefix_in_state_dict_if_present" in text


def test_load_error_suggests_adding_a_missing_prefix():
    outer = numtorch.nn.Module()
    outer.model = zoo(numtorch)["Net"]()
    bare = zoo(numtorch)["Net"]().state_dict()
    with pytest.raises(RuntimeError) as info:
        outer.load_state_dict(bare)
    assert "'model.'" in str(info.value)


def test_load_error_pairs_renamed_keys_with_their_closest_match():
    net = zoo(numtorch)["Net"]()
    sd = net.state_dict()
    sd["fc1.wieght"] = sd.pop("fc1.weight")
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert '"fc1.wieght" -> "fc1.weight"' in str(info.value)


def test_compare_message_prefix_is_torchs():
    def body(T):
        net = zoo(T)["Net"]()
        sd = OrderedDict(("module." + k, v) for k, v in net.state_dict().items())
        net.load_state_dict(sd)
    compare_error(body)


def load_error(model, state) -> str:
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    return str(info.value)


def test_load_error_names_non_persistent_buffers_in_the_checkpoint():
    net = zoo(numtorch)["Net"]()
    state = net.state_dict()
    state["stats.scratch"] = numtorch.ones(2)
    text = load_error(net, state)
    assert '"stats.scratch" is a non-persistent buffer of the model' in text
    assert "strict=False" in text


def test_load_error_spots_transposed_weights_and_resized_layers():
    net = zoo(numtorch)["Net"]()
    state = net.state_dict()
    state["fc1.weight"] = numtorch.zeros(3, 4)
    state["fc2.weight"] = numtorch.zeros(5, 4)
    text = load_error(net, state)
    assert '"fc1.weight" hold the transpose of the model\'s shape' in text
    assert '"fc2.weight" differ in size from the model' in text


def test_no_diagnosis_when_nothing_stands_out():
    net = zoo(numtorch)["Net"]()
    state = net.state_dict()
    del state["scale"]
    text = load_error(net, state)
    assert "diagnosis" not in text
    assert text == ('Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: '
                    '"scale". ')


def test_load_into_a_read_only_parameter_keeps_the_parameter():
    """A parameter backed by a read-only array (a memory-mapped checkpoint installed with
    ``assign=True``) is still loaded in place, keeping the Parameter object."""
    net = zoo(numtorch)["Affine"](2, 2)
    frozen = np.ones((2, 2), dtype=np.float32)
    frozen.flags.writeable = False
    net.weight = numtorch.nn.Parameter(numtorch.from_numpy(frozen))
    weight = net.weight
    net.load_state_dict({"weight": numtorch.full((2, 2), 3.0), "bias": numtorch.zeros(2)})
    assert net.weight is weight
    np.testing.assert_array_equal(net.weight.detach().numpy(), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(frozen, np.ones((2, 2)))


# ------------------------------------------------------------------ state-dict helpers
@differential
def test_consume_prefix_in_state_dict_matches_torch(T):
    from importlib import import_module
    consume = (import_module("torch.nn.modules.utils") if T.__name__ == "torch"
               else T.nn.utils).consume_prefix_in_state_dict_if_present
    outer = T.nn.Module()
    outer.module = zoo(T)["Net"]()
    state = outer.state_dict()
    state["other.key"] = T.zeros(1)
    consume(state, "module.")
    return list(state), dict(state._metadata)


def test_strip_and_add_prefix_round_trip():
    from numtorch.nn.utils import add_prefix, strip_prefix
    net = zoo(numtorch)["Net"]()
    state = net.state_dict()
    wrapped = add_prefix(state, "module.")
    assert list(wrapped) == ["module." + k for k in state]
    assert list(wrapped._metadata) == ["module"] + ["module." + k for k in state._metadata if k]
    back = strip_prefix(wrapped, "module.")
    assert list(back) == list(state) and dict(back._metadata) == dict(state._metadata)
    assert all(back[k] is state[k] for k in state)
    assert net.load_state_dict(back).missing_keys == []


def test_load_error_finds_a_multi_part_prefix():
    net = zoo(numtorch)["Net"]()
    compiled = OrderedDict(("module._orig_mod." + k, v) for k, v in net.state_dict().items())
    text = load_error(net, compiled)
    assert "extra prefix 'module._orig_mod.'" in text
    from numtorch.nn.utils import strip_prefix
    assert repr(net.load_state_dict(strip_prefix(compiled, "module._orig_mod."))) == \
        "<All keys matched successfully>"


def test_load_error_names_whole_submodules_present_on_one_side():
    class Encoder(numtorch.nn.Module):
        def __init__(self, head: bool):
            super().__init__()
            self.body = zoo(numtorch)["Net"]()
            if head:
                self.classifier = zoo(numtorch)["Affine"](2, 5)
            else:
                self.pooler = zoo(numtorch)["Affine"](2, 2)

    pretrained = Encoder(head=False).state_dict()
    text = load_error(Encoder(head=True), pretrained)
    assert "state for submodules the model does not have: 'pooler'" in text
    assert "no state at all for the submodules 'classifier'" in text
    assert "look renamed" not in text


def test_load_error_pairs_renamed_module_paths():
    net = zoo(numtorch)["Net"]()
    state = OrderedDict((k.replace("stats.", "stat."), v) for k, v in net.state_dict().items())
    text = load_error(net, state)
    assert '"stat.running_mean" -> "stats.running_mean"' in text
    assert '"stat.count" -> "stats.count"' in text
    assert "does not have" not in text


@differential
def test_batchnorm_version_1_checkpoint_gets_num_batches_tracked(T):
    """The metadata path end to end: a version-1 BatchNorm checkpoint (before
    ``num_batches_tracked`` existed) loads through BatchNorm's ``_load_from_state_dict``."""
    if not hasattr(T.nn, "BatchNorm1d"):
        pytest.skip("numtorch.nn.BatchNorm1d does not exist yet")
    model = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.BatchNorm1d(3))
    old = OrderedDict((k, T.tensor(np.arange(v.numel(), dtype=np.float32).reshape(v.shape)))
                      for k, v in model.state_dict().items()
                      if not k.endswith("num_batches_tracked"))
    old._metadata = OrderedDict([("", {"version": 1}), ("0", {"version": 1}),
                                 ("1", {"version": 1})])
    result = model.load_state_dict(old)
    return repr(result), model.state_dict(), dict(model.state_dict()._metadata)
