"""The two consoles: one for output, one for errors. Rich turns colour off by
itself when the stream is not a terminal or NO_COLOR is set.

Rich reads the terminal (COLUMNS, NO_COLOR, whether stdout is a tty) when a
Console is made, so `refresh()` makes them anew at the start of every command
(the CLI's root callback calls it); code imports `out`/`err` inside functions.

When the output is piped or written to a file and no width was asked for
(COLUMNS unset), lines of text are not hard-wrapped at rich's default of 80:
a command in a sentence stays on one line, whole for copying and for grep
(panels and tables are still laid out at 80 columns). With COLUMNS set, text
wraps at that width, as on a terminal.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console
from rich.text import Text


class OutConsole(Console):
    """A Console that never breaks plain text lines when it does not write to a terminal, and that goes
    quiet when its reader goes away (``lossdoc explain run.jsonl | head -1``): the command still finishes and
    exits with its own code (``--fail-on``'s 1 means the verdict, not a closed pipe). Rich's default exits 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail on the closed pipe either
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.width_asked = bool(os.environ.get("COLUMNS", "").strip())

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 - rich's name
        if objects and not self.is_terminal and not self.width_asked and all(isinstance(o, (str, Text)) for o in objects):
            kwargs["soft_wrap"] = True
        super().print(*objects, **kwargs)


def _make() -> tuple[Console, Console]:
    return OutConsole(highlight=False), Console(stderr=True, highlight=False, soft_wrap=True)


out, err = _make()


def refresh() -> None:
    """Re-create both consoles so that they see the environment as it is now."""
    global out, err
    out, err = _make()
