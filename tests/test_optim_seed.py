"""Seed 000 end to end against torch: Linear(3, 2) trained per sample with Adam and MSELoss,
the optimizer's state_dict printed, saved with the model and loaded back; a bias with
requires_grad=False gets no optimizer state."""
from __future__ import annotations

import io

import numpy as np
import pytest

from harness import compare

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((2, 3)).astype(np.float32)
B0 = RNG.standard_normal(2).astype(np.float32)
INPUTS = RNG.standard_normal((32, 3)).astype(np.float32)
TARGETS = RNG.standard_normal((32, 2)).astype(np.float32)


def _model(T, freeze_bias: bool = False):
    class SimpleModel(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = T.nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    model = SimpleModel()
    with T.no_grad():
        model.fc.weight.copy_(T.tensor(W0))
        model.fc.bias.copy_(T.tensor(B0))
    if freeze_bias:
        for name, param in model.named_parameters():
            if "bias" in name:
                param.requires_grad = False
    return model


def _train(T, model, optimizer):
    criterion = T.nn.MSELoss()
    inputs, targets = T.tensor(INPUTS), T.tensor(TARGETS)
    for i in range(32):
        outputs = model(inputs[i].unsqueeze(0))
        loss = criterion(outputs, targets[i].unsqueeze(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("freeze_bias", [False, True])
def test_seed_training_loop_state_dict_and_reload(freeze_bias):
    def body(T):
        model = _model(T, freeze_bias)
        optimizer = T.optim.Adam(model.parameters(), lr=0.001)
        _train(T, model, optimizer)
        printed = [(name, str(type(value).__name__)) for name, value in
                   optimizer.state_dict().items()]
        buf = io.BytesIO()
        T.save({"model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, buf)
        buf.seek(0)
        checkpoint = T.load(buf)
        model2 = _model(T, freeze_bias)
        optimizer2 = T.optim.Adam(model2.parameters(), lr=0.001)
        model2.load_state_dict(checkpoint["model_state_dict"])
        optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
        _train(T, model, optimizer)
        _train(T, model2, optimizer2)
        return printed, optimizer.state_dict(), optimizer2.state_dict(), model2.state_dict()
    compare(body, rtol=1e-5, atol=1e-6)
