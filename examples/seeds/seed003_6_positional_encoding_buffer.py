"""Seed 003, in practice: a transformer embedding whose fixed sinusoidal position encoding
``pe`` is a buffer (saved and moved, not trained), next to a trained ``nn.Embedding``.

The tutorial ends with ``model.cuda()``; without a GPU this script uses ``model.double()``.
"""
import math

import numtorch as torch
import numtorch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab_size, d_model, dropout=0.1, max_len=5000):
        super(Embeddings, self).__init__()
        self.embs = nn.Embedding(vocab_size, d_model)
        self.d_model = d_model
        self.dropout = nn.Dropout(dropout)

        pe = self._build_position_encoding(max_len, d_model)
        self.register_buffer("pe", pe)

    def forward(self, x):
        embed = self.embs(x) * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]
        embed = self.dropout(embed)
        return embed

    def _build_position_encoding(self, max_len, d_model):
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(-torch.arange(0, d_model, 2, dtype=torch.float) *
                             math.log(10000) / d_model)

        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term) if d_model % 2 == 0 else \
            torch.cos(position * div_term[:-1])
        pe = pe.unsqueeze(0)

        return pe


model = Embeddings(5, 3)
print(model.state_dict())

for name, para in model.named_parameters():
    print(name, para)

for name, buffer in model.named_buffers():
    print(name, buffer)

print(model.pe[0, :4])
print(model(torch.tensor([[0, 1, 2, 3]])).shape)

if torch.cuda.is_available():
    model.cuda()
else:
    model.double()
print(model.state_dict())
print([(k, v.dtype, tuple(v.shape)) for k, v in model.state_dict().items()])
