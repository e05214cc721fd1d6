"""A character-level transformer language model trained on a small text (the Zen of Python).

    python examples/transformer_lm.py [steps]

Embedding + sinusoidal positional-encoding buffer + TransformerEncoder with a causal mask +
a linear head, trained with AdamW and cosine learning-rate decay; then greedy sampling.
"""
from __future__ import annotations

import codecs
import math
import sys
import this

import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F

TEXT = codecs.decode(this.s, "rot13")


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 256) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(1)]


class CharLM(nn.Module):
    def __init__(self, vocab: int, d_model: int = 64, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model,
                                           dropout=0.1, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, ids):
        seq = ids.size(1)
        causal = torch.triu(torch.full((seq, seq), float("-inf")), diagonal=1)
        return self.head(self.encoder(self.pos(self.embed(ids)), mask=causal))


def main(steps: int = 300) -> None:
    torch.manual_seed(0)
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT])
    model = CharLM(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    block, batch = 48, 16
    for step in range(1, steps + 1):
        starts = torch.randint(0, len(data) - block - 1, (batch,))
        x = torch.stack([data[s: s + block] for s in starts.tolist()])
        y = torch.stack([data[s + 1: s + block + 1] for s in starts.tolist()])
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  lr {sched.get_last_lr()[0]:.2e}")
    model.eval()
    ids = [stoi[c] for c in "Beautiful is"]
    with torch.no_grad():
        for _ in range(60):
            logits = model(torch.tensor([ids[-block:]]))
            ids.append(int(logits[0, -1].argmax()))
    print("sample:", "".join(chars[i] for i in ids))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
