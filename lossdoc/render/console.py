"""The two consoles: one for output, one for errors. Rich turns colour off by
itself when the stream is not a terminal or NO_COLOR is set.

Rich reads the terminal (COLUMNS, NO_COLOR, whether stdout is a tty) when a
Console is made, so `refresh()` makes them anew at the start of every command
(the CLI's root callback calls it); code imports `out`/`err` inside functions.

When the output is piped or written to a file, lines of text are not
hard-wrapped: a command in a sentence stays on one line, whole for copying
and for grep (panels and tables are still laid out at the console's width).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


class OutConsole(Console):
    """A Console that never breaks plain text lines when it does not write to a terminal."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 - rich's name
        if objects and not self.is_terminal and all(isinstance(o, (str, Text)) for o in objects):
            kwargs["soft_wrap"] = True
        super().print(*objects, **kwargs)


def _make() -> tuple[Console, Console]:
    return OutConsole(highlight=False), Console(stderr=True, highlight=False, soft_wrap=True)


out, err = _make()


def refresh() -> None:
    """Re-create both consoles so that they see the environment as it is now."""
    global out, err
    out, err = _make()
