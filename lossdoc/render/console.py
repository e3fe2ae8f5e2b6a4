"""The two consoles: one for output, one for errors. Rich turns colour off by
itself when the stream is not a terminal or NO_COLOR is set."""

from __future__ import annotations

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)
