"""Seed 000, example 1: the state_dict of a model with a Conv2d and a Linear layer.

Each key is ``layer_name.weight`` / ``layer_name.bias``; the tutorial shows their sizes.
"""
import numtorch as torch
import numtorch.nn as nn


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.fc1 = nn.Linear(20, 10)


model = MyModel()
state_dict = model.state_dict()
for param_tensor in state_dict:
    print(param_tensor, "\t", state_dict[param_tensor].size())
