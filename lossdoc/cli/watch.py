"""`lossdoc watch RUN`: follow a growing log and re-diagnose it as records arrive. Never imports torch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import Floor, Format, LangOption, Pretrained, Random, RandomLow, VocabSize, resolve_lang
from lossdoc.errors import ConfigError, LossdocError

FAIL_ON = ("broken", "overfitting", "never")
SEVERITY = {"broken": 2, "overfitting": 1}
TICK_S = 0.1  # how often the loop looks at the clock; the log itself is read at most once per --interval


def register(app: typer.Typer) -> None:
    app.command("watch", help="Follow a run log while it grows and show its verdict live (any format explain reads).")(watch_command)


def watch_command(
    run_path: Path = typer.Argument(
        ...,
        metavar="RUN",
        help="A run log or its folder, in any format explain reads; lossdoc's run.jsonl is tailed (only new bytes are read), other formats are read again when they change.",
    ),
    fail_on: str = typer.Option("never", "--fail-on", help="Exit 1 as soon as the verdict is at least this bad: broken, overfitting or never."),
    until_done: bool = typer.Option(
        False,
        "--until-done",
        help="Return when the run ends: exit 0 at its end record; exit 3 when no new record arrives for --idle seconds (a writer that died, or a format without an end record).",
    ),
    wait: bool = typer.Option(False, "--wait", help="Wait for RUN to appear instead of failing when it does not exist yet."),
    interval: float = typer.Option(1.0, "--interval", help="Seconds between two diagnoses, at least 1."),
    idle: float = typer.Option(120.0, "--idle", help="With --until-done: seconds without a new record that end the watch with exit 3 (any format)."),
    vocab_size: VocabSize = None,
    floor: Floor = None,
    random: Random = False,
    random_low: RandomLow = None,
    pretrained: Pretrained = None,
    fmt: Format = None,
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    from lossdoc.runlog.sanitize import check_flags

    check_flags(floor=floor, random_low=random_low)
    from lossdoc.train.config import check_choice  # plain Python, no torch

    check_choice("--fail-on", fail_on, FAIL_ON)
    if not 1.0 <= interval <= 3600.0:
        raise ConfigError("--interval", interval, "closed_interval", low=1, high=3600)
    if not idle > 0:
        raise ConfigError("--idle", idle, "gt", bound=0)
    if not wait and not run_path.exists():
        raise LossdocError("error.watch_missing", path=str(run_path))
    if run_path.exists():  # a folder of run folders (runs/): its newest run, as explain takes it
        from lossdoc.cli.runs import pick_run

        run_path = pick_run(run_path, language)
    from lossdoc.analysis import diagnose
    from lossdoc.i18n import t
    from lossdoc.render.console import out
    from lossdoc.render.watch import WatchView
    from lossdoc.runlog.follow import NOT_YET, Follower
    from lossdoc.runlog.overrides import apply_overrides

    follower = Follower(run_path, fmt=fmt, min_interval=interval, idle_s=idle)
    with WatchView(out, language, str(run_path)) as view:
        while True:
            try:
                run = follower.poll()
            except LossdocError as exc:
                if exc.key not in NOT_YET or (exc.key == "error.log_missing" and not wait):
                    raise
                view.waiting(records=run_path.exists())
                run = None
            if run is not None:
                run = apply_overrides(run, vocab_size=vocab_size, floor=floor, random=random, random_low=random_low, pretrained=pretrained)
                diagnosis = diagnose(run)
                view.update(run, diagnosis)
                if fail_on != "never" and SEVERITY.get(diagnosis.verdict, 0) >= SEVERITY[fail_on]:
                    view.failed(fail_on)
                    raise typer.Exit(1)
            if until_done and follower.done:
                if follower.idle:  # no end record: the writer may have died (SIGKILL, out of memory)
                    if view.verdict is None:  # nothing to give a verdict on: the line alone, on stderr
                        typer.echo(t("watch.idle", language, idle=f"{idle:g}"), err=True)
                    view.ended(None, idle)
                    raise typer.Exit(3)
                view.ended(follower.status, idle)
                return
            time.sleep(TICK_S)
