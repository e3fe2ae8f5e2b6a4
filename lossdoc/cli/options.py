"""Options shared by several commands, each written once.

The options ``explain``, ``compare`` and ``watch`` share (the facts a log may lack, the log format, the charts) are
``Annotated`` types: a command declares ``vocab_size: VocabSize = None`` and gets the same flag, type and help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lossdoc.errors import LossdocError
from lossdoc.i18n import LANG_NAMES, detect_lang


def resolve_lang(option: str | None) -> str:
    """The --lang option if given (validated: en or zh, in a few spellings), else the locale's language."""
    if option is None:
        return detect_lang()
    lang = LANG_NAMES.get(option.strip().lower())
    if lang is None:
        raise LossdocError("error.bad_lang", value=option)
    return lang


LangOption = typer.Option(None, "--lang", help="Language of the output: en or zh (default: from LANG/LC_ALL).")

# Data options shared by `train` and `baseline --data` (the same loader reads them).
TokenizerOption = typer.Option(None, "--tokenizer", help="Text data: char, byte or word (default word for wikitext, char otherwise).")
MinFreqOption = typer.Option(None, "--min-freq", "--min_freq", help="Word tokenizer: rarer words become <unk> (default 3).")
ValFileOption = typer.Option(
    None, "--val-file", "--val_file", help="Text data: validate on this .txt file instead of the last val-fraction of the text."
)
TextColumnOption = typer.Option(None, "--text-column", "--text_column", help="Datasets: the text column (default text).")
CacheDirOption = typer.Option(
    None, "--cache-dir", "--cache_dir", help="Cache of tokenised text and corpus figures (default $LOSSDOC_CACHE or ~/.cache/lossdoc)."
)
ZipfExponentOption = typer.Option(None, "--zipf-exponent", "--zipf_exponent", help="zipf data: exponent s of p(k) ~ 1/k^s (default 1.0).")
MarkovSuccessorsOption = typer.Option(
    None, "--markov-successors", "--markov_successors", help="markov data: possible next tokens per token (default 4)."
)
SeqLenOption = typer.Option(None, "--seq-len", "--seq_len", help="Tokens per sequence (default 64).")
ValFractionOption = typer.Option(None, "--val-fraction", "--val_fraction", help="Share held out for validation (default 0.1).")

# --- explain, compare and watch: facts a log may lack (applied to every run that lacks them), its format, charts
VocabSize = Annotated[Optional[int], typer.Option("--vocab-size", help="Vocabulary size, for a log that does not carry it.")]
Floor = Annotated[Optional[float], typer.Option("--floor", help="The data's entropy floor in nats per token.")]
Random = Annotated[bool, typer.Option("--random", help="The data is uniformly random token ids over the vocabulary.")]
RandomLow = Annotated[Optional[int], typer.Option("--random-low", help="With --random: the lowest token id drawn (1 for the seed's randint(1, V)).")]
Pretrained = Annotated[
    Optional[bool],
    typer.Option(
        "--pretrained/--from-scratch",
        help="Training started from pretrained weights (a fine-tune), or from a fresh initialisation. "
        "Default: read from the log and the files beside it, else inferred from the first losses.",
    ),
]
Format = Annotated[Optional[str], typer.Option("--format", help="Force the log format instead of detecting it (docs/formats.md).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")]
Plot = Annotated[bool, typer.Option("--plot", help="Draw the runs in the terminal: loss per batch and per epoch, floors, findings.")]
Report = Annotated[
    Optional[Path], typer.Option("--report", metavar="FILE", help="Also write the chart (.png, needs lossdoc[report]) or a report (.html).")
]
Size = Annotated[str, typer.Option("--size", metavar="WxH", help="With --report FILE.png: its size in pixels.")]
