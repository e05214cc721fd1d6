"""numtorch.nn.utils.find_unregistered_tensors (beyond torch): tensors a model holds that the
state system cannot see, checked against what torch's state_dict/to() actually skip."""
from __future__ import annotations

import warnings

import pytest
import torch

import numtorch
from test_module import zoo
from numtorch.nn.utils import find_unregistered_tensors


def seed_mistakes(T):
    """The mistakes of seeds 002/003 plus plain containers, written against ``T``."""
    nn = T.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = T.tensor([1.0], requires_grad=True)          # seed 002
            self.w2 = nn.Parameter(T.tensor([2.0]))
            self.my_tensor = T.zeros(1)                             # seed 003
            self.register_buffer("my_buffer", T.zeros(1))
            self.layers = [zoo(T)["Affine"](2, 2)]                  # needs nn.ModuleList
            self.table = {"scale": T.ones(3), "nested": (T.zeros(2, 2),)}
            self.count = 3
            self.inner = zoo(T)["Stats"](2)
            self.inner._cache = T.ones(4)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Model()


def test_finds_every_unregistered_tensor_with_its_path_and_fix():
    records = find_unregistered_tensors(seed_mistakes(numtorch))
    by_path = {r.path: r for r in records}
    assert list(by_path) == ["w1", "my_tensor", "layers[0].weight", "layers[0].bias",
                             "table['scale']", "table['nested'][0]", "inner._cache"]
    w1 = by_path["w1"]
    assert (w1.module, w1.attribute, w1.shape, w1.dtype, w1.requires_grad) == \
        ("", "w1", (1,), numtorch.float32, True)
    assert "nn.Parameter" in w1.suggestion
    assert "register_buffer('my_tensor'" in by_path["my_tensor"].suggestion
    assert "nn.ModuleList" in by_path["layers[0].weight"].suggestion
    assert "nn.ParameterDict" in by_path["table['scale']"].suggestion
    assert by_path["inner._cache"].module == "inner"
    assert str(w1).startswith("w1: tensor of shape [1], torch.float32, requires_grad=True is "
                              "not registered; ")


def test_what_it_reports_is_exactly_what_torch_leaves_out():
    """Cross-check with torch: every reported path is missing from torch's state_dict and not
    moved by torch's to(float64); every registered tensor is absent from the report."""
    model = seed_mistakes(torch).to(torch.float64)
    reported = {r.path for r in find_unregistered_tensors(seed_mistakes(numtorch))}
    state = set(model.state_dict())
    unmoved = {"w1", "my_tensor", "layers[0].weight", "layers[0].bias", "table['scale']",
               "table['nested'][0]", "inner._cache"}
    assert reported == unmoved
    assert not reported & state
    assert model.w1.dtype == model.my_tensor.dtype == model.layers[0].weight.dtype == \
        model.table["scale"].dtype == model.inner._cache.dtype == torch.float32
    assert model.w2.dtype == model.my_buffer.dtype == torch.float64


def test_clean_model_reports_nothing():
    net = numtorch.nn.Sequential(zoo(numtorch)["Affine"](2, 3), zoo(numtorch)["Stats"](3))
    assert find_unregistered_tensors(net) == []


def test_rejects_non_modules():
    with pytest.raises(TypeError, match="expects an nn.Module"):
        find_unregistered_tensors(numtorch.zeros(1))
