"""`numtorch inspect`: header-only reading of large files, parameter/buffer labels in bundles,
numtorch's safetensors metadata, shared storages and column alignment."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import numtorch
from numtorch.cli import main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _inspect_json(capsys, path) -> dict:
    code, out, err = _run(capsys, "inspect", "--json", path)
    assert code == 0, err
    return json.loads(out)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_inspect_reads_no_tensor_data_of_large_files(tmp_path):
    """96 MiB files (zip, legacy, and legacy and zip asking for an unsafe global): inspect's
    peak memory grows by far less than the data, so the data was never read."""
    marker = tmp_path / "pwned"
    big = {f"layers.{i}.weight": numtorch.ones(768, 1024) for i in range(32)}
    paths = []
    for name, legacy, evil in (("zip", False, False), ("legacy", True, False),
                               ("evil_legacy", True, True), ("evil_zip", False, True)):
        obj = dict(big, payload=Evil(marker)) if evil else big
        path = tmp_path / f"{name}.pt"
        numtorch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        paths.append(str(path))
    script = textwrap.dedent("""
        import contextlib, io, json, sys
        from numtorch.cli import main

        def peak_kib():  # this process's peak resident memory (ru_maxrss survives exec)
            with open("/proc/self/status") as f:
                return int(next(l for l in f if l.startswith("VmHWM")).split()[1])
        main(["inspect", sys.argv[1]])  # warm up every import on a small file first
        grown = []
        for path in sys.argv[2:]:
            before = peak_kib()
            with contextlib.redirect_stdout(io.StringIO()) as out:
                assert main(["inspect", path]) == 0
            assert "total" in out.getvalue() and "768, 1024" in out.getvalue()
            grown.append(peak_kib() - before)
        print(json.dumps(grown))
    """)
    small = tmp_path / "small.pt"
    numtorch.save({"w": numtorch.ones(2)}, small)
    res = subprocess.run([sys.executable, "-c", script, str(small), *paths],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    grown_kib = json.loads(res.stdout.strip().splitlines()[-1])
    assert all(g < 16 * 1024 for g in grown_kib), grown_kib  # each file holds 96 MiB
    assert not marker.exists()


def test_inspect_malicious_legacy_file_reports_and_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil_legacy.pt"
    torch.save({"w": torch.ones(3), "payload": Evil(marker)}, path,
               _use_new_zipfile_serialization=False)
    code, out, _ = _run(capsys, "inspect", path)
    assert code == 0 and not marker.exists()
    assert "torch legacy" in out and "NOT executed" in out and "system" in out
    assert "[3]" in out
    data = _inspect_json(capsys, path)
    assert [g.rsplit(".", 1)[-1] for g in data["unsafe_globals"]] == ["system"]
    assert data["other_values"]["payload.<args>"] == [f"touch {marker}"]


def _bundle_model(T):
    nn = T.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.register_buffer("pe", T.zeros(6, 4))
            self.norm = nn.BatchNorm1d(4)
            self.frozen = nn.Linear(4, 4)
            self.frozen.requires_grad_(False)
            self.head = nn.Linear(4, 3)

        def forward(self, ids):
            x = self.emb(ids) + self.pe[: ids.shape[1]]
            return self.head(self.frozen(self.norm(x.mean(1))))
    return Model()


def _expected_kinds(model) -> dict:
    params = {n for n, _ in model.named_parameters()}
    return {k: "param" if k in params else "buffer" for k in model.state_dict()}


def test_bundle_labels_buffers_from_the_optimizer(tmp_path, capsys):
    numtorch.manual_seed(0)
    model = _bundle_model(numtorch)
    opt = numtorch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    model(numtorch.tensor([[1, 2, 3], [4, 5, 6]])).sum().backward()
    opt.step()
    path = tmp_path / "run.ckpt"
    numtorch.checkpoint.save_checkpoint(path, model=model, optimizer=opt, epoch=1)
    data = _inspect_json(capsys, path)
    assert data["format"] == "numtorch-bundle"
    kinds = {t["key"][len("model."):]: t["kind"] for t in data["tensors"]
             if t["key"].startswith("model.")}
    assert kinds == _expected_kinds(model)
    assert kinds["pe"] == "buffer" and kinds["frozen.weight"] == "param"
    code, out, _ = _run(capsys, "inspect", path)
    assert "numtorch bundle" in out
    assert next(l for l in out.splitlines() if l.strip().startswith("pe ")).split()[1] == \
        "buffer"


def test_param_names_in_a_torch_optimizer_state_decide_exactly(tmp_path, capsys):
    torch.manual_seed(0)
    model = _bundle_model(torch)
    opt = torch.optim.SGD(model.named_parameters(), lr=0.1)  # no per-parameter state
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    data = _inspect_json(capsys, path)
    kinds = {t["key"][len("model."):]: t["kind"] for t in data["tensors"]}
    assert kinds == _expected_kinds(model)


def test_safetensors_written_by_convert_keeps_ties_and_order(tmp_path, capsys):
    emb = torch.nn.Embedding(10, 4)
    model = torch.nn.ModuleDict({"emb": emb, "bn": torch.nn.BatchNorm1d(4),
                                 "head": torch.nn.Linear(4, 10, bias=False)})
    model["head"].weight = emb.weight
    src, st = tmp_path / "tied.pt", tmp_path / "t.safetensors"
    torch.save(model.state_dict(), src)
    assert _run(capsys, "convert", src, st)[0] == 0
    capsys.readouterr()
    data = _inspect_json(capsys, st)
    assert [t["key"] for t in data["tensors"]] == list(model.state_dict())
    head = next(t for t in data["tensors"] if t["key"] == "head.weight")
    assert head["tied_to"] == "emb.weight" and head["shape"] == [10, 4]
    assert data["metadata"] == {"format": "pt"}  # numtorch's own keys are interpreted
    assert data["totals"]["param"]["tensors"] == 3  # emb.weight, bn.weight, bn.bias
    code, out, _ = _run(capsys, "diff", src, st)
    assert code == 0, out


def test_shared_storage_counted_once_and_marked(tmp_path, capsys):
    base = torch.arange(12.0)
    path = tmp_path / "views.pt"
    torch.save({"a": base[:4], "b": base[2:], "c": base, "d": base}, path)
    data = _inspect_json(capsys, path)
    assert data["totals"]["param"]["bytes"] == 48  # one storage of 12 float32
    rows = {t["key"]: t for t in data["tensors"]}
    assert rows["b"]["shares_storage_with"] == "a" and rows["d"]["tied_to"] == "c"
    code, out, _ = _run(capsys, "inspect", path)
    assert "shares storage with a" in out and "tied to c" in out
    assert "48 B stored" in out.splitlines()[-2]


def test_inspect_on_safetensors_from_the_safetensors_package(tmp_path, capsys):
    from safetensors.numpy import save_file
    path = tmp_path / "hf.safetensors"
    save_file({"b.weight": np.ones((2, 3), np.float16), "a.running_mean": np.zeros(3, np.float32)},
              str(path), metadata={"who": "me"})
    data = _inspect_json(capsys, path)
    assert data["format"] == "safetensors" and data["metadata"] == {"who": "me"}
    got = {t["key"]: (t["kind"], t["shape"], t["dtype"]) for t in data["tensors"]}
    assert got == {"b.weight": ("param", [2, 3], "float16"),
                   "a.running_mean": ("buffer", [3], "float32")}


def test_whole_pickled_module_lists_its_parameters_and_buffers(tmp_path, capsys):
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)), path)
    data = _inspect_json(capsys, path)
    kinds = {t["key"]: t["kind"] for t in data["tensors"]}
    assert kinds == {"0.weight": "param", "0.bias": "param", "1.weight": "param",
                     "1.bias": "param", "1.running_mean": "buffer", "1.running_var": "buffer",
                     "1.num_batches_tracked": "buffer"}
    assert any(g.endswith("Sequential") for g in data["unsafe_globals"])


def test_inspect_columns_are_aligned(tmp_path, capsys):
    sd = {"features.0.weight": torch.ones(16, 1, 3, 3), "features.0.bias": torch.ones(16),
          "features.1.num_batches_tracked": torch.tensor(3),
          "classifier.weight": torch.ones(10, 128, dtype=torch.bfloat16), "x": torch.ones(1)}
    path = tmp_path / "m.pt"
    torch.save(sd, path)
    code, out, _ = _run(capsys, "inspect", path)
    rows = [l for l in out.splitlines() if l.startswith(("  ", "x ")) and "B" in l]
    assert len(rows) == len(sd)
    kinds, shapes, dtypes = ([l.index(word) for l, word in zip(rows, words)] for words in (
        ["param", "param", "buffer", "param", "param"],
        ["[16, 1, 3, 3]", "[16]", "[]", "[10, 128]", "[1]"],
        ["float32", "float32", "int64", "bfloat16", "float32"]))
    assert len(set(kinds)) == len(set(shapes)) == len(set(dtypes)) == 1
    ends = {l.index(" B") + 2 if " B " in l or l.endswith(" B") else l.index("iB") + 2
            for l in rows}
    assert len(ends) == 1  # sizes right-aligned
    headings = [l for l in out.splitlines() if l.endswith("/")]
    assert headings == ["features.0/", "features.1/", "classifier/"]


def test_inspect_errors_are_one_line(tmp_path, capsys):
    code, out, err = _run(capsys, "inspect", tmp_path)
    assert code == 1 and out == "" and err == f"numtorch inspect: {tmp_path}: is a directory\n"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02" + b"garbage" * 10)
    code, _, err = _run(capsys, "inspect", bad)
    assert code == 1 and err.startswith("numtorch inspect: ") and len(err.splitlines()) == 1


def test_tar_format_is_refused_not_run(tmp_path, capsys):
    from test_serialization_legacy import tar_checkpoint
    path = tmp_path / "old.tar"
    tar_checkpoint(path)
    code, out, err = _run(capsys, "inspect", path)
    assert code == 1 and out == "" and "weights_only=False" in err and "never" in err
