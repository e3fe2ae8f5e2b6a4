"""The two consoles: one for output, one for errors. Rich turns colour off by
itself when the stream is not a terminal or NO_COLOR is set.

Rich reads the terminal (COLUMNS, NO_COLOR, whether stdout is a tty) when a
Console is made, so `refresh()` makes them anew at the start of every command
(the CLI's root callback calls it); code imports `out`/`err` inside functions.
"""

from __future__ import annotations

from rich.console import Console


def _make() -> tuple[Console, Console]:
    return Console(highlight=False), Console(stderr=True, highlight=False, soft_wrap=True)


out, err = _make()


def refresh() -> None:
    """Re-create both consoles so that they see the environment as it is now."""
    global out, err
    out, err = _make()
