"""Seed 002, registering parameters: by assigning ``nn.Parameter`` attributes (the attribute
name is the key) or with ``register_parameter(name, parameter)``."""
import numtorch as torch
import numtorch.nn as nn


class Linear(nn.Module):
    def __init__(self, num_input, num_output):
        super().__init__()
        self.w = nn.Parameter(torch.randn(num_input, num_output))
        self.b = nn.Parameter(torch.zeros(num_output))

    def forward(self, x):
        return torch.matmul(x, self.w) + self.b


lin = Linear(1, 2)
print(lin.state_dict())


class Linear(nn.Module):
    def __init__(self, num_input, num_output):
        super().__init__()
        w = torch.randn(num_input, num_output)
        b = torch.zeros(num_output)
        self.register_parameter('weight', nn.Parameter(w))
        self.register_parameter('bias', nn.Parameter(b))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


lin = Linear(2, 1)
print(lin.state_dict())
print(lin(torch.ones(3, 2)).shape)
