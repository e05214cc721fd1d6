"""Seed 003, model summary (torchinfo's ``summary(model, depth=...)``): the layer tree of a small
transformer-like model; ``depth`` limits how many levels of nesting are shown.

The part before the summary prints the same under torch and numtorch; the summary itself is
numtorch's own ``numtorch.summary`` under numtorch and torchinfo's under torch.
"""
import numtorch as torch
import numtorch.nn as nn


class EncoderLayer(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.attention = nn.Sequential(nn.Linear(d_model, d_model), nn.Dropout(0.1))
        self.norm1 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(),
                                          nn.Linear(4 * d_model, d_model))
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x):
        x = self.norm1(x + self.attention(x))
        return self.norm2(x + self.feed_forward(x))


class Transformer(nn.Module):
    def __init__(self, vocab_size=100, d_model=16, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.encoder = nn.Sequential(*[EncoderLayer(d_model) for _ in range(layers)])
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, tokens):
        return self.head(self.encoder(self.embedding(tokens)))


model = Transformer()
print(model)
print(sum(p.numel() for p in model.parameters()))
print(model(torch.zeros(2, 5, dtype=torch.long)).shape)

print("=== summary ===")
summary = getattr(torch, "summary", None)  # numtorch has its own; torch needs torchinfo
if summary is None:
    try:
        from torchinfo import summary
    except ImportError:
        summary = None
if summary is None:
    print("no summary available")
else:
    print(summary(model, depth=3))
    print(summary(model, depth=4))
