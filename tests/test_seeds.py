"""Every code example of the five seed tutorials (examples/seeds/) prints the same structure under
numtorch as under torch.

Each script reads ``import numtorch as torch``; it runs once as written and once with
``numtorch`` replaced by ``torch``, each as ``__main__`` in its own empty directory, and the two
printed outputs must agree once random numbers are masked: keys, order, shapes, dtypes, flags,
reprs and error messages must be identical.
"""
from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import numtorch

SEEDS = Path(__file__).resolve().parent.parent / "examples" / "seeds"
SCRIPTS = sorted(SEEDS.glob("seed*.py"))
SUMMARY_MARK = "=== summary ==="

_VERSION = re.compile(r"\b\d+\.\d+\.\d+(?:[+.][\w.]+)?")
_FLOAT = re.compile(r"-?(?:\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+|inf|nan)")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Printed output with floating values masked (the two libraries draw different random
    numbers), version strings masked and whitespace removed (column alignment and line wrapping
    depend on the values' signs and widths)."""
    text = _VERSION.sub("<version>", text)
    text = _FLOAT.sub("#", text)
    return _SPACE.sub("", text)


def missing_dependency(source: str) -> str | None:
    """Why the script cannot run under numtorch yet (a part not written yet), or None."""
    import numtorch.optim as optim
    for name in sorted(set(re.findall(r"optim\.(\w+)\(", source))):
        if not hasattr(optim, name):
            return f"numtorch.optim.{name} does not exist yet"
    for name in ("save", "load"):
        if f"torch.{name}(" in source and not hasattr(numtorch, name):
            return f"numtorch.{name} does not exist yet"
    for name in sorted(set(re.findall(r"nn\.([A-Z]\w+)\(", source))):
        if not hasattr(numtorch.nn, name):
            return f"numtorch.nn.{name} does not exist yet"
    return None


def run_script(source: str, workdir: Path, name: str) -> str:
    """Run ``source`` as ``__main__`` in ``workdir`` in this process; returns what it printed.

    A fresh module object stands in for ``__main__`` while it runs, so classes defined by the
    script can be pickled and unpickled (saving a whole model) as when run as a file."""
    workdir.mkdir()
    main = types.ModuleType("__main__")
    main.__file__ = str(workdir / name)
    saved_main = sys.modules["__main__"]
    out = io.StringIO()
    with contextlib.chdir(workdir), contextlib.redirect_stdout(out):
        sys.modules["__main__"] = main
        try:
            exec(compile(source, name, "exec"), main.__dict__)
        finally:
            sys.modules["__main__"] = saved_main
    return out.getvalue()


def both_outputs(script: Path, tmp_path: Path) -> tuple[str, str]:
    source = script.read_text()
    reason = missing_dependency(source)
    if reason:
        pytest.skip(reason)
    assert "import numtorch as torch" in source
    expected = run_script(source.replace("numtorch", "torch"), tmp_path / "torch", script.name)
    actual = run_script(source, tmp_path / "numtorch", script.name)
    return expected, actual


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_seed_script_prints_torchs_structure(script: Path, tmp_path: Path) -> None:
    expected, actual = both_outputs(script, tmp_path)
    expected = expected.split(SUMMARY_MARK)[0]
    actual_main, _, actual_summary = actual.partition(SUMMARY_MARK)
    assert expected.strip(), "the script printed nothing: it checks nothing"
    assert normalise(actual_main) == normalise(expected), \
        f"numtorch printed:\n{actual_main}\n\ntorch printed:\n{expected}"


def test_seed_summary_counts_torchs_parameters(tmp_path: Path) -> None:
    """The summary part (torchinfo under torch, not installed here) is numtorch-only: its total
    must be the parameter count torch prints before it."""
    script = SEEDS / "seed003_2_summary.py"
    expected, actual = both_outputs(script, tmp_path)
    summary = actual.partition(SUMMARY_MARK)[2]
    if "no summary available" in summary:
        pytest.skip("numtorch has no public summary yet")
    count = expected.split(SUMMARY_MARK)[0].strip().splitlines()[-2]
    assert f"{int(count):,}" in summary or count in summary


def test_plain_tensor_warning_names_the_seed_mistake() -> None:
    source = (SEEDS / "seed002_1_plain_tensor_not_registered.py").read_text()
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                            cwd=SEEDS, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "UserWarning: MLP.w1 is a tensor with requires_grad=True" in result.stderr
