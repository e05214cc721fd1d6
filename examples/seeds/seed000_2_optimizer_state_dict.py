"""Seed 000, example 2: an Adam optimizer's state_dict before any step: an empty ``state`` and
one param group holding every hyper-parameter and the parameter indices."""
import numtorch as torch
import numtorch.nn as nn
import numtorch.optim as optim


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.fc1 = nn.Linear(20, 10)


model = MyModel()
optimizer = optim.Adam(model.parameters(), lr=0.001)
optimizer_state_dict = optimizer.state_dict()
for var_name in optimizer_state_dict:
    print(var_name, "\t", optimizer_state_dict[var_name])
