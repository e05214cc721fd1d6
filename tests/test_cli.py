"""The `numtorch` command on files written by real torch, including legacy and malicious ones."""
import json
import os
import subprocess
import sys
import zipfile

import pytest
import torch

from numtorch.cli import main


def _model():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 6 * 6, 3))
    return m


@pytest.fixture
def files(tmp_path):
    m = _model()
    sd = m.state_dict()
    zip_path = tmp_path / "model.pt"
    torch.save(sd, zip_path)
    legacy_path = tmp_path / "legacy.pt"
    torch.save(sd, legacy_path, _use_new_zipfile_serialization=False)
    opt = torch.optim.Adam(m.parameters())
    m(torch.randn(2, 1, 8, 8)).sum().backward()
    opt.step()
    ckpt_path = tmp_path / "ckpt.pt"
    torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, ckpt_path)
    return {"zip": zip_path, "legacy": legacy_path, "ckpt": ckpt_path, "dir": tmp_path}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_inspect_zip_groups_by_module_and_labels_buffers(files, capsys):
    code, out, _ = _run(capsys, "inspect", files["zip"])
    assert code == 0
    assert "1/" in out and "running_mean" in out
    line = next(l for l in out.splitlines() if "running_mean" in l)
    assert "buffer" in line and "[4]" in line and "float32" in line
    wline = next(l for l in out.splitlines() if l.strip().startswith("weight") and "[4, 1, 3, 3]"
                 in l)
    assert "param" in wline


def test_inspect_json_lists_every_tensor_with_torch_shapes(files, capsys):
    code, out, _ = _run(capsys, "inspect", "--json", files["zip"])
    data = json.loads(out)
    sd = torch.load(files["zip"], weights_only=True)
    assert [t["key"] for t in data["tensors"]] == list(sd)
    for t in data["tensors"]:
        assert t["shape"] == list(sd[t["key"]].shape)
        assert t["dtype"] == str(sd[t["key"]].dtype).replace("torch.", "")


def test_inspect_legacy_and_optimizer_state(files, capsys):
    code, out, _ = _run(capsys, "inspect", files["legacy"])
    assert code == 0 and "legacy" in out
    code, out, _ = _run(capsys, "inspect", "--json", files["ckpt"])
    data = json.loads(out)
    kinds = {t["key"]: t["kind"] for t in data["tensors"]}
    assert kinds["optimizer.state.0.exp_avg"] == "optim"
    assert data["other_values"]["epoch"] == 3


def test_inspect_marks_tied_weights(tmp_path, capsys):
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    path = tmp_path / "tied.pt"
    torch.save(torch.nn.ModuleDict({"emb": emb, "head": head}).state_dict(), path)
    code, out, _ = _run(capsys, "inspect", path)
    assert "tied to emb.weight" in out


def test_inspect_reports_malicious_globals_without_running_them(tmp_path, capsys):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2), "payload": Evil()}, path)
    code, out, _ = _run(capsys, "inspect", path)
    assert not marker.exists()
    assert "system" in out and "NOT executed" in out
    assert "w" in out


def test_diff_identical_and_different(files, tmp_path, capsys):
    code, out, _ = _run(capsys, "diff", files["zip"], files["legacy"])
    assert code == 0, out
    sd = torch.load(files["zip"], weights_only=True)
    sd["0.weight"] = sd["0.weight"] + 1e-3
    sd["extra"] = torch.zeros(1)
    del sd["3.bias"]
    sd["1.running_mean"] = torch.zeros(5)
    other = tmp_path / "other.pt"
    torch.save(sd, other)
    code, out, _ = _run(capsys, "diff", files["zip"], other)
    assert code == 1
    assert "- 3.bias" in out and "+ extra" in out
    assert "1.running_mean  shape [4] -> [5]" in out
    assert "0.weight  values differ: max abs 0.001" in out
    code, out, _ = _run(capsys, "diff", "--atol", "0.01", files["zip"], files["zip"])
    assert code == 0


def test_convert_round_trip_keeps_ties_order_metadata(tmp_path, capsys):
    emb = torch.nn.Embedding(10, 4)
    model = torch.nn.ModuleDict({"emb": emb, "head": torch.nn.Linear(4, 10, bias=False),
                                 "bn": torch.nn.BatchNorm1d(4)})
    model["head"].weight = emb.weight
    src = tmp_path / "m.pt"
    torch.save(model.state_dict(), src)
    st = tmp_path / "m.safetensors"
    back = tmp_path / "back.pt"
    assert _run(capsys, "convert", src, st)[0] == 0
    from safetensors.numpy import load_file
    assert set(load_file(str(st))) == {"emb.weight", "bn.weight", "bn.bias", "bn.running_mean",
                                       "bn.running_var", "bn.num_batches_tracked"}
    assert _run(capsys, "convert", st, back)[0] == 0
    original = torch.load(src, weights_only=True)
    restored = torch.load(back, weights_only=True)
    assert list(original) == list(restored)
    for k in original:
        assert original[k].dtype == restored[k].dtype
        assert torch.equal(original[k], restored[k])
    assert restored["head.weight"].data_ptr() == restored["emb.weight"].data_ptr()
    assert restored._metadata == original._metadata


