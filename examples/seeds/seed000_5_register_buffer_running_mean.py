"""Seed 000, example 5: a buffer updated in ``forward`` by plain assignment stays a buffer; it is
in the model's state_dict (first, before the child's parameters) but never in the optimizer's.

Note: ``0.9 * running_mean + 0.1 * x`` broadcasts the (1,) buffer against x (32, 3), so the
buffer becomes (32, 3); the tutorial's printed output was edited by hand.
"""
import numtorch as torch
import numtorch.nn as nn
import numtorch.optim as optim


class SimpleModel(nn.Module):
    def __init__(self, input_size, output_size):
        super(SimpleModel, self).__init__()
        self.fc = nn.Linear(input_size, output_size)
        self.register_buffer('running_mean', torch.zeros(1))

    def forward(self, x):
        self.running_mean = 0.9 * self.running_mean + 0.1 * x
        return self.fc(x)


input_size = 3
output_size = 2
model = SimpleModel(input_size, output_size)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

x = torch.randn(32, input_size)
y_target = torch.randn(32, output_size)

y_pred = model(x)
loss = criterion(y_pred, y_target)
optimizer.zero_grad()
loss.backward()
optimizer.step()

print("\n== Updated running_mean\n:", model.running_mean)
print("\n== model's state_dict()\n:", model.state_dict())
print("\n== optimizer.state_dict()\n:", optimizer.state_dict())
print([name for name, _ in model.named_buffers()], [name for name, _ in model.named_parameters()])
print(model.running_mean.shape, model.running_mean.requires_grad)
