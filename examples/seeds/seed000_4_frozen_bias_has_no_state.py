"""Seed 000, example 4: a parameter with ``requires_grad=False`` is still given to the optimizer
but never gets a gradient, so Adam keeps no state for it: ``state`` only has index 0."""
import numtorch as torch
import numtorch.nn as nn
import numtorch.optim as optim


class SimpleModel(nn.Module):
    def __init__(self):
        super(SimpleModel, self).__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


model = SimpleModel()
for name, param in model.named_parameters():
    if 'bias' in name:
        param.requires_grad = False

optimizer = optim.Adam(model.parameters(), lr=0.001)
criterion = nn.MSELoss()
inputs = torch.randn(4, 3)
targets = torch.randn(4, 2)
for i in range(4):
    loss = criterion(model(inputs[i].unsqueeze(0)), targets[i].unsqueeze(0))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print([(name, param.requires_grad) for name, param in model.named_parameters()])
print(optimizer.state_dict()['param_groups'][0]['params'])
print(list(optimizer.state_dict()['state'].keys()))
print(optimizer.state_dict())
