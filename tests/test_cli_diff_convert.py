"""`numtorch diff` (non-tensor values, dtypes, relative differences, JSON, exit status when
piped) and `numtorch convert` (dtypes, metadata, unsafe files), on torch-written files."""
import io
import json
import os
import sys

import pytest
import torch

import numtorch
from numtorch.cli import main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _training_file(path, epoch: int, lr: float) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                "note": "run 1"}, path)


def test_diff_compares_non_tensor_values(tmp_path, capsys):
    a, b, c = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"
    _training_file(a, 1, 0.1)
    _training_file(b, 7, 0.5)
    _training_file(c, 1, 0.1)
    code, out, _ = _run(capsys, "diff", a, b)
    assert code == 1
    assert "~ epoch  1 -> 7" in out
    assert "~ optimizer.param_groups.0.lr  0.1 -> 0.5" in out
    assert "files differ" in out and "identical" not in out
    code, out, _ = _run(capsys, "diff", a, c)
    assert code == 0 and "files are identical" in out
    torch.save({"model": torch.load(a)["model"], "epoch": 1.0}, b)
    torch.save({"model": torch.load(a)["model"], "epoch": 1}, c)
    code, out, _ = _run(capsys, "diff", b, c)
    assert code == 1 and "~ epoch  1.0 -> 1" in out  # 1.0 and 1 are different values


def test_diff_dtype_change_max_rel_and_json(tmp_path, capsys):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    torch.save({"w": torch.tensor([1.0, 2.0, 4.0]), "m": torch.tensor([True, False]),
                "h": torch.tensor([1.0, 3.0], dtype=torch.bfloat16)}, a)
    torch.save({"w": torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64),
                "m": torch.tensor([True, True]),
                "h": torch.tensor([1.0, 3.0], dtype=torch.bfloat16)}, b)
    code, out, _ = _run(capsys, "diff", a, b)
    assert code == 1
    assert "~ w  dtype float32 -> float64" in out
    assert "~ w  values differ: max abs 1, max rel 0.2" in out
    assert "~ m  values differ: max abs 1, max rel 1" in out
    code, out, _ = _run(capsys, "diff", "--json", a, b)
    report = json.loads(out)
    assert code == 1 and report["equal"] == 1  # h
    assert report["dtype_changed"] == [{"key": "w", "a": "float32", "b": "float64"}]
    assert report["values_differ"][0] == {"key": "w", "max_abs": 1.0, "max_rel": 0.2}
    code, out, _ = _run(capsys, "diff", "--json", "--rtol", "0.25", a, a)
    assert code == 0 and json.loads(out)["values_differ"] == []
    torch.save({"w": torch.tensor([0.0, 1.0])}, a)
    torch.save({"w": torch.tensor([1.0, 0.0])}, b)
    code, out, _ = _run(capsys, "diff", "--json", a, b)

    def strict(name):
        raise ValueError(f"{name} is not JSON")
    report = json.loads(out, parse_constant=strict)
    assert report["values_differ"] == [{"key": "w", "max_abs": 1.0, "max_rel": "inf"}]


class _ClosedPipe(io.StringIO):
    """stdout whose reader went away (``numtorch diff a b | head -1`` after head exits)."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise io.UnsupportedOperation("fileno")


def test_diff_exit_status_survives_a_closed_pipe(tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    numtorch.save({"w": numtorch.zeros(3)}, a)
    numtorch.save({"w": numtorch.ones(3)}, b)
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["diff", str(a), str(b)]) == 1
    assert main(["diff", str(a), str(a)]) == 0
    assert main(["inspect", str(a)]) == 0
    assert capsys.readouterr().err == ""


def test_diff_errors_exit_2(tmp_path, capsys):
    a = tmp_path / "a.pt"
    numtorch.save({"w": numtorch.ones(1)}, a)
    code, _, err = _run(capsys, "diff", a, tmp_path / "missing.pt")
    assert code == 2 and err == f"numtorch diff: {tmp_path / 'missing.pt'}: no such file or " \
                                "directory\n"
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(a)])
    assert exc.value.code == 2


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.int8, torch.bool, torch.float16,
                                   torch.complex64, torch.uint8, torch.int64])
def test_convert_keeps_dtypes_both_ways(tmp_path, capsys, dtype):
    from safetensors.torch import load_file
    gen = torch.Generator().manual_seed(0)
    values = (torch.randn(3, 4, generator=gen) * 50).to(dtype)
    src, st, back = tmp_path / "a.pt", tmp_path / "a.safetensors", tmp_path / "b.pt"
    torch.save({"x": values, "y": torch.ones(2)}, src)
    assert _run(capsys, "convert", src, st)[0] == 0
    written = load_file(str(st))
    assert written["x"].dtype == dtype and torch.equal(written["x"], values)
    assert _run(capsys, "convert", st, back)[0] == 0
    restored = torch.load(back, weights_only=True)
    assert list(restored) == ["x", "y"]
    assert restored["x"].dtype == dtype and torch.equal(restored["x"], values)


def test_convert_keeps_the_users_safetensors_metadata(tmp_path, capsys):
    from safetensors import safe_open
    from safetensors.torch import save_file
    src, pt, st = tmp_path / "a.safetensors", tmp_path / "a.pt", tmp_path / "b.safetensors"
    save_file({"w": torch.ones(2, 2), "b": torch.zeros(2)}, str(src),
              metadata={"who": "me", "format": "pt"})
    assert _run(capsys, "convert", src, pt)[0] == 0
    loaded = torch.load(pt, weights_only=True)  # torch reads the carried metadata too
    assert loaded._safetensors_metadata == {"who": "me", "format": "pt"}
    assert _run(capsys, "convert", pt, st)[0] == 0
    with safe_open(str(st), framework="pt") as f:
        meta = f.metadata()
    assert meta["who"] == "me" and meta["format"] == "pt"
    code, out, _ = _run(capsys, "inspect", "--json", pt)
    assert json.loads(out)["metadata"] == {"who": "me", "format": "pt"}
    save_file({"w": torch.ones(2, 2), "b": torch.zeros(2)}, str(src), metadata={"who": "you"})
    code, out, _ = _run(capsys, "diff", src, st)
    assert code == 1 and "~ metadata who  'you' -> 'me'" in out


def test_convert_refuses_a_malicious_file_cleanly(tmp_path, capsys):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    src, dst = tmp_path / "evil_zip.pt", tmp_path / "out.pt"
    torch.save({"w": torch.ones(2), "payload": Evil()}, src)
    code, out, err = _run(capsys, "convert", src, dst)
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("numtorch convert: ") and "system" in err and "allow-list" in err
    assert not marker.exists() and not dst.exists()


def test_convert_views_of_one_storage_to_safetensors(tmp_path, capsys):
    from safetensors.torch import load_file
    base = torch.arange(6.0)
    src, st = tmp_path / "v.pt", tmp_path / "v.safetensors"
    torch.save({"a": base[:4], "b": base[2:]}, src)
    code, out, err = _run(capsys, "convert", src, st)
    assert code == 0 and "written as copies: b" in err
    written = load_file(str(st))
    assert torch.equal(written["a"], base[:4]) and torch.equal(written["b"], base[2:])


def test_convert_errors(tmp_path, capsys):
    src = tmp_path / "a.pt"
    torch.save({"w": torch.ones(1)}, src)
    code, _, err = _run(capsys, "convert", src, src)
    assert code == 2 and "same file" in err
    torch.save({"w": torch.ones(1), "epoch": 3}, src)
    code, _, err = _run(capsys, "convert", src, tmp_path / "x.safetensors")
    assert code == 1 and "not tensors: epoch" in err
