"""Seed 001: three toy models side by side, saved and loaded.

ToyModel has only a Linear (plain ints ``a1``/``a2`` are not state); ToyModel2 adds a parameter
``b1``; ToyModel3 adds a persistent buffer ``c1``. The first script of the tutorial trains
nothing, logs the modules, parameters and buffers and saves the state_dict; the second builds a
fresh model, loads it with ``map_location="cpu", weights_only=True`` and logs the same.
(The tutorial's models live in ``models.py``; here they are in one file, and the log format
leaves out the time stamp.)
"""
import logging
import sys
from pathlib import Path

import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F


class ToyModel(nn.Module):
    def __init__(self, inChannels, outChannels):
        super().__init__()
        self.a1 = 1
        self.a2 = 2
        self.linear = nn.Linear(inChannels, outChannels)
        self.init_weights()

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.linear(x)
        return out


class ToyModel2(nn.Module):
    def __init__(self, inChannels, outChannels):
        super().__init__()
        self.a1 = 1
        self.a2 = 2
        self.linear = nn.Linear(inChannels, outChannels)
        self.init_weights()
        self.b1 = nn.Parameter(torch.randn(outChannels), )

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.linear(x)
        out += self.b1
        return out


class ToyModel3(nn.Module):
    def __init__(self, inChannels, outChannels):
        super().__init__()
        self.a1 = 1
        self.a2 = 2
        self.linear = nn.Linear(inChannels, outChannels)
        self.init_weights()
        self.b1 = nn.Parameter(torch.randn(outChannels), )
        self.register_buffer("c1", torch.ones_like(self.b1), persistent=True)

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.linear(x)
        out += self.b1
        out += self.c1
        return out


logging.basicConfig(level=logging.INFO, stream=sys.stdout, force=True,
                    format='%(name)s - %(levelname)s - %(lineno)s - %(message)s')

if __name__ == "__main__":
    # --- the saving script
    for Model in (ToyModel, ToyModel2, ToyModel3):
        savePath = Path(f"{Model.__name__.lower()}.pth")
        logger = logging.getLogger(__name__)
        inp = torch.randn(3, 5)
        model = Model(inp.size(1), inp.size(1) * 2)
        pred = model(inp)
        logger.info(f"{pred.size() = }")
        for m in model.modules():
            logger.info(m)
        for name, param in model.named_parameters():
            logger.info(f"{name = }, {param.size() = }, {param.requires_grad=}")
        for name, buffer in model.named_buffers():
            logger.info(f"{name = }, {buffer.size() = }")
        torch.save(model.state_dict(), savePath)

    # --- the loading script
    for Model in (ToyModel, ToyModel2, ToyModel3):
        savePath = Path(f"{Model.__name__.lower()}.pth")
        inp = torch.randn(3, 5)
        model = Model(inp.size(1), inp.size(1) * 2)
        ckpt = torch.load(savePath, map_location="cpu", weights_only=True)
        print(model.load_state_dict(ckpt))
        pred = model(inp)
        print(f"{pred.size() = }")
        for m in model.modules():
            print(m)
        for name, param in model.named_parameters():
            print(f"{name = }, {param.size() = }, {param.requires_grad=}")
        for name, buffer in model.named_buffers():
            print(f"{name = }, {buffer.size() = }")
        print(list(ckpt), model.a1, model.a2)
