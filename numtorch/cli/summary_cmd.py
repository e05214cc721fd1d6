"""`numtorch summary MODULE:FACTORY --input-size 1,3,28,28`: the model summary table."""
from __future__ import annotations

import importlib
import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("summary", help="print the summary of a model built by your function")
    p.add_argument("target", help="module:function returning an nn.Module (e.g. mymodels:cnn)")
    p.add_argument("--input-size", action="append", default=[],
                   help="comma-separated input shape, e.g. 64,1,28,28 (repeat for more inputs)")
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--columns", default="output_size,num_params",
                   help="comma-separated: input_size,output_size,num_params,params_percent,"
                        "kernel_size,mult_adds,trainable,buffers")
    p.set_defaults(func=run)


def build(target: str):
    if ":" not in target:
        raise SystemExit("numtorch summary: target must look like module:function")
    mod_name, func_name = target.split(":", 1)
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(mod_name)
    factory = getattr(module, func_name, None)
    if factory is None:
        raise SystemExit(f"numtorch summary: {mod_name} has no attribute {func_name!r}")
    return factory()


def run(args) -> int:
    from .._summary import summary
    model = build(args.target)
    sizes = [tuple(int(x) for x in s.split(",")) for s in args.input_size]
    input_size = sizes if len(sizes) > 1 else (sizes[0] if sizes else None)
    print(summary(model, input_size=input_size, depth=args.depth,
                  col_names=tuple(c for c in args.columns.split(",") if c)))
    return 0
