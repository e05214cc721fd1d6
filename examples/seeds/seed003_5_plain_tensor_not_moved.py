"""Seed 003: a plain tensor attribute is neither saved nor moved; a buffer and a parameter are.

The tutorial moves the model with ``model.cuda()``; without a GPU this script casts it with
``model.double()``, which follows the same rule (only registered state is converted).
"""
import numtorch as torch
import numtorch.nn as nn


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.my_tensor = torch.randn(1)
        self.register_buffer('my_buffer', torch.randn(1))
        self.my_param = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return x


model = MyModel()
print(model.state_dict())
if torch.cuda.is_available():
    model.cuda()
else:
    model.double()
print(model.my_tensor)
print(model.my_buffer)
print(model.my_param)
print([(name, t.dtype, str(t.device)) for name, t in
       [("my_tensor", model.my_tensor), ("my_buffer", model.my_buffer),
        ("my_param", model.my_param)]])
