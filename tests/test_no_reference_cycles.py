"""Graphs are freed by reference counting alone: an op whose node and output referenced each
other would keep every intermediate array alive until the cyclic collector ran, and each step
of a training loop would page-fault fresh memory for them."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import numtorch
from test_autograd import _autograd_garbage

nn = numtorch.nn
F = numtorch.nn.functional


def _x(*shape):
    return numtorch.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32),
                           requires_grad=True)


OPS = {
    "relu": lambda: F.relu(_x(2, 3)),
    "relu_": lambda: F.relu(_x(2, 3) * 1, inplace=True),
    "leaky_relu": lambda: F.leaky_relu(_x(2, 3)),
    "gelu": lambda: F.gelu(_x(2, 3)),
    "silu": lambda: F.silu(_x(2, 3)),
    "sigmoid/tanh": lambda: _x(2, 3).sigmoid().tanh(),
    "softmax": lambda: F.softmax(_x(2, 3), dim=1),
    "log_softmax": lambda: F.log_softmax(_x(2, 3), dim=1),
    "linear": lambda: nn.Linear(3, 2)(_x(4, 3)),
    "conv2d": lambda: nn.Conv2d(1, 2, 3)(_x(2, 1, 5, 5)),
    "conv_transpose2d": lambda: nn.ConvTranspose2d(2, 1, 3)(_x(2, 2, 4, 4)),
    "max_pool2d": lambda: nn.MaxPool2d(2)(_x(1, 2, 4, 4)),
    "avg_pool2d": lambda: nn.AvgPool2d(2)(_x(1, 2, 4, 4)),
    "batch_norm": lambda: nn.BatchNorm2d(2)(_x(3, 2, 4, 4)),
    "layer_norm": lambda: nn.LayerNorm(3)(_x(2, 3)),
    "group_norm": lambda: nn.GroupNorm(1, 2)(_x(2, 2, 3)),
    "dropout": lambda: nn.Dropout(0.5)(_x(4, 4)),
    "embedding": lambda: nn.Embedding(5, 3)(numtorch.tensor([1, 2, 4])),
    "attention": lambda: nn.MultiheadAttention(4, 2)(_x(3, 1, 4), _x(3, 1, 4), _x(3, 1, 4))[0],
    "encoder layer": lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1)(_x(3, 1, 4)),
    "cross_entropy": lambda: F.cross_entropy(_x(4, 3), numtorch.tensor([0, 1, 2, 1])),
    "mse": lambda: F.mse_loss(_x(4, 3), _x(4, 3)),
    "clamp/exp/index": lambda: _x(4, 3).clamp(-1, 1).exp()[1:, ::2],
}


@pytest.mark.parametrize("name", list(OPS))
def test_forward_and_backward_leave_no_cycles(name):
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            out = OPS[name]()
        out.sum().backward()
        for _ in range(3):
            out = OPS[name]()
        del out
        assert _autograd_garbage() == []
    finally:
        gc.enable()
