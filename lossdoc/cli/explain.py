"""`lossdoc explain RUN`: read a log, diagnose it, render the verdict. Never imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import AsJson, Floor, Format, LangOption, Plot, Pretrained, Random, RandomLow, Report, Size, VocabSize, resolve_lang

FAIL_ON = ("broken", "overfitting", "never")
# how bad each verdict is, for --fail-on
SEVERITY = {"broken": 2, "overfitting": 1}


def register(app: typer.Typer) -> None:
    app.command("explain", help="Explain a run log: is the plateau expected, is it overfitting, or is it broken?")(explain_command)


def explain_command(
    run_path: Optional[list[Path]] = typer.Argument(
        None,
        metavar="RUN...",
        help="A run log or its folder: lossdoc's run.jsonl (or an older metrics.jsonl), the seed script's console "
        "output, Hugging Face trainer_state.json, Lightning metrics.csv, TensorBoard events, nanoGPT and build-nanogpt logs, "
        "LLaMA-Factory's trainer_log.jsonl, any CSV/TSV/JSON/JSONL of losses, or a home-made console log (docs/formats.md). "
        "A folder holding one log: that log. A folder of run folders (runs/): its newest run. "
        "Default: the newest run under ./runs. Several runs (explain A B C, explain runs/*, or a folder of runs such as a "
        "sweep root, mlruns/ or wandb/): one table, a row per run, worst first.",
    ),
    as_json: AsJson = False,
    fail_on: str = typer.Option("never", "--fail-on", help="Exit 1 when the verdict is at least this bad: broken, overfitting or never."),
    vocab_size: VocabSize = None,
    floor: Floor = None,
    random: Random = False,
    random_low: RandomLow = None,
    pretrained: Pretrained = None,
    fmt: Format = None,
    step_col: Optional[str] = typer.Option(None, "--step-col", help="CSV/JSONL: the step column."),
    train_col: Optional[str] = typer.Option(None, "--train-col", help="CSV/JSONL/Lightning: the training-loss column."),
    val_col: Optional[str] = typer.Option(None, "--val-col", help="CSV/JSONL/Lightning: the validation-loss column."),
    train_tag: Optional[str] = typer.Option(None, "--train-tag", help="TensorBoard: the training-loss tag."),
    val_tag: Optional[str] = typer.Option(None, "--val-tag", help="TensorBoard: the validation-loss tag."),
    lang: Optional[str] = LangOption,
    plot: Plot = False,
    report: Report = None,
    size: Size = "1000x560",
    details: bool = typer.Option(False, "--details", help="Show every check, not only the findings that decided the verdict."),
) -> None:
    language = resolve_lang(lang)
    from lossdoc.runlog.sanitize import check_flags

    check_flags(floor=floor, random_low=random_low)  # one line for a flag that is not a usable number (issue #18)
    from lossdoc.train.config import check_choice  # plain Python, no torch

    check_choice("--fail-on", fail_on, FAIL_ON)
    from lossdoc.render.draw import check_chart_options

    size_px = check_chart_options(plot, as_json, report, size)
    from lossdoc.analysis import diagnose
    from lossdoc.batch import runs_to_explain
    from lossdoc.cli.runs import pick_run
    from lossdoc.render.console import out
    from lossdoc.runlog.overrides import apply_overrides
    from lossdoc.runlog.readers import read_run

    paths = [run_path] if isinstance(run_path, Path) else run_path  # a caller of the function may pass one Path
    many = runs_to_explain(paths)
    if many is not None:  # several runs: one table (lossdoc/batch.py, lossdoc/render/many.py)
        from lossdoc.cli.many import explain_many_command

        reader_options = dict(step_col=step_col, train_col=train_col, val_col=val_col, train_tag=train_tag, val_tag=val_tag)
        overrides = dict(vocab_size=vocab_size, floor=floor, random=random, random_low=random_low, pretrained=pretrained)
        raise typer.Exit(
            explain_many_command(many, fmt, reader_options, overrides, language, as_json=as_json, fail_on=fail_on, charts=plot or report is not None)
        )
    one = pick_run(paths[0] if paths else None, language)
    run = read_run(one, fmt, step_col=step_col, train_col=train_col, val_col=val_col, train_tag=train_tag, val_tag=val_tag)
    run = apply_overrides(run, vocab_size=vocab_size, floor=floor, random=random, random_low=random_low, pretrained=pretrained)
    diagnosis = diagnose(run)
    if as_json:
        from lossdoc.render.json_out import to_json

        out.print(to_json(diagnosis, run, language), markup=False, highlight=False, soft_wrap=True)
    else:
        from lossdoc.render.diagnosis import render_diagnosis

        render_diagnosis(out, diagnosis, run, language, details=details)
    if plot or report is not None:
        from lossdoc.render.draw import draw_charts

        draw_charts([(run, diagnosis)], language, plot=plot, report=report, size=size_px, quiet=as_json)
    if fail_on != "never" and SEVERITY.get(diagnosis.verdict, 0) >= SEVERITY[fail_on]:
        raise typer.Exit(1)
