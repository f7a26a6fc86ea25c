"""The streams a command writes to, and the terminal manners that go with them."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console


@dataclass
class Environment:
    """Standard streams and whether each is a terminal. Tests build their own."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO

    @classmethod
    def from_process(cls) -> Environment:
        return cls(sys.stdin, sys.stdout, sys.stderr)

    def console(self, stream: TextIO) -> Console:
        is_tty = hasattr(stream, "isatty") and stream.isatty()
        colour = is_tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        return Console(
            file=stream,
            force_terminal=is_tty,
            no_color=not colour,
            color_system="auto" if colour else None,
            width=None if is_tty else 120,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=not is_tty,
        )

    @property
    def out(self) -> Console:
        return self.console(self.stdout)

    @property
    def err(self) -> Console:
        return self.console(self.stderr)


def configure_logging(verbosity: int, stream: TextIO) -> None:
    """Silent by default; ``-v`` shows info, ``-vv`` debug. Only zt-audit's own logger."""
    logger = logging.getLogger("zt_audit")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("zt-audit: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level if verbosity > 0 else logging.ERROR)
    logger.propagate = False
