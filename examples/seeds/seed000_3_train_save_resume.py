"""Seed 000, example 3: train Linear(3, 2) with Adam sample by sample, save model and optimizer
state in one checkpoint, load both back, switch to eval mode.

(The tutorial's ``torch.save`` call has a misplaced brace; the file name is its second
argument.)
"""
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
optimizer = optim.Adam(model.parameters(), lr=0.001)
criterion = nn.MSELoss()

batch_size = 32
inputs = torch.randn(batch_size, 3)
targets = torch.randn(batch_size, 2)

for epoch in range(1):
    for i in range(batch_size):
        input_sample = inputs[i].unsqueeze(0)
        target_sample = targets[i].unsqueeze(0)

        outputs = model(input_sample)
        loss = criterion(outputs, target_sample)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

torch.save({'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict()},
           'model_and_optimizer.pth')

checkpoint = torch.load('model_and_optimizer.pth')
print(list(checkpoint))
print(model.load_state_dict(checkpoint['model_state_dict']))
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])

model.eval()
print("training:", model.training, model.fc.training)

print(model.state_dict())
print(optimizer.state_dict())
state = optimizer.state_dict()['state']
for index, entry in state.items():
    print(index, {name: (tuple(value.shape), value.dtype) for name, value in entry.items()})

model.train()
print("training:", model.training, model.fc.training)
