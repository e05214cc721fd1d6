"""Seed 002: an ``nn.Sequential`` names its children 0, 1, 2; ReLU has no state, so the keys are
``0.weight``, ``0.bias``, ``2.weight``, ``2.bias``; one entry is read by key."""
import numtorch as torch
import numtorch.nn as nn

model = nn.Sequential(
    nn.Linear(1, 2),
    nn.ReLU(),
    nn.Linear(2, 1)
)

print(model.state_dict())
print(model.state_dict()['0.bias'])
