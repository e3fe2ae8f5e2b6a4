"""`lossdoc baseline`: the losses to expect before training, and one loss read against them.

Thin: parse the options, call lossdoc.baseline, print with lossdoc.render.baseline.
numpy only: neither torch nor datasets is imported, so it answers at once.

Hook for real data: once a loader turns `--data`/`--tokenizer` into train and
validation token ids, this command gains a `--data` option that calls
lossdoc.baseline.corpus_baseline_cached(train_ids, val_ids, V, cache_dir, ...)
and prints the result with lossdoc.render.baseline.render_corpus (see docs/floors.md).
"""

from __future__ import annotations

import math
from typing import Optional

import typer

from lossdoc.cli.options import LangOption
from lossdoc.errors import LossdocError
from lossdoc.i18n import resolve_lang


def register(app: typer.Typer) -> None:
    app.command("baseline", help="Loss floors and reference losses: what loss to expect for a vocabulary, and what a given loss means.")(baseline_command)


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


def baseline_command(
    vocab_size: Optional[str] = typer.Option(None, "--vocab-size", "--vocab_size", help="Vocabulary size V (an integer >= 2)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="A loss in nats per token to read against V: perplexity, bits, distance to the floors."),
    init_logit_std: Optional[str] = typer.Option(
        None, "--init-logit-std", "--init_logit_std",
        help="Std of the model's logits at initialisation (default: lossdoc's default model, sqrt(1/3 + 1/768) = 0.5785).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON document."),
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    if vocab_size is None:
        raise LossdocError("error.baseline_needs_vocab")
    v = parse_vocab_size(vocab_size)
    std = None if init_logit_std is None else parse_number(init_logit_std, "error.baseline_std")
    if std is not None and std < 0:
        raise LossdocError("error.baseline_std", value=init_logit_std)
    loss_value = None if loss is None else parse_number(loss, "error.baseline_loss_number")

    from lossdoc.baseline import loss_reading, vocab_baseline
    from lossdoc.render import baseline as render

    vb = vocab_baseline(v, std)
    reading = None if loss_value is None else loss_reading(loss_value, v, std)
    if as_json:
        typer.echo(render.to_json(render.baseline_document(vb, reading)))
        return
    from lossdoc.render.console import out

    render.render_vocab(out, vb, language)
    if reading is not None:
        out.print()
        render.render_loss(out, reading, vb, language)