def test_convert_refuses_to_overwrite_without_force(files, capsys):
    dst = files["dir"] / "exists.safetensors"
    dst.write_bytes(b"keep me")
    code, _, err = _run(capsys, "convert", files["zip"], dst)
    assert code == 1 and "--force" in err and len(err.splitlines()) == 1
    assert dst.read_bytes() == b"keep me"
    assert main(["convert", "--force", str(files["zip"]), str(dst)]) == 0


def test_convert_legacy_to_zip(files, capsys):
    dst = files["dir"] / "new.pt"
    assert _run(capsys, "convert", files["legacy"], dst)[0] == 0
    assert zipfile.is_zipfile(dst)
    a, b = torch.load(files["legacy"], weights_only=True), torch.load(dst, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_summary_command(tmp_path, capsys, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        "import numtorch.nn as nn\n"
        "def cnn():\n"
        "    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(),"
        " nn.Linear(4 * 6 * 6, 3))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mymodels", raising=False)
    code, out, _ = _run(capsys, "summary", "mymodels:cnn", "--input-size", "2,1,8,8")
    assert code == 0
    assert "Total params: 475" in out and "[2, 4, 6, 6]" in out


def test_module_entry_point_and_pipe(files):
    res = subprocess.run([sys.executable, "-m", "numtorch", "inspect", str(files["zip"])],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "running_var" in res.stdout
    res = subprocess.run([sys.executable, "-m", "numtorch", "inspect", "/nonexistent.pt"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr == "numtorch inspect: /nonexistent.pt: no such file or directory\n"


def test_not_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    code, _, err = _run(capsys, "inspect", p)
    assert code == 1 and "not a PyTorch checkpoint" in err


def _models_module(tmp_path, monkeypatch) -> None:
    (tmp_path / "mymodels.py").write_text(
        "import numtorch as torch\n"
        "import numtorch.nn as nn\n"
        "class TwoInputs(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.emb = nn.Embedding(10, 4)\n"
        "        self.fc = nn.Linear(3, 4)\n"
        "    def forward(self, ids, x):\n"
        "        return self.emb(ids).sum(1) + self.fc(x)\n"
        "def two():\n"
        "    return TwoInputs()\n"
        "def broken():\n"
        "    raise ValueError('no weights here')\n"
        "def not_a_model():\n"
        "    return 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mymodels", raising=False)


def test_summary_command_with_several_inputs_and_dtypes(tmp_path, capsys, monkeypatch):
    _models_module(tmp_path, monkeypatch)
    code, out, err = _run(capsys, "summary", "mymodels:two", "--input-size", "2,5",
                          "--input-size", "2,3", "--dtypes", "long,float32",
                          "--columns", "input_size,output_size,num_params")
    assert code == 0, err
    rows = {l.split()[0]: l for l in out.splitlines() if l.startswith(("├", "TwoInputs"))}
    assert "[2, 5]" in rows["├─Embedding:"] and "[2, 5, 4]" in rows["├─Embedding:"]
    assert "[2, 3]" in rows["├─Linear:"] and "[2, 4]" in rows["├─Linear:"]
    assert "Total params: 56" in out
    # one --dtypes name applies to every input; a wrong one is refused
    code, _, err = _run(capsys, "summary", "mymodels:two", "--input-size", "2,5",
                        "--input-size", "2,3", "--dtypes", "float32")
    assert code == 1 and "numtorch summary: Failed to run" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, status, message", [
    (["summary", "nomod:cnn"], 1, "numtorch summary: cannot import 'nomod': No module named "
                                  "'nomod'"),
    (["summary", "mymodels"], 2, "numtorch summary: target 'mymodels' must look like "
                                 "module:function"),
    (["summary", "mymodels:missing"], 1, "numtorch summary: mymodels has no function "
                                         "'missing'"),
    (["summary", "mymodels:broken"], 1, "numtorch summary: mymodels:broken() raised "
                                        "ValueError: no weights here"),
    (["summary", "mymodels:not_a_model"], 1, "numtorch summary: mymodels:not_a_model() "
                                             "returned int, not an nn.Module"),
    (["summary", "mymodels:two", "--input-size", "2,x"], 2,
     "numtorch summary: --input-size '2,x' must be positive integers separated by commas, "
     "e.g. 64,1,28,28"),
    (["summary", "mymodels:two", "--input-size", "2,5", "--dtypes", "long,int8"], 2,
     "numtorch summary: --dtypes gives 2 dtypes for 1 inputs"),
    (["summary", "mymodels:two", "--input-size", "2,5", "--dtypes", "floaty"], 2,
     "numtorch summary: --dtypes: 'floaty' is not a dtype (e.g. float32, long, bool)"),
    (["summary", "mymodels:two", "--columns", "flops"], 2,
     "numtorch summary: --columns: unknown flops; choose from input_size,output_size,"
     "num_params,params_percent,kernel_size,mult_adds,trainable,buffers"),
])
def test_cli_errors_are_one_clean_line(tmp_path, capsys, monkeypatch, argv, status, message):
    _models_module(tmp_path, monkeypatch)
    code, out, err = _run(capsys, *argv)
    assert (code, out, err) == (status, "", message + "\n")


def test_usage_errors_exit_2_and_traceback_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["inspect"])
    assert exc.value.code == 2
    with pytest.raises(IsADirectoryError):
        main(["--traceback", "inspect", str(tmp_path)])
