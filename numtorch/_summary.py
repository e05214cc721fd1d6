"""Model summary in the spirit of torchinfo: the module tree with shapes, parameters, buffers,
mult-adds and memory estimates.

``summary(model, input_size=(64, 1, 28, 28))`` returns a ``ModelSummary`` whose numbers are
attributes (for tests and scripts) and whose ``str`` is the table. The rows, their shapes,
parameter counts, mult-adds and cell texts follow torchinfo 1.8; the differences:

- Parameters shared between layers are counted once in the totals (torchinfo counts them per
  layer), and every unique parameter counts towards ``param_bytes`` (torchinfo's "Params size"
  leaves out parameters held by non-leaf modules, such as MultiheadAttention's in_proj_weight).
- Buffers are reported separately (count and bytes) and included in the estimated total.
- ``input_bytes`` is the inputs' tensor bytes; torchinfo's "Input size" is ``sys.getsizeof``
  of each input's storage, which adds the Python object's header (64 bytes per input in
  torch 2.x). So ``estimated_total_bytes`` = input bytes + forward/backward bytes + parameter
  bytes + buffer bytes, where torchinfo's total is its input size + forward/backward bytes +
  its parameter bytes.
- With ``input_size`` (and no ``device``) the forward pass runs on ``meta`` tensors: layers
  with a known shape rule compute nothing, other modules run on data-free tensors, and a module
  that needs values (``.item()``) runs on real random data (see ``_summary_meta``).
- Nothing is printed unless ``verbose`` is 1 or 2; print the returned summary.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ._summary_render import ALL_COLUMNS, REQUIRES_INPUT, human_bytes, render
from ._tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerRow", "human_bytes", "ALL_COLUMNS"]


@dataclass
class LayerRow:
    """One call of one module during the summary's forward pass (or one module, without)."""
    name: str
    type_name: str
    depth: int
    depth_index: int
    module: Any = field(repr=False)
    path: str = ""
    input_size: list = field(default_factory=list)
    output_size: list = field(default_factory=list)
    output_bytes: int = 0
    num_params: int = 0
    trainable_params: int = 0
    param_bytes: int = 0
    num_buffers: int = 0
    buffer_bytes: int = 0
    mult_adds: int = 0
    kernel_size: Any = None
    is_leaf: bool = True
    is_recursive: bool = False
    executed: bool = False
    children: list = field(default_factory=list, repr=False)

    @property
    def trainable(self) -> str:
        if self.num_params == 0:
            return "--"
        if self.trainable_params == 0:
            return "False"
        return "True" if self.trainable_params == self.num_params else "Partial"

    def leftover_params(self) -> int:
        """Parameters of this module not shown in the rows below it."""
        return self.num_params - sum(c.num_params if c.is_leaf else c.leftover_params()
                                     for c in self.children if not c.is_recursive)


def _shape_and_itemsize(obj, top: bool = True) -> tuple[list, int]:
    """torchinfo's size of a layer's inputs or output: a tensor's shape; for a sequence, its
    first element's; for a dict output, its last value's (a nested dict: its first)."""
    if isinstance(obj, Tensor):
        return list(obj.shape), obj.element_size()
    if isinstance(obj, dict):
        if not obj:
            return [], 0
        return _shape_and_itemsize(list(obj.values())[-1] if top else list(obj.values()), False)
    if isinstance(obj, (list, tuple)) and obj:
        return _shape_and_itemsize(obj[0], False)
    return [], 0


def _kernel_size(module):
    k = getattr(module, "kernel_size", None)
    if k is None:
        return None
    return list(k) if isinstance(k, (list, tuple)) else k


def _mult_adds(row: LayerRow) -> int:
    """torchinfo's multiply-accumulate estimate from the parameters and the output shape."""
    out = row.output_size
    if not out:
        return 0
    total = 0
    for name, p in row.module.named_parameters():
        n = p.numel()
        if name in ("weight", "bias"):
            total += n * math.prod(out[:1] + out[2:]) if "Conv" in row.type_name else out[0] * n
        elif "weight" in name or "bias" in name:
            total += math.prod(out[:2]) * n
    return total


@dataclass
class ModelSummary:
    """The result of ``summary``: rows in call order and totals; ``str()`` gives the table."""
    model_name: str
    rows: list
    depth: int
    col_names: tuple
    total_params: int
    trainable_params: int
    param_bytes: int
    total_buffers: int
    buffer_bytes: int
    input_bytes: int
    activation_bytes: int
    forward_backward_bytes: int
    total_mult_adds: int
    has_input: bool = True

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def estimated_total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.param_bytes + \
            self.buffer_bytes

    def table(self) -> list[tuple[str, dict]]:
        """The rows shown (to ``depth``): each layer's label and its cell text per column."""
        from ._summary_render import table_rows
        return table_rows(self)

    def __str__(self) -> str:
        return render(self)

    __repr__ = __str__


