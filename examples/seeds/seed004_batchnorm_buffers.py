"""Seed 004 (prose only, made runnable): what a buffer is for, shown on BatchNorm.

``running_mean``, ``running_var`` and ``num_batches_tracked`` are buffers: saved in the
state_dict, cast by ``float()/half()/double()`` (the integer counter keeps its dtype), moved by
``cpu()``, updated by forward passes in training mode and never by the optimizer; ``weight`` and
``bias`` are the parameters the optimizer trains.
"""
import numtorch as torch
import numtorch.nn as nn
import numtorch.optim as optim

model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU())
print(model)
print([name for name, _ in model.named_parameters()])
print([name for name, _ in model.named_buffers()])
print([(k, tuple(v.shape), v.dtype) for k, v in model.state_dict().items()])

optimizer = optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 4)
loss = model(x).pow(2).mean()
optimizer.zero_grad()
loss.backward()
optimizer.step()
print("after one training step:", model[1].num_batches_tracked)
print("optimizer sees", len(optimizer.param_groups[0]['params']), "tensors")

model.double()
print([(k, v.dtype) for k, v in model.state_dict().items()])
model.half().float()
print([(k, v.dtype) for k, v in model.state_dict().items()])
model.cpu()
print(sorted({str(v.device) for v in model.state_dict().values()}))

model.eval()
before = model[1].running_mean.clone()
model(x.double().float())
print("eval forward leaves running_mean unchanged:", torch.equal(before, model[1].running_mean))
