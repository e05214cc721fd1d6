"""numtorch.summary numbers against torchinfo on the seed models and a transformer."""
import sys

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


# ------------------------------------------------------- cell by cell against torchinfo
COLUMNS = ("input_size", "output_size", "num_params", "params_percent", "kernel_size",
           "mult_adds", "trainable")


def torchinfo_table(stats, depth: int, columns=COLUMNS) -> list:
    """(label, {column: text}) per shown row, from torchinfo's own formatting methods."""
    fmt = stats.formatting
    out = []
    for info in stats.summary_list:
        if info.depth > depth:
            continue
        at_max = info.depth == depth
        cells = {"input_size": fmt.str_(info.input_size),
                 "output_size": fmt.str_(info.output_size),
                 "num_params": info.num_params_to_str(at_max),
                 "params_percent": info.params_percent(stats.total_params, at_max),
                 "kernel_size": fmt.str_(info.kernel_size),
                 "mult_adds": info.macs_to_str(at_max),
                 "trainable": fmt.str_(info.trainable)}
        label = fmt.get_start_str(info.depth) + info.get_layer_name(False, True)
        out.append((label, {c: cells[c] for c in columns}))
    return out


def recursive_and_containers(T):
    """A layer called twice, a ModuleList called through its items (never itself), a pooled
    conv with an int kernel, a dict output (torchinfo shows the LAST value's shape)."""
    nn = T.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8)])
            self.unused = nn.ModuleList([nn.Linear(8, 8)])

        def forward(self, x):
            for layer in self.layers:
                x = T.relu(layer(x))
            return x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.shared = nn.Linear(8, 8)
            self.conv = nn.Sequential(nn.Conv1d(1, 3, 3, padding=1), nn.MaxPool1d(2))

        def forward(self, x):
            x = self.shared(self.shared(self.block(x)))
            return {"features": x, "pooled": self.conv(x.unsqueeze(1))}
    return Net(), (4, 8)


def keyword_inputs(T):
    nn = T.nn

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.proj = nn.Linear(5, 6)
            self.norm = nn.LayerNorm(6)

        def forward(self, ids, extra):
            out = self.norm(self.emb(ids).mean(1) + self.proj(extra))
            return out, ids

    return TwoInputs(), None


def _inputs(T, factory, size):
    if factory is seed_transformer_embedding:
        return [T.from_numpy(np.random.default_rng(0).integers(0, 100, (3, 7)))]
    if factory is keyword_inputs:
        rng = np.random.default_rng(0)
        return {"ids": T.from_numpy(rng.integers(0, 20, (2, 4))),
                "extra": T.from_numpy(rng.standard_normal((2, 5)).astype(np.float32))}
    return None


