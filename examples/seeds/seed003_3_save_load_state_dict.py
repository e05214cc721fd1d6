"""Seed 003, saving: only the state_dict is saved; loading needs the model built first (the
"shell"), with the same architecture, then ``load_state_dict`` and ``eval()``."""
import numtorch as torch
import numtorch.nn as nn

PATH = "basis_model.pt"


class MyModule(nn.Module):
    def __init__(self, input_size, output_size):
        super(MyModule, self).__init__()
        self.lin = nn.Linear(input_size, output_size)

    def forward(self, x):
        return self.lin(x)


module = MyModule(4, 2)
print(module.state_dict())

torch.save(module.state_dict(), PATH)

model = MyModule(4, 2)
print(model.load_state_dict(torch.load(PATH)))
model.eval()
print(model.training, torch.equal(model.lin.weight, module.lin.weight))
