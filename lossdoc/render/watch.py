"""The view of `lossdoc watch`: a rich Live panel in a terminal, one line per verdict change when piped."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from lossdoc.analysis.model import Diagnosis
from lossdoc.i18n import t
from lossdoc.render.diagnosis import STATUS_STYLE, VERDICT_STYLE, eval_names, finding_sentence
from lossdoc.runlog.run import Run


def _num(x: Any) -> str:
    if x is None:
        return "-"
    x = float(x)
    return f"{x:.4f}" if math.isfinite(x) else ("NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity"))


def latest(run: Run) -> dict[str, Any]:
    """The newest training loss (and its step) and validation loss (and its evaluation) of ``run``."""
    b, e = run.batches, run.epochs
    out: dict[str, Any] = {"step": None, "loss": None, "epoch": None, "val": None}
    if len(b):
        out["step"], out["loss"] = int(b.step[-1]), float(b.loss[-1])
    if len(e):
        out["epoch"], out["val"] = int(e.epoch[-1]), float(e.val_loss[-1])
        if out["step"] is None and math.isfinite(e.step[-1]):
            out["step"] = int(e.step[-1])
    return out


class WatchView:
    """``update(run, diagnosis)`` after each new diagnosis; ``live`` (a terminal) redraws a panel, otherwise a line
    is printed when the verdict changes. Keeps the finding whose status changed last (of several at once, the most severe)."""

    def __init__(self, console: Console, lang: str, path: str, *, live: bool | None = None) -> None:
        self.console = console
        self.lang = lang
        self.path = path
        self.live = console.is_terminal if live is None else live
        self.verdict: str | None = None
        self.changed: tuple[str, str, str] | None = None  # (check, status, sentence) of the last finding that changed
        self._statuses: dict[str, str] = {}
        self._run: Run | None = None
        self._diag: Diagnosis | None = None
        self._note = t("watch.waiting", lang, path=path)
        self._live: Live | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def __enter__(self) -> WatchView:
        if self.live:
            self._live = Live(self._panel(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.update(self._panel(), refresh=True)
            self._live.__exit__(*exc)
            self._live = None

    def waiting(self, records: bool = False) -> None:
        self._note = t("watch.waiting_records" if records else "watch.waiting", self.lang, path=self.path)
        self._refresh()

    def update(self, run: Run, diag: Diagnosis) -> None:
        self._run, self._diag = run, diag
        self._note = ""
        severity = {"fail": 4, "warn": 3, "info": 2, "ok": 1, "skipped": 0}
        changed = []
        for f in diag.findings:
            before = self._statuses.get(f.code)
            if before is not None and before != f.status:
                changed.append(f)
            self._statuses[f.code] = f.status
        if changed:  # several at once: the most severe (a NaN over a warning that moved with it)
            f = max(changed, key=lambda x: severity.get(x.status, 0))
            self.changed = (t(f"check.{f.code}", self.lang), f.status, finding_sentence(f, self.lang, eval_names(run)))
        if diag.verdict != self.verdict:
            self.verdict = diag.verdict
            if not self.live:
                self.console.print(self.line(run, diag), markup=False, highlight=False)
        self._refresh()

    def ended(self, status: str | None, idle: float | None = None) -> None:
        """The run ended (its end status, or ``idle`` seconds without change): a last line (piped) or the panel's note."""
        idle_s = f"{idle:g}" if idle is not None else None
        if self.live:
            self._note = t("watch.idle", self.lang, idle=idle_s) if status is None and idle_s else t("watch.ended", self.lang, status=status or "-")
            self._refresh()
        elif self.verdict is not None:
            verdict = t(f"verdict.{self.verdict}", self.lang)
            if status is None and idle_s:
                line = t("watch.line_idle", self.lang, idle=idle_s, verdict=verdict)
            else:
                line = t("watch.line_done", self.lang, status=status or "-", verdict=verdict)
            self.console.print(line, markup=False, highlight=False)

    def failed(self, fail_on: str) -> None:
        text = t("watch.fail", self.lang, verdict=t(f"verdict.{self.verdict}", self.lang), fail_on=fail_on)
        if self.live:
            self._note = text
            self._refresh()
        else:
            self.console.print(text, markup=False, highlight=False)

    # -- text ------------------------------------------------------------------------------------------------------

    def line(self, run: Run, diag: Diagnosis) -> str:
        now = latest(run)
        return t(
            "watch.line",
            self.lang,
            step=now["step"] if now["step"] is not None else "-",
            verdict=t(f"verdict.{diag.verdict}", self.lang),
            loss=_num(now["loss"]),
            val=_num(now["val"]),
            floor=_num(diag.facts.entropy_floor),
        )

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._panel())

    def _panel(self) -> Panel:
        lang = self.lang
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        if self._diag is not None and self._run is not None:
            d, now = self._diag, latest(self._run)
            table.add_row(t("watch.verdict", lang), Text(t(f"verdict.{d.verdict}", lang), style=VERDICT_STYLE.get(d.verdict, "bold")))
            table.add_row(
                t("watch.train_loss", lang), t("watch.at_step", lang, loss=_num(now["loss"]), step=now["step"]) if now["loss"] is not None else "-"
            )
            table.add_row(
                t("watch.val_loss", lang), t("watch.at_epoch", lang, loss=_num(now["val"]), epoch=now["epoch"]) if now["val"] is not None else "-"
            )
            table.add_row(t("watch.floor", lang), _num(d.facts.entropy_floor))
            table.add_row(t("watch.records", lang), f"{self._run.records_read:,}")
            if self.changed is not None:
                check, status, sentence = self.changed
                table.add_row(
                    t("watch.changed", lang),
                    Text.assemble((f"{check}: ", "bold"), (t(f"status.{status}", lang), STATUS_STYLE[status]), f"  {sentence}"),
                )
        if self._note:
            table.add_row("", Text(self._note, style="dim"))
        return Panel(table, title=t("watch.title", lang, path=self.path), title_align="left")