@pytest.mark.parametrize("factory", [seed_cnn, seed_linear, seed_transformer_embedding,
                                     recursive_and_containers, keyword_inputs],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("depth", [0, 1, 2, 4])
def test_every_cell_matches_torchinfo(factory, depth):
    tm, nm, size = _pair(factory)
    data = _inputs(torch, factory, size)
    if data is None:
        expected = torchinfo.summary(tm, input_size=size, depth=depth, col_names=COLUMNS,
                                     verbose=0)
        actual = numtorch.summary(nm, input_size=size, depth=depth, col_names=COLUMNS)
    else:
        expected = torchinfo.summary(tm, input_data=data, depth=depth, col_names=COLUMNS,
                                     verbose=0)
        actual = numtorch.summary(nm, input_data=_inputs(numtorch, factory, size),
                                  depth=depth, col_names=COLUMNS)
    assert actual.table() == torchinfo_table(expected, depth)
    assert actual.total_mult_adds == expected.total_mult_adds
    assert actual.forward_backward_bytes == expected.total_output_bytes
    # torchinfo's input size is sys.getsizeof of each input's storage: the tensor bytes plus
    # the storage object's header, which numtorch leaves out (see numtorch._summary)
    inputs = data if data is not None else [torch.rand(*size)]
    storages = [t.untyped_storage() for t in (inputs.values() if isinstance(inputs, dict)
                                              else inputs)]
    headers = sum(sys.getsizeof(s) - s.nbytes() for s in storages)
    assert actual.input_bytes == expected.total_input - headers
    torchinfo_total = expected.total_input + expected.total_output_bytes + \
        expected.total_param_bytes
    assert actual.estimated_total_bytes == torchinfo_total - headers - \
        expected.total_param_bytes + actual.param_bytes + actual.buffer_bytes


@pytest.mark.parametrize("factory", [seed_cnn, recursive_and_containers,
                                     seed_transformer_embedding], ids=lambda f: f.__name__)
def test_table_without_input_matches_torchinfo(factory):
    tm, nm, _ = _pair(factory)
    for depth in (1, 3):
        expected = torchinfo.summary(tm, depth=depth, verbose=0)
        actual = numtorch.summary(nm, depth=depth)
        assert actual.table() == torchinfo_table(expected, depth, ("num_params",))
        assert "Input size" not in str(actual)


# ------------------------------------------------------- input_size: dtypes, forms, meta
def test_integer_input_dtypes_like_torchinfo():
    tm, nm = torch.nn.Embedding(10, 3), numtorch.nn.Embedding(10, 3)
    expected = torchinfo.summary(tm, input_size=(2, 5), dtypes=[torch.long], verbose=0,
                                 col_names=COLUMNS)
    actual = numtorch.summary(nm, input_size=(2, 5), dtypes=[numtorch.long],
                              col_names=COLUMNS)
    assert actual.table() == torchinfo_table(expected, 3)
    assert actual.input_bytes == 2 * 5 * 8


@pytest.mark.parametrize("form", [[4, 3], (4, 3), [(4, 3)], ((4, 3),), [[4, 3]]],
                         ids=repr)
def test_input_size_forms_accepted_by_torchinfo(form):
    tm, nm, _ = _pair(seed_linear)
    expected = torchinfo.summary(tm, input_size=form, verbose=0, col_names=COLUMNS)
    actual = numtorch.summary(nm, input_size=form, col_names=COLUMNS)
    assert actual.table() == torchinfo_table(expected, 3)


@pytest.mark.parametrize("bad, error", [(5, TypeError), ([], ValueError), ((2, 0), ValueError),
                                        ((2, 2.5), TypeError)])
def test_bad_input_size_is_a_clear_error(bad, error):
    with pytest.raises(error, match="input_size"):
        numtorch.summary(numtorch.nn.Linear(2, 2), input_size=bad)


def test_input_size_pass_is_shape_only():
    """2 x Linear(2048) on a (4096, 2048) input: real data would be 32 MiB per activation and
    ~70 GFLOP; the shape-only pass allocates next to nothing and leaves the model as it was."""
    import tracemalloc
    nn = numtorch.nn
    model = nn.Sequential(nn.Linear(2048, 2048), nn.ReLU(), nn.Dropout(), nn.Linear(2048, 2048))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tracemalloc.start()
    try:
        s = numtorch.summary(model, input_size=(4096, 2048), col_names=COLUMNS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert s.total_mult_adds == 2 * 4096 * (2048 * 2048 + 2048)
    assert [r.output_size for r in s.rows] == [[4096, 2048]] * 5
    assert all("forward" not in m.__dict__ for m in model.modules())
    assert all(numtorch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_modules_that_need_values_run_on_real_data():
    """A forward reading values (``.item()``) cannot run on meta tensors: it alone is rerun on
    random data of the same shapes, and the rows of its failed attempt are dropped."""
    nn = numtorch.nn

    class NeedsValues(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            y = self.fc(x)
            return y * 2 if y.abs().sum().item() >= 0 else y

    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(x.device.type)
            return x

    model = nn.Sequential(Probe(), NeedsValues(), nn.Linear(4, 2), Probe())
    s = numtorch.summary(model, input_size=(3, 4))
    assert [(r.type_name, r.depth, r.output_size) for r in s.rows] == [
        ("Sequential", 0, [3, 2]), ("Probe", 1, [3, 4]), ("NeedsValues", 1, [3, 4]),
        ("Linear", 2, [3, 4]), ("Linear", 1, [3, 2]), ("Probe", 1, [3, 2])]
    assert seen == ["meta", "cpu"]  # after the fallback, later layers see its real output


def test_forward_errors_stay_errors():
    model = numtorch.nn.Sequential(numtorch.nn.Linear(3, 4), numtorch.nn.Linear(5, 2))
    with pytest.raises(RuntimeError, match="Failed to run the summary's forward pass: "
                                           "RuntimeError: mat1 and mat2 shapes cannot be"):
        numtorch.summary(model, input_size=(2, 3))
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_argument_errors_as_torchinfo():
    m = numtorch.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"Only one of \(input_data, input_size\)"):
        numtorch.summary(m, input_size=(1, 2), input_data=numtorch.ones(1, 2))
    with pytest.raises(ValueError, match="You must pass input_data or input_size"):
        numtorch.summary(m, col_names=("output_size",))
    with pytest.raises(ValueError, match="mode"):
        numtorch.summary(m, input_size=(1, 2), mode="test")


def test_seed_script_uses_numtorch_summary(tmp_path):
    import subprocess
    from pathlib import Path
    script = Path(__file__).resolve().parents[1] / "examples" / "seeds" / "seed003_2_summary.py"
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    summary = res.stdout.partition("=== summary ===")[2]
    assert "Buffers: 0 elements (0 B)" in summary  # numtorch's table, not torchinfo's
    assert "│    │    │    └─Linear: 4-1" in summary and "Total params: 8,228" in summary


def test_device_cpu_runs_on_real_data_with_the_same_table(capsys):
    nm, size = seed_cnn(numtorch)
    shapes_only = numtorch.summary(nm, input_size=size, col_names=COLUMNS)
    real = numtorch.summary(nm, input_size=size, col_names=COLUMNS, device="cpu", verbose=1)
    assert real.table() == shapes_only.table()
    assert capsys.readouterr().out == str(real) + "\n"  # verbose=1 prints, as torchinfo
    numtorch.summary(nm, input_size=size)
    assert capsys.readouterr().out == ""
