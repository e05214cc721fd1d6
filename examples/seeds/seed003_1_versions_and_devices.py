"""Seed 003: versions, choosing a device, moving tensors, a model and each batch of a loader
with ``.to(device)``, and the ``torch.cuda`` queries (guarded: on a machine without CUDA they are
not called). The tutorial's ``seq2seq()`` model and ``loader`` are stand-ins; small ones are
built here."""
import numtorch as torch
import numtorch.nn as nn
from numtorch.utils.data import DataLoader, TensorDataset

print(torch.__version__)
print(torch.version.cuda)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
print(device)

a = torch.randn(3, 1)
a = a.to(device)
a = torch.randn(3, 1).to(device)
print(a.device, a.shape)

model = nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1))
model = model.to(device)
print(model(a).device)

loader = DataLoader(TensorDataset(torch.randn(6, 3), torch.randn(6, 1)), batch_size=4)
for batch_x, batch_y in loader:
    batch_x, batch_y = batch_x.to(device), batch_y.to(device)
    print(batch_x.shape, batch_y.shape, batch_x.device)

print(torch.cuda.is_available())
print(torch.cuda.device_count())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))
    print(torch.cuda.current_device())

print(torch.device('cuda'), torch.device('cuda:0'), torch.device('cpu'))
print(torch.device('cuda:0').type, torch.device('cuda:0').index)
