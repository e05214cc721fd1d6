"""``python -m numtorch``: the checkpoint command-line tool."""
import sys

from .cli import main

sys.exit(main())
