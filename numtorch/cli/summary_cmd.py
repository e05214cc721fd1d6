"""`numtorch summary MODULE:FACTORY --input-size 1,3,28,28`: the model summary table."""
from __future__ import annotations

import importlib
import os
import sys

from ._common import USAGE, CliError, emit


def add_parser(sub) -> None:
    p = sub.add_parser("summary", help="print the summary of a model built by your function")
    p.add_argument("target", help="module:function returning an nn.Module (e.g. mymodels:cnn)")
    p.add_argument("--input-size", action="append", default=[],
                   help="comma-separated input shape, e.g. 64,1,28,28 (repeat for more inputs)")
    p.add_argument("--dtypes", default=None,
                   help="comma-separated dtype of each input, e.g. long or float32,int64 "
                        "(default float32)")
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--columns", default="output_size,num_params",
                   help="comma-separated: input_size,output_size,num_params,params_percent,"
                        "kernel_size,mult_adds,trainable,buffers")
    p.set_defaults(func=run)


def build(target: str):
    """The module ``FACTORY()`` returns, importing MODULE from the current directory too."""
    mod_name, sep, func_name = target.partition(":")
    if not sep or not mod_name or not func_name:
        raise CliError(f"target {target!r} must look like module:function", USAGE)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise CliError(f"cannot import {mod_name!r}: {exc}") from None
    factory = getattr(module, func_name, None)
    if not callable(factory):
        raise CliError(f"{mod_name} has no function {func_name!r}")
    try:
        model = factory()
    except Exception as exc:  # noqa: BLE001 - the user's code: report it in one line
        raise CliError(f"{target}() raised {type(exc).__name__}: {exc}") from None
    from ..nn import Module
    if not isinstance(model, Module):
        raise CliError(f"{target}() returned {type(model).__name__}, not an nn.Module")
    return model


def parse_sizes(texts: list[str]) -> list[tuple]:
    """``["2,1,8,8"]`` -> ``[(2, 1, 8, 8)]``; CliError (usage) for anything else."""
    sizes = []
    for text in texts:
        try:
            size = tuple(int(x) for x in text.split(","))
        except ValueError:
            size = ()
        if not size or any(d <= 0 for d in size):
            raise CliError(f"--input-size {text!r} must be positive integers separated by "
                           "commas, e.g. 64,1,28,28", USAGE)
        sizes.append(size)
    return sizes


def parse_dtypes(text: str | None, n_inputs: int) -> list | None:
    """``"float32,long"`` -> numtorch dtypes, one per input (one name applies to all)."""
    if text is None:
        return None
    import numtorch
    dtypes = []
    for name in text.split(","):
        dt = getattr(numtorch, name.strip().removeprefix("torch."), None)
        if not isinstance(dt, numtorch.dtype):
            raise CliError(f"--dtypes: {name!r} is not a dtype (e.g. float32, long, bool)",
                           USAGE)
        dtypes.append(dt)
    if len(dtypes) == 1:
        dtypes *= max(n_inputs, 1)
    if len(dtypes) != n_inputs:
        raise CliError(f"--dtypes gives {len(dtypes)} dtypes for {n_inputs} inputs", USAGE)
    return dtypes


def run(args) -> int:
    from .._summary import ALL_COLUMNS, summary
    columns = tuple(c for c in args.columns.split(",") if c)
    bad = [c for c in columns if c not in ALL_COLUMNS]
    if bad:
        raise CliError(f"--columns: unknown {', '.join(bad)}; choose from "
                       f"{','.join(ALL_COLUMNS)}", USAGE)
    sizes = parse_sizes(args.input_size)
    dtypes = parse_dtypes(args.dtypes, len(sizes))
    if dtypes is not None and not sizes:
        raise CliError("--dtypes needs --input-size", USAGE)
    model = build(args.target)
    emit(str(summary(model, input_size=sizes or None, dtypes=dtypes, depth=args.depth,
                     col_names=columns)))
    return 0
