"""The examples run, and the torch -> numtorch -> torch walk-through continues training exactly."""
import runpy
import sys
from pathlib import Path

import numpy as np
import torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
import torch_roundtrip  # noqa: E402


def test_roundtrip_matches_uninterrupted_torch_training(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = x.sum(1, keepdims=True).astype(np.float32)
    src, dst = str(tmp_path / "a.pt"), str(tmp_path / "b.pt")
    torch_roundtrip.torch_side(src, x, y)
    torch_roundtrip.numtorch_side(src, dst, x, y)
    state = torch.load(dst, weights_only=True)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(10):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(state["model"][k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    expected = opt.state_dict()
    assert state["optimizer"]["param_groups"] == expected["param_groups"]
    for i, s in expected["state"].items():
        for key, value in s.items():
            np.testing.assert_allclose(state["optimizer"]["state"][i][key].numpy(),
                                       value.numpy(), rtol=1e-5, atol=1e-7)
    torch_roundtrip.torch_check(dst, x, y)


def test_transformer_lm_example_learns(capsys):
    mod = runpy.run_path(str(EXAMPLES / "transformer_lm.py"))
    mod["main"](60)
    out = capsys.readouterr().out
    losses = [float(l.split("loss")[1].split()[0]) for l in out.splitlines()
              if l.startswith("step")]
    assert losses[-1] < losses[0] - 0.5
    assert "sample: Beautiful is" in out


def test_demo_end_to_end_when_piped():
    """The README's demo as a user pipes it (`make demo | tee log`): trains to >= 95% test
    accuracy, resumes, and ends with the CLI's view of the checkpoint, in under a minute; no
    progress-bar redraws ('\\r') in the piped output, one line per epoch."""
    import re
    import subprocess
    import time
    started = time.perf_counter()
    res = subprocess.run([sys.executable, str(EXAMPLES / "demo.py")], capture_output=True,
                         text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "\r" not in out
    assert [int(m) for m in re.findall(r"^epoch (\d+)  \[#+\]", out, re.M)] == [1, 2, 3, 4, 5, 6]
    accuracies = [float(m) for m in re.findall(r"test accuracy after \d+ epochs: ([\d.]+)%", out)]
    assert len(accuracies) == 2 and accuracies[-1] >= 95.0
    assert "Total params:" in out and "resumed from epoch 4" in out
    inspect = out.partition("$ numtorch inspect")[2]
    assert ": numtorch bundle" in inspect
    assert re.search(r"^  running_mean +buffer +\[16\] +float32", inspect, re.M)
    assert re.search(r"^parameters +\d+ tensors", inspect, re.M)
    assert elapsed < 60
