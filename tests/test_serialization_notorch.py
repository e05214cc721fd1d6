"""numtorch reads and writes checkpoints with torch made unimportable: a subprocess whose
``sys.meta_path`` refuses ``torch``, loading files torch wrote here (state dicts, whole modules,
legacy files) and saving files torch then reads."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent('''
    import json, sys
    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")
    sys.meta_path.insert(0, NoTorch())
    sys.path.insert(0, sys.argv[2])
    import numpy as np
    import numtorch
    folder = sys.argv[1]
    out = {}
    sd = numtorch.load(folder + "/sd.pt")
    out["sd"] = {k: v.tolist() for k, v in sd.items()}
    legacy = numtorch.load(folder + "/legacy.pt")
    out["legacy"] = {k: v.tolist() for k, v in legacy.items()}
    x = numtorch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6))
    for name in ("module.pt", "module_legacy.pt"):
        m = numtorch.load(folder + "/" + name, weights_only=False)
        out[name] = [type(m).__module__, m(x).detach().tolist()]
    try:
        numtorch.load(folder + "/needs_torch.pt", weights_only=False)
        out["needs_torch"] = "loaded"
    except ImportError as exc:
        out["needs_torch"] = str(exc)
    try:
        numtorch.load(folder + "/quantized.pt", weights_only=False)
        out["quantized"] = "loaded"
    except RuntimeError as exc:
        out["quantized"] = str(exc)
    numtorch.save({"w": numtorch.arange(6).reshape(2, 3), "p": numtorch.nn.Parameter(x)},
                  folder + "/from_numtorch.pt")
    out["torch_imported"] = "torch" in sys.modules
    print(json.dumps(out))
''')

USES_TORCH = textwrap.dedent('''
    import torch  # a module of the user's that imports torch


    class Config:
        def __init__(self):
            self.lr = 0.1
''')


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def test_load_and_save_with_torch_unimportable(tmp_path):
    (tmp_path / "uses_torch.py").write_text(USES_TORCH)
    sys.path.insert(0, str(tmp_path))
    try:
        import uses_torch
        torch.save({"cfg": uses_torch.Config()}, tmp_path / "needs_torch.pt")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("uses_torch", None)
    sd = {"w": torch.arange(6.0).reshape(2, 3), "i": torch.arange(4)}
    torch.save(sd, tmp_path / "sd.pt")
    torch.save(sd, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    m = _model()
    torch.save(m, tmp_path / "module.pt")
    torch.save(m, tmp_path / "module_legacy.pt", _use_new_zipfile_serialization=False)
    q = torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 0, torch.qint8)
    torch.save({"q": q}, tmp_path / "quantized.pt")

    run = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["torch_imported"] is False
    assert out["sd"] == out["legacy"] == {k: v.tolist() for k, v in sd.items()}
    x = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6))
    expected = m(x).detach().numpy()
    for name in ("module.pt", "module_legacy.pt"):
        module, values = out[name]
        assert module == "numtorch.nn.modules.container"
        np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    assert "uses_torch.Config, which imports torch" in out["needs_torch"]
    assert out["quantized"].startswith("numtorch cannot load quantized tensors")
    back = torch.load(tmp_path / "from_numtorch.pt", weights_only=True)
    assert back["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(back["p"], torch.nn.Parameter)
    np.testing.assert_array_equal(back["p"].detach().numpy(), x.numpy())


@pytest.mark.parametrize("name", ["torch._C._nn.gelu", "torch.fx.graph_module.GraphModule"])
def test_torch_names_numtorch_lacks_are_clear_errors(name, tmp_path):
    import numtorch
    module, attr = name.rsplit(".", 1)
    path = tmp_path / "lacks.pt"
    pickled = b"\x80\x02c" + module.encode() + b"\n" + attr.encode() + b"\n."
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickled)
    with pytest.raises(RuntimeError, match=f"needs {name}, which numtorch does not have"):
        numtorch.load(path, weights_only=False)
