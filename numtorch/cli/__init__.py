"""The `numtorch` command: inspect, diff, convert and summarise checkpoints and models.

None of the commands runs code from a checkpoint: files are read with the weights-only
unpickler, and globals outside its allow-list are reported, never imported.
"""
from __future__ import annotations

import argparse
import sys

from . import convert_cmd, diff_cmd, inspect_cmd, summary_cmd

__all__ = ["main"]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numtorch", description="Inspect, compare and convert PyTorch checkpoints "
                                     "without torch (no checkpoint code is ever run).")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in (inspect_cmd, diff_cmd, convert_cmd, summary_cmd):
        cmd.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the console script and ``python -m numtorch``."""
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"numtorch {args.command}: {exc.filename}: no such file", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as exc:
        print(f"numtorch {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
