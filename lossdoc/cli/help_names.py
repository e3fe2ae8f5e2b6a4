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

from lossdoc.train.config import BACKENDS, DEVICES, ON_NONFINITE, STOP_ON  # plain Python, no torch

# The fixed choices of options, written once: --help lists them (``--device auto|cpu|cuda|mps``) and shell
# completion offers them (``complete``). LOG_FORMATS is lossdoc.runlog.readers.formats() (a test keeps them
# equal; importing the readers would cost every command's start-up 0.4 s).
LOG_FORMATS = (
    "lossdoc",
    "hf-trainer",
    "tensorboard",
    "lightning-csv",
    "mlflow",
    "wandb",
    "megatron",
    "deepspeed",
    "torchtitan",
    "litgpt",
    "fairseq",
    "olmo",
    "composer",
    "markdown",
    "nanogpt",
    "seed-console",
    "numbers",
    "csv",
    "jsonl",
    "json",
    "console",
    "values",
)
DATA_SOURCES = ("dummy", "zipf", "markov", "pydoc", "wikitext2", "wikitext103", "hf:")
CHOICES: dict[str, tuple[str, ...]] = {
    "--device": DEVICES,
    "--backend": BACKENDS,
    "--stop-on": STOP_ON,
    "--on-nonfinite": ON_NONFINITE,
    "--tokenizer": ("char", "byte", "word"),
    "--lang": ("en", "zh"),
    "--fail-on": ("broken", "overfitting", "never"),
    "--labels": ("shifted", "unshifted"),
    "--format": LOG_FORMATS,
}

BY_NAME = {
    "--data": "SOURCE",
    "--vocab-size": "V",
    "--out": "DIR",
    "--resume": "DIR",
    "--config": "FILE.yaml",
    "--inject": "FAULT",
    **{flag: "|".join(choices) for flag, choices in CHOICES.items() if flag != "--format"},
    "--format": "FORMAT",  # ten names: listed in the help text, offered by completion
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
            choices = next((CHOICES[d] for d in decls if d in CHOICES), None)
            if choices is not None and opt.autocompletion is None and opt.shell_complete is None:
                opt.autocompletion = _completer(choices)
            elif "--data" in decls and opt.autocompletion is None:
                opt.autocompletion = _complete_data
    _full_summaries(app)


def _completer(choices: tuple[str, ...]):
    """Shell completion of an option's value from its fixed choices."""

    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete)]

    return complete


def _complete_data(incomplete: str) -> list[str]:
    """``--data``: the built-in sources, then .txt files and folders under what was typed."""
    import glob
    import os

    found = [s for s in DATA_SOURCES if s.startswith(incomplete)]
    for path in sorted(glob.glob(glob.escape(incomplete) + "*"))[:200]:
        if os.path.isdir(path):
            found.append(path + os.sep)
        elif path.endswith(".txt"):
            found.append(path)
    return found


def _full_summaries(app: typer.Typer) -> None:
    """`lossdoc --help` lists each command with its first sentence, whole: Click cuts a long one with '...'."""
    for info in app.registered_commands:
        text = info.help or (inspect.getdoc(info.callback) if info.callback else None) or ""
        if info.short_help is None and text:
            first = text.split(". ")[0].strip()
            info.short_help = first if first.endswith((".", "?")) else first + "."


def install() -> bool:
    """Arguments in usage lines and help as Click writes them (``RUN``, ``[RUN]``, ``RUN...``), not Typer's
    ``{RUN}`` and ``RUN <path>``. Reaches into ``typer.core.TyperArgument``; does nothing if it looks different."""
    try:
        from typer.core import TyperArgument
    except ImportError:
        return False
    if not all(hasattr(TyperArgument, n) for n in ("_usage_display_name", "display_type_rich", "_rich_display_name")):
        return False

    def usage_name(self) -> str:
        name = self.metavar or self.name.upper()
        name = name if self.nargs == 1 else name.rstrip(".") + "..."
        return name if self.required else f"[{name}]"

    def help_name(self) -> str:
        name = self.metavar or self.name.upper()
        return name if self.nargs == 1 else name.rstrip(".") + "..."

    def no_type(self, ctx=None) -> str:
        return ""

    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    TyperArgument._rich_display_name = help_name  # type: ignore[method-assign]
    TyperArgument.display_type_rich = no_type  # type: ignore[method-assign]  # no <path>, <list[Path]>
    return True
