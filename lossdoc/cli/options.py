"""Options shared by several commands, each written once.

The options ``explain``, ``compare`` and ``watch`` share (the facts a log may lack, the log format, the charts) are
``Annotated`` types: a command declares ``vocab_size: VocabSize = None`` and gets the same flag, type and help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from lossdoc.cli.help_names import LOG_FORMATS
from lossdoc.errors import LossdocError
from lossdoc.i18n import LANG_NAMES, detect_lang
from lossdoc.train.config import TrainConfig


def resolve_lang(option: str | None) -> str:
    """The --lang option if given (validated: en or zh, in a few spellings), else the locale's language."""
    if option is None:
        return detect_lang()
    lang = LANG_NAMES.get(option.strip().lower())
    if lang is None:
        raise LossdocError("error.bad_lang", value=option)
    return lang


LangOption = typer.Option(None, "--lang", help="Language of the output: en or zh. Default: from LANG/LC_ALL.")


# Data options shared by `train` and `baseline --data` (the same loader reads them): their flag names and help
# come from TrainConfig's fields and docstrings, as train's own flags do (one source for every setting). The
# default is None here: "the default", which the config resolves (and the help shows).
def config_option(name: str, help: str | None = None) -> Any:
    """A typer.Option for TrainConfig field ``name``: its flag names, its docstring (or ``help``) as help, its default shown
    as Typer shows one (``[default: 3]``)."""
    from dataclasses import MISSING, fields

    from lossdoc.train.config import field_docs, flag_names  # no torch: the config module is plain Python

    field = next(f for f in fields(TrainConfig) if f.name == name)
    shown = "" if field.default in (None, MISSING) else f"  [default: {field.default}]"
    return typer.Option(None, *flag_names(field), help=(help or field_docs()[name].replace("``", "")) + shown)


TokenizerOption = config_option("tokenizer")
MinFreqOption = config_option("min_freq")
ValFileOption = config_option("val_file")
TextColumnOption = config_option("text_column")
CacheDirOption = config_option("cache_dir")
ZipfExponentOption = config_option("zipf_exponent")
MarkovSuccessorsOption = config_option("markov_successors")
SeqLenOption = config_option("seq_len")
ValFractionOption = config_option("val_fraction")

# --- explain, compare and watch: facts a log may lack (applied to every run that lacks them), its format, charts
VocabSize = Annotated[Optional[int], typer.Option("--vocab-size", "--vocab_size", help="Vocabulary size, for a log that does not carry it.")]
Floor = Annotated[Optional[float], typer.Option("--floor", help="The data's entropy floor in nats per token.")]
Random = Annotated[bool, typer.Option("--random", help="The data is uniformly random token ids over the vocabulary.")]
RandomLow = Annotated[
    Optional[int], typer.Option("--random-low", "--random_low", help="With --random: the lowest token id drawn (1 for the seed's randint(1, V)).")
]
Pretrained = Annotated[
    Optional[bool],
    typer.Option(
        "--pretrained/--from-scratch",
        help="Training started from pretrained weights (a fine-tune), or from a fresh initialisation. "
        "Default: read from the log and the files beside it, else inferred from the first losses.",
    ),
]
Format = Annotated[
    Optional[str],
    typer.Option(
        "--format",
        help="Force the log format instead of detecting it: " + ", ".join(LOG_FORMATS[:-1]) + f" or {LOG_FORMATS[-1]} (docs/formats.md).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")]
Plot = Annotated[bool, typer.Option("--plot", help="Draw the runs in the terminal: loss per batch and per epoch, floors, findings.")]
Report = Annotated[
    Optional[Path], typer.Option("--report", metavar="FILE", help="Also write the chart (.png, needs lossdoc[report]) or a report (.html).")
]
Size = Annotated[str, typer.Option("--size", metavar="WxH", help="With --report FILE.png: its size in pixels.")]
