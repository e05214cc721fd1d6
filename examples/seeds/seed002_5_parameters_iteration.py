"""Seed 002: ``parameters()`` yields the parameters in order, ``named_parameters()`` yields
``(name, parameter)`` tuples."""
import numtorch as torch
import numtorch.nn as nn

model = nn.Sequential(
    nn.Linear(1, 2),
    nn.ReLU(),
    nn.Linear(2, 1)
)

for param in model.parameters():
    print(param)

for param in model.named_parameters():
    print(param)
