"""Seed 002, saving and loading: a whole model object (pickled with its class, so loading it
needs ``weights_only=False``) and a state_dict (the usual way), with ``pickle_protocol`` and
the forms of ``map_location``; then ``load_state_dict`` with ``strict``.
"""
import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(20 * 12 * 12, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = x.view(-1, 20 * 12 * 12)
        x = F.relu(self.fc1(x))
        return x


model = MyModel()

# the whole model
torch.save(model, 'model whole.pth')
# the state_dict
torch.save(model.state_dict(), 'model state_dict.pth')
torch.save(model.state_dict(), 'model state_dict p2.pth', pickle_protocol=2)

model_loaded = torch.load('model whole.pth', weights_only=False)
model_loaded.eval()
print(model_loaded)
print(type(model_loaded).__name__, model_loaded.training, model_loaded.conv1.training)
print(model_loaded(torch.randn(2, 1, 28, 28)).shape)

new_model = MyModel()
print(new_model.load_state_dict(torch.load('model state_dict.pth',
                                           map_location=torch.device('cpu'))))
for location in ('cpu', torch.device('cpu'), {'cpu': 'cpu'}, lambda storage, loc: storage):
    loaded = torch.load('model state_dict p2.pth', map_location=location)
    print(list(loaded), [str(v.device) for v in loaded.values()])
    print(new_model.load_state_dict(loaded, strict=True))

partial = torch.load('model state_dict.pth')
del partial['fc1.bias']
print(new_model.load_state_dict(partial, strict=False))
try:
    new_model.load_state_dict(partial)
except RuntimeError as error:
    print(str(error).splitlines()[:2])
