"""Seed 003, Parameter and buffer: ``parameters()`` returns the Parameter, ``buffers()`` the
registered buffer, and both are in the state_dict (parameters first). Two ways to register the
parameter: assigning ``nn.Parameter`` or ``register_parameter``."""
import numtorch as torch
import numtorch.nn as nn


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        buffer = torch.randn(2, 3)
        self.register_buffer('my_buffer', buffer)
        self.param = nn.Parameter(torch.randn(3, 3))

    def forward(self, x):
        pass


model = MyModel()
for param in model.parameters():
    print(param)
print("----------------")
for buffer in model.buffers():
    print(buffer)
print("----------------")
print(model.state_dict())


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        buffer = torch.randn(2, 3)
        param = nn.Parameter(torch.randn(3, 3))
        self.register_buffer('my_buffer', buffer)
        self.register_parameter("param", param)

    def forward(self, x):
        pass


model = MyModel()
for param in model.parameters():
    print(param)
print("----------------")
for buffer in model.buffers():
    print(buffer)
print("----------------")
print(model.state_dict())
