"""`lossdoc explain RUN`: read a log, diagnose it, render the verdict. Never imports torch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import LangOption
from lossdoc.errors import ConfigError
from lossdoc.i18n import resolve_lang

FAIL_ON = ("broken", "overfitting", "never")
# how bad each verdict is, for --fail-on
SEVERITY = {"broken": 2, "overfitting": 1}


def register(app: typer.Typer) -> None:
    app.command("explain", help="Explain a run log: is the plateau expected, is it overfitting, or is it broken?")(explain_command)


def explain_command(
    run_path: Path = typer.Argument(..., metavar="RUN", help="A metrics.jsonl or a run folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole diagnosis as one JSON document."),
    fail_on: str = typer.Option("never", "--fail-on", help="Exit 1 when the verdict is at least this bad: broken, overfitting or never."),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", help="Vocabulary size, when the log does not carry it."),
    floor: Optional[float] = typer.Option(None, "--floor", help="The data's entropy floor in nats per token."),
    random: bool = typer.Option(False, "--random", help="The data is uniformly random token ids over the vocabulary."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Force the log format instead of detecting it."),
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    if fail_on not in FAIL_ON:
        raise ConfigError("--fail-on", fail_on, "choice", choices=", ".join(FAIL_ON))
    if vocab_size is not None and vocab_size < 2:
        raise ConfigError("--vocab-size", vocab_size, "ge", bound=2)
    if floor is not None and not (math.isfinite(floor) and floor > 0):
        raise ConfigError("--floor", floor, "gt", bound=0)
    from lossdoc.analysis import diagnose
    from lossdoc.render.console import out
    from lossdoc.runlog.readers import read_run

    run = read_run(run_path, fmt)
    if vocab_size is not None:
        run.vocab_size = vocab_size
    if random:
        if run.vocab_size is None:
            raise ConfigError("--random", True, "needs_vocab")
        run.random_data = True
        if floor is None and run.entropy_floor is None:
            run.entropy_floor, run.floor_source = math.log(run.vocab_size), "flag"
    if floor is not None:
        run.entropy_floor, run.floor_source = floor, "flag"
    diagnosis = diagnose(run)
    if as_json:
        from lossdoc.render.json_out import to_json

        out.print(to_json(diagnosis, run, language), markup=False, highlight=False, soft_wrap=True)
    else:
        from lossdoc.render.diagnosis import render_diagnosis

        render_diagnosis(out, diagnosis, run, language)
    if fail_on != "never" and SEVERITY.get(diagnosis.verdict, 0) >= SEVERITY[fail_on]:
        raise typer.Exit(1)
