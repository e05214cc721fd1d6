"""Seed 002, parameter access: attributes of named children, and indexing an nn.Sequential."""
import numtorch as torch
import numtorch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(1, 2)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(2, 1)

    def forward(self, x):
        x = self.linear1(x)
        x = self.relu(x)
        x = self.linear2(x)
        return x


mlp = MLP()
print('mlp.linear1.weight:\n', mlp.linear1.weight, end='\n\n')
print('mlp.linear1.bias:\n', mlp.linear1.bias)

model = nn.Sequential(
    nn.Linear(1, 2),
    nn.ReLU(),
    nn.Linear(2, 1)
)

print(model[0])
print(model[0].weight)
