"""What `lossdoc train` shows while it runs: a progress bar with the live loss,
the seed's per-epoch lines, and a closing summary against the floor."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lossdoc import floors
from lossdoc.i18n import t


def _f(x: float | None, nd: int = 4) -> str:
    if x is None:
        return "-"
    return f"{x:.{nd}f}" if math.isfinite(x) else str(x)


class RichReporter:
    """A lossdoc.train.loop.Reporter that writes to a rich Console."""

    def __init__(self, console: Console, lang: str) -> None:
        self.console = console
        self.lang = lang
        self.progress: Progress | None = None
        self.task = None
        self.header: dict[str, Any] = {}

    def start(self, header: dict[str, Any], total_steps: int, done_steps: int) -> None:
        self.header = header
        m, d = header["model"], header["data"]
        self.console.print(
            t("train.start", self.lang, params=f"{m['params']:,}", d_model=m["d_model"], layers=m["num_layers"],
              heads=m["num_heads"], vocab=header["vocab_size"], kind=d["kind"], device=header["env"]["device"])
        )
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=True,
            disable=not self.console.is_terminal,
        )
        self.progress.start()
        self.task = self.progress.add_task(t("train.progress", self.lang), total=total_steps, completed=done_steps, loss="")

    def batch(self, record: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, loss=t("train.live_loss", self.lang, loss=_f(record["loss"])))

    def epoch(self, record: dict[str, Any]) -> None:
        if record["epoch"] == 0:
            self.console.print(t("train.init", self.lang, val=_f(record["val_loss"]), train=_f(record["train_loss"])))
            return
        saved = ", ".join(record.get("checkpoints", []))
        self.console.print(
            t("train.epoch", self.lang, epoch=record["epoch"], epochs=self.header["config"]["epochs"],
              train=_f(record["train_loss"]), val=_f(record["val_loss"]), best=_f(record["best_val_loss"]), saved=saved)
        )

    def event(self, record: dict[str, Any]) -> None:
        key = f"train.event.{record['kind']}"
        self.console.print(t(key, self.lang, step=record.get("step"), message=record.get("message", "")))

    def end(self, record: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.stop()


def print_summary(console: Console, result, lang: str) -> None:
    """The closing lines: where the run is, the floor, and the distance to it."""
    console.print(t("train.saved", lang, path=str(result.out_dir)))
    floor = result.entropy_floor
    best = result.best_val_loss
    if floor is not None and math.isfinite(best):
        d, pct = floors.excess(best, floor)
        kind = result.header.get("data", {}).get("kind")
        key = "train.summary_floor_dummy" if kind == "dummy" else "train.summary_floor"
        console.print(t(key, lang, best=_f(best), floor=_f(floor), vocab=result.vocab_size, excess=_f(d), pct=f"{pct:.2f}", kind=kind))
    if result.status == "interrupted":
        console.print(t("train.resume_hint", lang, path=str(result.out_dir)))
