"""Seed 002, state_dict: a plain tensor attribute (even with ``requires_grad=True``) is not
registered; an ``nn.Parameter`` attribute is, and comes first in the state_dict because the
module's own parameters precede its children's.

numtorch additionally warns about ``self.w1`` when it is assigned (a UserWarning on stderr).
"""
import numtorch as torch
import numtorch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(1, 2)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(2, 1)
        self.w1 = torch.tensor([1.0], requires_grad=True)
        self.w2 = nn.Parameter(torch.tensor([2.0]))

    def forward(self, x):
        x = self.linear1(x)
        x = self.relu(x)
        x = self.linear2(x)
        return x


mlp = MLP()
print(mlp.state_dict())
print(list(mlp.state_dict()))
