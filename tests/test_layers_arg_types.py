"""Non-tensor arguments (NumPy arrays, lists, numbers, None) to layers and functionals.

torch raises a TypeError from its argument parser (``linear(): argument 'input' (position 1)
must be Tensor, not numpy.ndarray``), or, where its Python wrapper touches the argument first,
whatever Python raises for that object (``'int' object is not callable`` from
``ndarray.size()``). numtorch must raise the same type with torch's whole message.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare

VALUES = {"ndarray": np.ones((4, 3), np.float32), "list": [[1.0, 2.0, 3.0]], "int": 5,
          "None": None, "float": 2.5, "tuple": (1, 2), "float64": np.float64(1.0)}


def _t(T, *shape):
    return T.ones(*shape)


FUNCTIONAL = {
    "linear.input": lambda T, v: T.nn.functional.linear(v, _t(T, 2, 3)),
    "linear.weight": lambda T, v: T.nn.functional.linear(_t(T, 4, 3), v),
    "linear.bias": lambda T, v: T.nn.functional.linear(_t(T, 4, 3), _t(T, 2, 3), v),
    "bilinear.input1": lambda T, v: T.nn.functional.bilinear(v, _t(T, 4, 3), _t(T, 2, 3, 3)),
    "bilinear.input2": lambda T, v: T.nn.functional.bilinear(_t(T, 4, 3), v, _t(T, 2, 3, 3)),
    "bilinear.weight": lambda T, v: T.nn.functional.bilinear(_t(T, 4, 3), _t(T, 4, 3), v),
    "bilinear.bias": lambda T, v: T.nn.functional.bilinear(_t(T, 4, 3), _t(T, 4, 3),
                                                           _t(T, 2, 3, 3), v),
    "conv2d.input": lambda T, v: T.nn.functional.conv2d(v, _t(T, 3, 2, 3, 3)),
    "conv2d.weight": lambda T, v: T.nn.functional.conv2d(_t(T, 1, 2, 5, 5), v),
    "conv2d.bias": lambda T, v: T.nn.functional.conv2d(_t(T, 1, 2, 5, 5), _t(T, 3, 2, 3, 3), v),
    "conv2d.stride": lambda T, v: T.nn.functional.conv2d(v, _t(T, 3, 2, 3, 3), None, 2),
    "conv1d.input": lambda T, v: T.nn.functional.conv1d(v, _t(T, 3, 2, 3)),
    "conv_transpose2d.input": lambda T, v: T.nn.functional.conv_transpose2d(v,
                                                                            _t(T, 2, 3, 3, 3)),
    "conv_transpose2d.weight": lambda T, v: T.nn.functional.conv_transpose2d(
        _t(T, 1, 2, 5, 5), v),
    "conv_transpose2d.bias": lambda T, v: T.nn.functional.conv_transpose2d(
        _t(T, 1, 2, 5, 5), _t(T, 2, 3, 3, 3), v),
    "conv_transpose1d.input": lambda T, v: T.nn.functional.conv_transpose1d(v, _t(T, 2, 3, 3)),
    "max_pool2d": lambda T, v: T.nn.functional.max_pool2d(v, 2),
    "max_pool2d.indices": lambda T, v: T.nn.functional.max_pool2d(v, 2, return_indices=True),
    "max_pool1d": lambda T, v: T.nn.functional.max_pool1d(v, 2),
    "max_pool1d.indices": lambda T, v: T.nn.functional.max_pool1d(v, 2, return_indices=True),
    "avg_pool2d": lambda T, v: T.nn.functional.avg_pool2d(v, 2),
    "avg_pool1d": lambda T, v: T.nn.functional.avg_pool1d(v, 2),
    "adaptive_avg_pool2d": lambda T, v: T.nn.functional.adaptive_avg_pool2d(v, 2),
    "adaptive_avg_pool1d": lambda T, v: T.nn.functional.adaptive_avg_pool1d(v, 2),
    "relu": lambda T, v: T.nn.functional.relu(v),
    "relu.inplace": lambda T, v: T.nn.functional.relu(v, inplace=True),
    "relu_": lambda T, v: T.nn.functional.relu_(v),
    "leaky_relu": lambda T, v: T.nn.functional.leaky_relu(v),
    "leaky_relu.inplace": lambda T, v: T.nn.functional.leaky_relu(v, inplace=True),
    "leaky_relu_": lambda T, v: T.nn.functional.leaky_relu_(v),
    "prelu.input": lambda T, v: T.nn.functional.prelu(v, _t(T, 1)),
    "prelu.weight": lambda T, v: T.nn.functional.prelu(_t(T, 4, 3), v),
    "gelu": lambda T, v: T.nn.functional.gelu(v),
    "gelu.tanh": lambda T, v: T.nn.functional.gelu(v, approximate="tanh"),
    "silu": lambda T, v: T.nn.functional.silu(v),
    "silu.inplace": lambda T, v: T.nn.functional.silu(v, inplace=True),
    "tanh": lambda T, v: T.nn.functional.tanh(v),
    "sigmoid": lambda T, v: T.nn.functional.sigmoid(v),
    "softmax": lambda T, v: T.nn.functional.softmax(v, 1),
    "softmax.nodim": lambda T, v: T.nn.functional.softmax(v),
    "softmax.dtype": lambda T, v: T.nn.functional.softmax(v, 1, dtype=T.float64),
    "log_softmax": lambda T, v: T.nn.functional.log_softmax(v, 1),
    "batch_norm.train": lambda T, v: T.nn.functional.batch_norm(v, None, None, training=True),
    "batch_norm.eval": lambda T, v: T.nn.functional.batch_norm(v, _t(T, 3) * 0, _t(T, 3)),
    "batch_norm.running_mean": lambda T, v: T.nn.functional.batch_norm(_t(T, 4, 3), v,
                                                                       _t(T, 3)),
    "batch_norm.running_var": lambda T, v: T.nn.functional.batch_norm(_t(T, 4, 3), _t(T, 3), v),
    "batch_norm.weight": lambda T, v: T.nn.functional.batch_norm(_t(T, 4, 3), None, None, v,
                                                                 training=True),
    "batch_norm.bias": lambda T, v: T.nn.functional.batch_norm(_t(T, 4, 3), None, None, None, v,
                                                               training=True),
    "layer_norm.input": lambda T, v: T.nn.functional.layer_norm(v, (3,)),
    "layer_norm.weight": lambda T, v: T.nn.functional.layer_norm(_t(T, 4, 3), (3,), v),
    "layer_norm.bias": lambda T, v: T.nn.functional.layer_norm(_t(T, 4, 3), (3,), None, v),
    "group_norm.input": lambda T, v: T.nn.functional.group_norm(v, 1),
    "group_norm.weight": lambda T, v: T.nn.functional.group_norm(_t(T, 4, 3), 1, v),
    "group_norm.bias": lambda T, v: T.nn.functional.group_norm(_t(T, 4, 3), 1, None, v),
    "dropout": lambda T, v: T.nn.functional.dropout(v),
    "dropout.eval": lambda T, v: T.nn.functional.dropout(v, training=False),
    "dropout.inplace": lambda T, v: T.nn.functional.dropout(v, inplace=True),
    "embedding.indices": lambda T, v: T.nn.functional.embedding(v, _t(T, 5, 3)),
    "embedding.weight": lambda T, v: T.nn.functional.embedding(T.tensor([1]), v),
    "embedding.weight.padding": lambda T, v: T.nn.functional.embedding(T.tensor([1]), v,
                                                                       padding_idx=1),
    "embedding.indices.max_norm": lambda T, v: T.nn.functional.embedding(v, _t(T, 5, 3),
                                                                         max_norm=1.0),
    "pad": lambda T, v: T.nn.functional.pad(v, (1, 1)),
    "pad.reflect": lambda T, v: T.nn.functional.pad(v, (1, 1), mode="reflect"),
    "normalize": lambda T, v: T.nn.functional.normalize(v),
    "scaled_dot_product_attention.query": lambda T, v: (
        T.nn.functional.scaled_dot_product_attention(v, _t(T, 2, 3), _t(T, 2, 3))),
    "scaled_dot_product_attention.key": lambda T, v: (
        T.nn.functional.scaled_dot_product_attention(_t(T, 2, 3), v, _t(T, 2, 3))),
    "scaled_dot_product_attention.mask": lambda T, v: (
        T.nn.functional.scaled_dot_product_attention(_t(T, 2, 3), _t(T, 2, 3), _t(T, 2, 3), v)),
}

LOSSES = {
    name: (lambda fn: {
        f"{fn}.input": lambda T, v: getattr(T.nn.functional, fn)(v, _t(T, 4, 3) * 0.5),
        f"{fn}.target": lambda T, v: getattr(T.nn.functional, fn)(_t(T, 4, 3) * 0.5, v),
    })(name)
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "kl_div")
}
for _pair in LOSSES.values():
    FUNCTIONAL.update(_pair)
FUNCTIONAL.update({
    "cross_entropy.input": lambda T, v: T.nn.functional.cross_entropy(v, T.tensor([0, 1, 2, 0])),
    "cross_entropy.target": lambda T, v: T.nn.functional.cross_entropy(_t(T, 4, 3), v),
    "cross_entropy.weight": lambda T, v: T.nn.functional.cross_entropy(
        _t(T, 4, 3), T.tensor([0, 1, 2, 0]), v),
    "nll_loss.input": lambda T, v: T.nn.functional.nll_loss(v, T.tensor([0, 1, 2, 0])),
    "nll_loss.target": lambda T, v: T.nn.functional.nll_loss(_t(T, 4, 3), v),
    "nll_loss.weight": lambda T, v: T.nn.functional.nll_loss(_t(T, 4, 3),
                                                             T.tensor([0, 1, 2, 0]), v),
    "binary_cross_entropy.weight": lambda T, v: T.nn.functional.binary_cross_entropy(
        _t(T, 4, 3) * 0.5, _t(T, 4, 3), v),
    "binary_cross_entropy_with_logits.weight": lambda T, v: (
        T.nn.functional.binary_cross_entropy_with_logits(_t(T, 4, 3), _t(T, 4, 3), v)),
    "binary_cross_entropy_with_logits.pos_weight": lambda T, v: (
        T.nn.functional.binary_cross_entropy_with_logits(_t(T, 4, 3), _t(T, 4, 3),
                                                         pos_weight=v)),
    "mse_loss.both": lambda T, v: T.nn.functional.mse_loss(v, [1.0]),
})

LAYERS = {
    "Linear": lambda T: T.nn.Linear(3, 2), "Bilinear": lambda T: T.nn.Bilinear(3, 3, 2),
    "Conv2d": lambda T: T.nn.Conv2d(2, 3, 3), "Conv1d": lambda T: T.nn.Conv1d(2, 3, 3),
    "Conv2d.nobias": lambda T: T.nn.Conv2d(2, 3, 3, bias=False),
    "Conv2d.same": lambda T: T.nn.Conv2d(2, 3, 3, padding="same"),
    "Conv2d.reflect": lambda T: T.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
    "ConvTranspose2d": lambda T: T.nn.ConvTranspose2d(2, 3, 3),
    "ConvTranspose1d": lambda T: T.nn.ConvTranspose1d(2, 3, 3),
    "MaxPool2d": lambda T: T.nn.MaxPool2d(2),
    "MaxPool2d.indices": lambda T: T.nn.MaxPool2d(2, return_indices=True),
    "AvgPool2d": lambda T: T.nn.AvgPool2d(2),
    "AdaptiveAvgPool2d": lambda T: T.nn.AdaptiveAvgPool2d(2),
    "AdaptiveAvgPool1d": lambda T: T.nn.AdaptiveAvgPool1d(2),
    "ReLU": lambda T: T.nn.ReLU(), "ReLU.inplace": lambda T: T.nn.ReLU(inplace=True),
    "LeakyReLU": lambda T: T.nn.LeakyReLU(), "PReLU": lambda T: T.nn.PReLU(),
    "GELU": lambda T: T.nn.GELU(), "SiLU": lambda T: T.nn.SiLU(), "Tanh": lambda T: T.nn.Tanh(),
    "Sigmoid": lambda T: T.nn.Sigmoid(), "Softmax": lambda T: T.nn.Softmax(1),
    "LogSoftmax": lambda T: T.nn.LogSoftmax(1), "Dropout": lambda T: T.nn.Dropout(),
    "Dropout.eval": lambda T: T.nn.Dropout().eval(), "Embedding": lambda T: T.nn.Embedding(5, 3),
    "Embedding.max_norm": lambda T: T.nn.Embedding(5, 3, max_norm=1.0),
    "BatchNorm1d": lambda T: T.nn.BatchNorm1d(3),
    "BatchNorm1d.eval": lambda T: T.nn.BatchNorm1d(3).eval(),
    "LayerNorm": lambda T: T.nn.LayerNorm(3), "GroupNorm": lambda T: T.nn.GroupNorm(1, 3),
    "Flatten": lambda T: T.nn.Flatten(), "Unflatten": lambda T: T.nn.Unflatten(0, (1,)),
    "Identity": lambda T: T.nn.Identity(),
    "MSELoss": lambda T: (lambda v: T.nn.MSELoss()(v, _t(T, 4, 3))),
    "CrossEntropyLoss": lambda T: (lambda v: T.nn.CrossEntropyLoss()(v, T.tensor([0, 1, 2, 0]))),
    "BCEWithLogitsLoss": lambda T: (lambda v: T.nn.BCEWithLogitsLoss()(v, _t(T, 4, 3))),
    "MultiheadAttention.query": lambda T: (lambda v: T.nn.MultiheadAttention(4, 2)(
        v, _t(T, 3, 1, 4), _t(T, 3, 1, 4))),
    "MultiheadAttention.key": lambda T: (lambda v: T.nn.MultiheadAttention(4, 2)(
        _t(T, 3, 1, 4), v, _t(T, 3, 1, 4))),
    "TransformerEncoderLayer": lambda T: T.nn.TransformerEncoderLayer(4, 2),
}


def _check(call, value_name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(call, VALUES[value_name], match_message=True)


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("case", list(FUNCTIONAL))
def test_functional_rejects_non_tensors_as_torch(case, value):
    _check(FUNCTIONAL[case], value)


@pytest.mark.parametrize("value", ["ndarray", "list", "int", "None"])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_layers_reject_non_tensors_as_torch(layer, value):
    def body(T, v):
        m = LAYERS[layer](T)
        return m(v) if not layer.startswith("Bilinear") else m(v, _t(T, 4, 3))
    _check(body, value)


def test_conv_type_error_lists_nested_argument_types():
    """The overload listing says why each overload did not match once the argument count
    fits: ``list of [...]`` and ``tuple of (...)`` describe containers."""
    for v in ([1.0, 2.0], [[1, 2], 3.0], (1,), (), [None], ({1: 2}), np.float32(1)):
        compare(lambda T, v: T.nn.functional.conv2d(v, _t(T, 3, 2, 3, 3), None, (1, 1), 0, 2, 3),
                v, match_message=True)
        compare(lambda T, v: T.nn.Conv2d(2, 3, 3)(v), v, match_message=True)


@pytest.mark.parametrize("returned", ["int", "list", "ndarray", "tensor", "tuple_of_list"])
def test_forward_pre_hook_results_reach_forward_as_torch(returned):
    def body(T):
        made = {"int": 5, "list": [T.ones(3)], "ndarray": np.ones(3, np.float32),
                "tensor": T.ones(3), "tuple_of_list": ([1.0, 2.0, 3.0],)}[returned]
        m = T.nn.Linear(3, 2)
        T.nn.init.constant_(m.weight, 0.5)
        T.nn.init.zeros_(m.bias)
        m.register_forward_pre_hook(lambda mod, args: made)
        return m(T.ones(3))
    compare(body, match_message=True)
