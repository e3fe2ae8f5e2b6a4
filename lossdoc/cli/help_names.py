"""Placeholders in `--help`: `--data SOURCE`, `--epochs N`, not Typer's `<str>`/`<int>`.

Applied once to every command's options after the commands are registered (lossdoc.cli), so
that the command modules keep their option lists as they are; an option with its own metavar
keeps it.
"""

from __future__ import annotations

import inspect
import typing

import typer
from typer.models import OptionInfo

BY_NAME = {
    "--data": "SOURCE",
    "--vocab-size": "V",
    "--out": "DIR",
    "--resume": "DIR",
    "--config": "FILE.yaml",
    "--device": "auto|cpu|cuda|mps",
    "--inject": "FAULT",
    "--on-nonfinite": "stop|skip",
    "--tokenizer": "char|byte|word",
    "--lang": "en|zh",
    "--fail-on": "broken|overfitting|never",
    "--format": "FORMAT",
    "--step-col": "COLUMN",
    "--train-col": "COLUMN",
    "--val-col": "COLUMN",
    "--text-column": "COLUMN",
    "--train-tag": "TAG",
    "--val-tag": "TAG",
    "--floor": "NATS",
    "--loss": "NATS",
    "--cache-dir": "DIR",
    "--val-file": "FILE.txt",
    "--lr": "LR",
    "--init-logit-std": "STD",
    "--dropout": "P",
    "--val-fraction": "FRACTION",
    "--zipf-exponent": "S",
    "--prompt": "TEXT",
    "--temperature": "T",
    "--top-k": "K",
    "--checkpoint": "FILE.pt",
    "--random-low": "ID",
}
BY_TYPE = {int: "N", float: "X", str: "TEXT"}


def _base(annotation) -> type | None:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation if isinstance(annotation, type) else None


def name_placeholders(app: typer.Typer) -> None:
    for info in app.registered_commands:
        try:
            hints = typing.get_type_hints(info.callback)
            annotated = typing.get_type_hints(info.callback, include_extras=True)
        except Exception:  # pragma: no cover - a callback whose hints cannot be resolved keeps Typer's names
            continue
        if info.callback is None:
            continue
        for name, param in inspect.signature(info.callback).parameters.items():
            opt = param.default
            if not isinstance(opt, OptionInfo):  # an Annotated[type, typer.Option(...)] (cli/options.py) holds it in its metadata
                opt = next((m for m in getattr(annotated.get(name), "__metadata__", ()) if isinstance(m, OptionInfo)), None)
            if not isinstance(opt, OptionInfo) or opt.metavar is not None:
                continue
            base = _base(hints.get(name))
            if base is bool:
                continue
            # in Annotated form Typer reads the first flag name from the default's place
            first = (opt.default,) if isinstance(opt.default, str) and opt is not param.default else ()
            decls = [d for d in (*first, *(opt.param_decls or ())) if d.startswith("--")]
            label = next((BY_NAME[d] for d in decls if d in BY_NAME), None)
            if label is None:
                label = (
                    "PATH" if base is not None and base.__name__.endswith("Path") else (BY_TYPE.get(base, "VALUE") if base is not None else "VALUE")
                )
            opt.metavar = label
