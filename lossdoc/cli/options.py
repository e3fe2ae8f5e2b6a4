"""Options shared by several commands."""

from __future__ import annotations

import typer

LangOption = typer.Option(None, "--lang", help="Language of the output: en or zh (default: from LANG/LC_ALL).")
