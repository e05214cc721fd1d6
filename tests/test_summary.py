"""numtorch.summary numbers against torchinfo on the seed models and a transformer."""
import numpy as np
import pytest
import torch
import torchinfo

import numtorch


def seed_cnn(T):
    nn = T.nn

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 20, 5)
            self.bn = nn.BatchNorm2d(20)
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(20 * 12 * 12, 10))

        def forward(self, x):
            return self.head(self.pool(T.relu(self.bn(self.conv1(x)))))
    return MyModel(), (8, 1, 28, 28)


def seed_linear(T):
    nn = T.nn

    class SimpleModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("running_mean", T.zeros(1))
            self.frozen = nn.Linear(2, 2)
            self.frozen.requires_grad_(False)

        def forward(self, x):
            return self.frozen(self.fc(x))
    return SimpleModel(), (4, 3)


def seed_transformer_embedding(T):
    nn = T.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=50):
            super().__init__()
            pe = T.zeros(max_len, d_model)
            self.register_buffer("pe", pe)

        def forward(self, x):
            return x + self.pe[: x.size(1)]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 16)
            self.pos = PositionalEncoding(16)
            self.drop = nn.Dropout(0.1)
            self.encoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True),
                num_layers=2, enable_nested_tensor=False)
            self.out = nn.Linear(16, 100)

        def forward(self, ids):
            return self.out(self.encoder(self.drop(self.pos(self.emb(ids)))))
    return Model(), None


def _models():
    return [seed_cnn, seed_linear, seed_transformer_embedding]


def _pair(factory):
    tm, size = factory(torch)
    nm, _ = factory(numtorch)
    nm.load_state_dict({k: numtorch.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, nm, size


@pytest.mark.parametrize("factory", _models(), ids=lambda f: f.__name__)
@pytest.mark.parametrize("depth", [1, 3])
def test_numbers_match_torchinfo(factory, depth):
    tm, nm, size = _pair(factory)
    if size is None:
        ids = np.random.default_rng(0).integers(0, 100, (3, 7))
        expected = torchinfo.summary(tm, input_data=[torch.from_numpy(ids)], depth=depth,
                                     verbose=0)
        actual = numtorch.summary(nm, input_data=[numtorch.from_numpy(ids)], depth=depth)
    else:
        expected = torchinfo.summary(tm, input_size=size, depth=depth, verbose=0)
        actual = numtorch.summary(nm, input_size=size, depth=depth)
    assert actual.total_params == expected.total_params
    assert actual.trainable_params == expected.trainable_params
    assert actual.total_mult_adds == expected.total_mult_adds
    # torchinfo's byte total skips parameters held by non-leaf modules (MultiheadAttention's
    # in_proj_weight); numtorch counts every unique parameter.
    assert actual.param_bytes == sum(p.numel() * p.element_size() for p in tm.parameters())
    assert actual.forward_backward_bytes == expected.total_output_bytes
    e_rows = [(r.class_name, r.depth, r.output_size, r.num_params) for r in expected.summary_list]
    a_rows = [(r.type_name, r.depth, r.output_size, r.num_params) for r in actual.rows]
    assert a_rows == e_rows


def test_buffers_are_reported_separately():
    nm, size = seed_cnn(numtorch)
    s = numtorch.summary(nm, input_size=size)
    # BatchNorm2d(20): running_mean, running_var (20 float32 each) and num_batches_tracked (int64)
    assert s.total_buffers == 41
    assert s.buffer_bytes == 40 * 4 + 8
    assert "Buffers" in str(s)


def test_shared_parameters_are_counted_once():
    nn = numtorch.nn
    a = nn.Linear(4, 4)
    b = nn.Linear(4, 4)
    b.weight = a.weight
    s = numtorch.summary(nn.Sequential(a, b), input_size=(2, 4))
    assert s.total_params == 16 + 4 + 4


def test_table_is_aligned_and_has_totals():
    nm, size = seed_cnn(numtorch)
    text = str(numtorch.summary(nm, input_size=size, depth=2,
                                col_names=("input_size", "output_size", "num_params",
                                           "trainable")))
    lines = text.splitlines()
    rules = [l for l in lines if set(l) == {"="}]
    assert len({len(l) for l in rules}) == 1
    assert "Total params: 29,370" in text
    assert "[8, 20, 24, 24]" in text


def test_bad_column_is_a_clear_error():
    nm, size = seed_cnn(numtorch)
    with pytest.raises(ValueError, match="unknown column"):
        numtorch.summary(nm, input_size=size, col_names=("flops",))
