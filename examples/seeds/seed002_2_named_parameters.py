"""Seed 002: ``named_parameters()`` walks the registered parameters in order: ``w2`` first,
then the children's; the plain tensor ``w1`` is absent."""
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
for name, param in mlp.named_parameters():
    print(name, param)
