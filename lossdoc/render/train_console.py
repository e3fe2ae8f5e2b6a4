"""What `lossdoc train` shows while it runs: a progress bar with the live loss,
the seed's per-epoch lines, and a closing summary against the floor."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lossdoc import floors
from lossdoc.i18n import t
from lossdoc.runlog.events import event_text


def _f(x: float | None, nd: int = 4) -> str:
    if x is None:
        return "-"
    return f"{x:.{nd}f}" if math.isfinite(x) else str(x)


PROGRESS_EVERY_S = 30.0  # seconds between plain progress lines when the output is not a terminal


def progress_line_interval() -> float:
    """$LOSSDOC_PROGRESS_S (seconds; 0 turns the lines off), else PROGRESS_EVERY_S."""
    raw = os.environ.get("LOSSDOC_PROGRESS_S", "").strip()
    try:
        value = float(raw) if raw else PROGRESS_EVERY_S
    except ValueError:
        return PROGRESS_EVERY_S
    return value if math.isfinite(value) and value >= 0 else PROGRESS_EVERY_S


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _count(key: str, n: int, lang: str) -> str:
    """'1 layer', '2 layers' (Chinese has one form)."""
    return t(f"{key}.{'one' if n == 1 else 'many'}", lang, n=n)


def _threads(env: dict[str, Any], lang: str) -> str:
    """', 1 CPU thread (auto: 2 cores, load average 1.62)' for the start line of a CPU run; '' otherwise."""
    n, pick = env.get("threads"), env.get("threads_pick")
    if not isinstance(n, int) or not str(env.get("device", "")).startswith("cpu"):
        return ""
    threads = _count("train.cpu_threads", n, lang)
    if isinstance(pick, dict) and pick.get("rule") == "auto":
        load = pick.get("load_avg_1m")
        key = "train.threads_auto" if load is not None else "train.threads_auto_noload"
        if pick.get("procs", 1) > 1:
            key += "_procs"
        threads = t(key, lang, threads=threads, cpus=pick.get("cpus"), load=f"{load:.2f}" if load is not None else "", procs=pick.get("procs"))
    elif isinstance(pick, dict) and pick.get("rule") in ("set", "resumed"):
        threads = t(f"train.threads_{pick['rule']}", lang, threads=threads)
    return threads  # with its separator: ", 1 CPU thread" ("，1 个 CPU 线程")


class RichReporter:
    """A lossdoc.train.loop.Reporter that writes to a rich Console."""

    def __init__(self, console: Console, lang: str, *, progress_every_s: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.lang = lang
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.header: dict[str, Any] = {}
        # not a terminal (piped, a file, a CI log): no bar, so a plain line every so many seconds instead
        self.every = progress_line_interval() if progress_every_s is None else progress_every_s
        self.clock = clock
        self.total = self.done = self.first = 0
        self.tokens = 0.0  # tokens of the batches seen since start (the records' "tokens")
        self.t0 = self.last = 0.0

    def start(self, header: dict[str, Any], total_steps: int, done_steps: int) -> None:
        self.header = header
        m, d = header["model"], header["data"]
        self.console.print(
            t(
                "train.start",
                self.lang,
                params=f"{m['params']:,}",
                d_model=m["d_model"],
                layers=_count("train.layers", m["num_layers"], self.lang),
                heads=_count("train.heads", m["num_heads"], self.lang),
                vocab=header["vocab_size"],
                kind=d["kind"],
                device=header["env"]["device"],
                threads=_threads(header["env"], self.lang),
            )
        )
        if dist := header.get("distributed"):  # a torchrun / --nproc run (docs/distributed.md)
            self.console.print(
                t(
                    "train.distributed",
                    self.lang,
                    world=dist["world_size"],
                    backend=dist["backend"],
                    per_rank=dist["per_rank_batch"],
                    global_batch=dist["global_batch"],
                )
            )
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self.progress.start()
        self.task = self.progress.add_task(t("train.progress", self.lang), total=total_steps, completed=done_steps, loss="")
        self.total, self.done, self.first = total_steps, done_steps, done_steps
        self.t0 = self.last = self.clock()

    def rate_and_eta(self, now: float) -> tuple[str, str]:
        """Tokens per second so far (empty when the records carry no token counts) and the time left at this pace.
        The pace includes the evaluations so far, so the estimate holds for the run as a whole."""
        spent, steps = now - self.t0, self.done - self.first
        rate = t("train.rate", self.lang, rate=f"{self.tokens / spent:,.0f}") if self.tokens > 0 and spent > 0 else ""
        eta = _clock(spent / steps * max(0, self.total - self.done)) if steps > 0 else "?"
        return rate, eta

    def batch(self, record: dict[str, Any]) -> None:
        self.done += 1
        tokens = record.get("tokens")
        if isinstance(tokens, (int, float)):
            self.tokens += float(tokens)
        if self.progress is not None and self.task is not None:
            rate = self.rate_and_eta(self.clock())[0] if self.tokens and self.console.is_terminal else ""
            self.progress.update(self.task, advance=1, loss=t("train.live_loss", self.lang, loss=_f(record["loss"])) + rate)
        if not self.console.is_terminal and self.every > 0:
            now = self.clock()
            if now - self.last >= self.every:
                self.last = now
                pct = 100.0 * self.done / self.total if self.total else 0.0
                rate, eta = self.rate_and_eta(now)
                self.console.print(
                    t(
                        "train.progress_line",
                        self.lang,
                        step=self.done,
                        total=self.total,
                        pct=f"{pct:.0f}",
                        epoch=record.get("epoch"),
                        loss=_f(record.get("loss")),
                        elapsed=_clock(now - self.t0),
                        rate=rate,
                        eta=eta,
                    ),
                    markup=False,
                    soft_wrap=True,  # one line, whole, for a log and for grep
                )

    def epoch(self, record: dict[str, Any]) -> None:
        if record["epoch"] == 0:
            self.console.print(t("train.init", self.lang, val=_f(record["val_loss"]), train=_f(record["train_loss"])))
            return
        saved = ("、" if self.lang == "zh" else ", ").join(record.get("checkpoints", []))
        self.console.print(
            t(
                "train.epoch",
                self.lang,
                epoch=record["epoch"],
                epochs=self.header["config"]["epochs"],
                train=_f(record["train_loss"]),
                val=_f(record["val_loss"]),
                best=_f(record["best_val_loss"]),
                saved=saved,
            )
        )

    def event(self, record: dict[str, Any]) -> None:
        """Each event in the output's language, from its message key and arguments (the log also keeps the English sentence)."""
        self.console.print(event_text(record, self.lang), markup=False)

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
        if d < 0:
            key += "_below"  # "0.0040 nats (0.10%) below it", never "-0.0040 nats above it"
        console.print(t(key, lang, best=_f(best), floor=_f(floor), vocab=result.vocab_size, excess=_f(abs(d)), pct=f"{abs(pct):.2f}", kind=kind))
    if result.status == "interrupted":
        world = (result.header.get("distributed") or {}).get("world_size", 1)
        if world > 1:  # a distributed run resumes with as many processes
            console.print(t("train.resume_hint_nproc", lang, path=str(result.out_dir), world=world))
        else:
            console.print(t("train.resume_hint", lang, path=str(result.out_dir)))
