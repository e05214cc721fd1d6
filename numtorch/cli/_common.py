"""What every command shares: its error type, pipe-safe output and JSON-safe values."""
from __future__ import annotations

import json
import os
import sys
from typing import Any

USAGE = 2    # exit status for a command line that cannot work (bad arguments)
FAILURE = 1  # exit status for a command that ran and failed (unreadable file, refused)


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit status to return."""

    def __init__(self, message: str, status: int = FAILURE) -> None:
        super().__init__(message)
        self.status = status


def emit(text: str) -> None:
    """Print ``text`` and a newline; a reader that went away (``| head``) ends the output
    quietly, and the command still returns its own exit status."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the failed flush of sys.stdout again at exit: point it at devnull.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def to_json(value) -> Any:
    """A JSON-safe rendering of a non-tensor value (its repr when JSON has no form for it)."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)
