"""Seed 002, tying parameters: one module used twice in a Sequential holds one set of weights;
changing it through one index changes it through the other. The shared weights appear under
both names in the state_dict but once in ``parameters()``."""
import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F

shared = nn.Linear(8, 8)
net = nn.Sequential(
    nn.Linear(4, 8),
    nn.ReLU(),
    shared,
    nn.ReLU(),
    shared,
    nn.ReLU(),
    nn.Linear(8, 1)
)
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
print(net[2].weight.data[0] == net[4].weight.data[0])

print(list(net.state_dict()))
print([name for name, _ in net.named_parameters()])
print(len(list(net.parameters())), net[4].weight.data[0, 0])
