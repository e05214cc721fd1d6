"""The `numtorch` command: inspect, diff, convert and summarise checkpoints and models.

None of the commands runs code from a checkpoint: files are read with the weights-only
unpickler, and globals outside its allow-list are reported, never imported. Errors are one
line on stderr; exit status 2 means a usage error (and, for ``diff``, any trouble, as
diff(1)), 1 a failure (``diff``: the files differ), 0 success.
"""
from __future__ import annotations

import argparse
import sys

from . import convert_cmd, diff_cmd, inspect_cmd, summary_cmd
from ._common import FAILURE, USAGE, CliError

__all__ = ["main", "CliError"]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numtorch", description="Inspect, compare and convert PyTorch checkpoints "
                                     "without torch (no checkpoint code is ever run).")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in (inspect_cmd, diff_cmd, convert_cmd, summary_cmd):
        cmd.add_parser(sub)
    return parser


def _os_message(exc: OSError) -> str:
    what = {FileNotFoundError: "no such file or directory", IsADirectoryError: "is a directory",
            NotADirectoryError: "not a directory", PermissionError: "permission denied"}
    reason = what.get(type(exc), exc.strerror or str(exc))
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
        return _os_message(exc)
    text = " ".join(str(exc).split())
    if isinstance(exc, CliError):
        return text
    return text if isinstance(exc, (ValueError, RuntimeError)) else \
        f"{type(exc).__name__}: {text}"


def main(argv=None) -> int:
    """Entry point of the console script and ``python -m numtorch``; returns the exit status."""
    args = make_parser().parse_args(argv)
    failure = getattr(args, "failure_status", FAILURE)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output goes through emit(); this is stderr or a late flush
        return failure
    except Exception as exc:  # noqa: BLE001 - every error becomes one line, not a traceback
        if args.traceback:
            raise
        status = USAGE if isinstance(exc, CliError) and exc.status == USAGE else failure
        print(f"numtorch {args.command}: {_message(exc)}", file=sys.stderr)
        return status