def _normalise_sizes(input_size) -> list[tuple]:
    """torchinfo's input_size forms -> one shape per input: ``(2, 4)``, ``[2, 4]``,
    ``[(2, 4), (2, 3)]``, ``((2, 4), (2, 3))``."""
    if not isinstance(input_size, (list, tuple)):
        raise TypeError(f"input_size must be a tuple or list of ints (one input), or a list of "
                        f"them (several inputs); got {type(input_size).__name__}")
    if not input_size:
        raise ValueError("input_size is empty")
    if isinstance(input_size[0], (list, tuple)):
        sizes = [tuple(s) if isinstance(s, (list, tuple)) else s for s in input_size]
    else:
        sizes = [tuple(input_size)]
    for s in sizes:
        if not isinstance(s, tuple) or not all(type(d) is int for d in s):
            raise TypeError(f"input_size {input_size!r} must hold ints (one shape per input)")
        if not s or any(d <= 0 for d in s):
            raise ValueError(f"input_size {s} must hold positive ints")
    return sizes


def _make_inputs(input_size, dtypes, device) -> list[Tensor]:
    from ._summary_meta import meta_input, real_input
    from ._dtype import float32
    sizes = _normalise_sizes(input_size)
    if dtypes is None:
        dtypes = [float32] * len(sizes)
    dtypes = list(dtypes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"dtypes gives {len(dtypes)} dtypes for {len(sizes)} inputs")
    if device is None or str(device) == "meta":
        return [meta_input(s, dt) for s, dt in zip(sizes, dtypes)]
    return [real_input(s, dt, device) for s, dt in zip(sizes, dtypes)]


def _tensor_bytes(x) -> int:
    if isinstance(x, Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, dict):
        return sum(_tensor_bytes(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return sum(_tensor_bytes(v) for v in x)
    return 0


def _check_args(col_names, input_data, input_size, mode: str, verbose) -> tuple:
    if input_data is not None and input_size is not None:
        raise RuntimeError("Only one of (input_data, input_size) should be specified.")
    has_input = input_data is not None or input_size is not None
    if col_names is None:
        col_names = ("output_size", "num_params") if has_input else ("num_params",)
    col_names = tuple(col_names)
    bad = [c for c in col_names if c not in ALL_COLUMNS]
    if bad:
        raise ValueError(f"unknown column(s) {bad}; choose from {list(ALL_COLUMNS)}")
    needs = set(col_names) & REQUIRES_INPUT
    if needs and not has_input:
        raise ValueError(f"You must pass input_data or input_size in order to use columns: "
                         f"{sorted(needs)}")
    if mode not in ("train", "eval"):
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    if verbose not in (None, 0, 1, 2):
        raise ValueError("Verbose must be either 0 (quiet), 1 (default), or 2 (verbose).")
    return col_names, has_input


def summary(model, input_size=None, input_data=None, depth: int = 3,
            col_names: Sequence[str] | None = None, dtypes=None, device=None,
            mode: str = "eval", verbose: int | None = None) -> ModelSummary:
    """Summarise ``model``: one forward pass on ``input_data`` (a tensor, a list of positional
    inputs or a dict of keyword inputs) or on inputs of ``input_size`` with ``dtypes``
    (float32 by default; on ``meta`` unless ``device`` is given), tabulating every module call
    to ``depth``. With neither, the table lists the modules and their parameters.

    ``col_names`` from ``ALL_COLUMNS`` (default: output size and parameters with an input,
    parameters only without). Raises RuntimeError when the forward pass fails.
    """
    from ._summary_record import Recorder, static_rows
    col_names, has_input = _check_args(col_names, input_data, input_size, mode, verbose)
    if not has_input:
        rows = static_rows(model)
        input_bytes = 0
    else:
        inputs = input_data if input_data is not None else \
            _make_inputs(input_size, dtypes, device)
        if isinstance(inputs, (Tensor, np.ndarray)):
            inputs = [inputs]
        elif not isinstance(inputs, (list, tuple, dict)):
            raise TypeError(f"input_data must be a tensor, a list or tuple of positional "
                            f"inputs or a dict of keyword inputs, got {type(inputs).__name__}")
        rows = Recorder(model).run(inputs, train=mode == "train")
        input_bytes = _tensor_bytes(inputs)
    result = _totals(model, rows, depth, col_names, input_bytes, has_input)
    if verbose:
        print(result)
    return result


def _totals(model, rows, depth, col_names, input_bytes, has_input) -> ModelSummary:
    params = {id(p): p for p in model.parameters()}.values()
    buffers = {id(b): b for b in model.buffers()}.values()
    activation = sum(r.output_bytes for r in rows if r.is_leaf and not r.is_recursive)
    fwd_bwd = sum(2 * r.output_bytes for r in rows if r.is_leaf and r.num_params > 0)
    return ModelSummary(
        model_name=type(model).__name__, rows=rows, depth=depth, col_names=col_names,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        total_buffers=sum(b.numel() for b in buffers),
        buffer_bytes=sum(b.numel() * b.element_size() for b in buffers),
        input_bytes=input_bytes, activation_bytes=activation,
        forward_backward_bytes=fwd_bwd,
        total_mult_adds=sum(r.mult_adds for r in rows if r.is_leaf),
        has_input=has_input)
