"""`lossdoc baseline`: the losses to expect before training, and one loss read against them.

Thin: parse the options, call lossdoc.baseline, print with lossdoc.render.baseline.
numpy only: neither torch nor datasets is imported (datasets only for dataset sources).

With `--data` it also measures a corpus: lossdoc.baseline.measure_data loads the
rows with the loader `train` uses (lossdoc.data.load; numpy, no torch, except for
`dummy`, which the seed defines as torch.randint) and computes the figures with
corpus_baseline_cached; render_corpus prints them (see docs/floors.md).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import (
    CacheDirOption,
    LangOption,
    MarkovSuccessorsOption,
    MinFreqOption,
    SeqLenOption,
    TextColumnOption,
    TokenizerOption,
    ValFileOption,
    ValFractionOption,
    ZipfExponentOption,
    config_option,
    resolve_lang,
)
from lossdoc.errors import LossdocError


def register(app: typer.Typer) -> None:
    app.command("baseline", help="Loss floors and reference losses: what loss to expect for a vocabulary, and what a given loss means.")(
        baseline_command
    )


def parse_vocab_size(text: str) -> int:
    """'10000', '10_000' or '1e4' -> 10000; anything else (or < 2) is a LossdocError."""
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise LossdocError("error.baseline_vocab", value=text) from None
        if not (math.isfinite(f) and f.is_integer()):
            raise LossdocError("error.baseline_vocab", value=text) from None
        value = int(f)
    if value < 2:
        raise LossdocError("error.baseline_vocab", value=text)
    return value


def parse_number(text: str, key: str) -> float:
    """A finite float, or the LossdocError ``key`` naming the text."""
    try:
        value = float(text)
    except ValueError:
        raise LossdocError(key, value=text) from None
    if not math.isfinite(value):
        raise LossdocError(key, value=text)
    return value


DATA_FLAGS = {
    "tokenizer": "--tokenizer",
    "min_freq": "--min-freq",
    "val_file": "--val-file",
    "text_column": "--text-column",
    "cache_dir": "--cache-dir",
    "seq_len": "--seq-len",
    "num_samples": "--num-samples",
    "val_fraction": "--val-fraction",
    "seed": "--seed",
    "zipf_exponent": "--zipf-exponent",
    "markov_successors": "--markov-successors",
    "config": "--config",
}


def baseline_command(
    vocab_size: Optional[str] = typer.Option(
        None,
        "--vocab-size",
        "--vocab_size",
        help="Vocabulary size V (an integer >= 2); with --data: V of dummy, zipf and markov data (10000 by default, as for train); text data takes V from its tokenizer.",
    ),
    loss: Optional[str] = typer.Option(None, "--loss", help="A loss in nats per token to read against V: perplexity, bits, distance to the floors."),
    init_logit_std: Optional[str] = typer.Option(
        None,
        "--init-logit-std",
        "--init_logit_std",
        help="Std of the model's logits at initialisation. Default: that of lossdoc's default model, sqrt(1/3 + 1/768) = 0.5785.",
    ),
    data: Optional[str] = typer.Option(
        None,
        "--data",
        "--dataset",
        help="Measure the floors of a corpus, with the sources train accepts: a .txt file or folder, pydoc, wikitext2, wikitext103, hf:NAME[:CONFIG], dummy, zipf, markov.",
    ),
    tokenizer: Optional[str] = TokenizerOption,
    min_freq: Optional[int] = MinFreqOption,
    val_file: Optional[str] = ValFileOption,
    text_column: Optional[str] = TextColumnOption,
    cache_dir: Optional[str] = CacheDirOption,
    seq_len: Optional[int] = SeqLenOption,
    num_samples: Optional[int] = config_option("num_samples"),
    val_fraction: Optional[float] = ValFractionOption,
    seed: Optional[int] = config_option("seed", help="With --data dummy, zipf or markov: the seed of the generated data (as train's --seed)."),
    zipf_exponent: Optional[float] = ZipfExponentOption,
    markov_successors: Optional[int] = MarkovSuccessorsOption,
    config: Optional[Path] = typer.Option(
        None, "--config", help="With --data: a train YAML config (a run's config.yaml); its data settings are used, flags override them."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON document."),
    lang: Optional[str] = LangOption,
) -> None:
    """The command: its 20 options are most of its lines (one Typer option each); the body parses and calls
    lossdoc.baseline's functions and a renderer."""
    language = resolve_lang(lang)
    std = None if init_logit_std is None else parse_number(init_logit_std, "error.baseline_std")
    from lossdoc import floors  # numpy: imported when the command runs, not for `lossdoc --help`

    if std is not None and not 0 <= std <= floors.MAX_LOGIT_STD:
        raise LossdocError("error.baseline_std", value=init_logit_std)
    loss_value = None if loss is None else parse_number(loss, "error.baseline_loss_number")
    data_flags = dict(
        tokenizer=tokenizer,
        min_freq=min_freq,
        val_file=val_file,
        text_column=text_column,
        cache_dir=cache_dir,
        seq_len=seq_len,
        num_samples=num_samples,
        val_fraction=val_fraction,
        seed=seed,
        zipf_exponent=zipf_exponent,
        markov_successors=markov_successors,
    )
    if data is None and config is None:
        given = [DATA_FLAGS[k] for k, v in data_flags.items() if v is not None]
        if given:
            raise LossdocError("error.baseline_needs_data", flag=given[0])
        if vocab_size is None:
            raise LossdocError("error.baseline_needs_vocab")
        v = parse_vocab_size(vocab_size)
        corpus = source = None
    else:
        from lossdoc.baseline import measure_data

        m = measure_data(data, None if vocab_size is None else parse_vocab_size(vocab_size), config, **data_flags)
        v, corpus, source = m.vocab_size, m.figures, m.header

    from lossdoc.baseline import loss_reading, vocab_baseline
    from lossdoc.render import baseline as render

    vb = vocab_baseline(v, std)
    reading = None if loss_value is None else loss_reading(loss_value, v, std)
    if as_json:
        typer.echo(render.to_json(render.baseline_document(vb, reading, corpus=corpus, data=source)))
        return
    from lossdoc.render.console import out

    if corpus is not None and source is not None:
        render.render_source(out, source, corpus, language)
        render.render_corpus(out, corpus, language)
        out.print()
    render.render_vocab(out, vb, language)
    if reading is not None:
        out.print()
        render.render_loss(out, reading, vb, language)
