"""Options shared by several commands."""

from __future__ import annotations

import typer

LangOption = typer.Option(None, "--lang", help="Language of the output: en or zh (default: from LANG/LC_ALL).")

# Data options shared by `train` and `baseline --data` (the same loader reads them).
TokenizerOption = typer.Option(None, "--tokenizer", help="Text data: char, byte or word (default word for wikitext, char otherwise).")
MinFreqOption = typer.Option(None, "--min-freq", "--min_freq", help="Word tokenizer: rarer words become <unk> (default 3).")
ValFileOption = typer.Option(None, "--val-file", "--val_file", help="Text data: validate on this .txt file instead of the last val-fraction of the text.")
TextColumnOption = typer.Option(None, "--text-column", "--text_column", help="Datasets: the text column (default text).")
CacheDirOption = typer.Option(None, "--cache-dir", "--cache_dir", help="Cache of tokenised text and corpus figures (default $LOSSDOC_CACHE or ~/.cache/lossdoc).")
ZipfExponentOption = typer.Option(None, "--zipf-exponent", "--zipf_exponent", help="zipf data: exponent s of p(k) ~ 1/k^s (default 1.0).")
MarkovSuccessorsOption = typer.Option(None, "--markov-successors", "--markov_successors", help="markov data: possible next tokens per token (default 4).")
SeqLenOption = typer.Option(None, "--seq-len", "--seq_len", help="Tokens per sequence (default 64).")
ValFractionOption = typer.Option(None, "--val-fraction", "--val_fraction", help="Share held out for validation (default 0.1).")
