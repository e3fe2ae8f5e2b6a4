"""Many runs in one `lossdoc explain`: which runs a list of paths holds, and each run's verdict, read in parallel.

``runs_to_explain(paths)`` says whether the arguments are many runs (several paths, or one folder that holds
several runs: a sweep root, an ``mlruns/`` tree, a ``wandb/`` folder) and lists them; ``explain_many`` reads
and diagnoses each in a pool of processes (concurrent.futures) and returns one ``Row`` per run, worst first.
A run that cannot be read gets a row with its one-line error; the others are still explained.

Library code: no rich, no rendering (lossdoc/render/many.py draws the table). docs/performance.md has the timing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.analysis.model import Diagnosis, RunFinding
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run

MAX_DEPTH = 4  # folders below a sweep root that are searched for runs
MAX_RUNS = 10000
LOG_SUFFIXES = {".log", ".txt", ".out", ".csv", ".tsv", ".jsonl"}  # a file with these is a run even if no reader knows it
NOT_LOGS = ("debug", "requirements")  # W&B's debug.log / debug-internal.log, pip's requirements.txt
# worst first: the order of the table
ORDER = {"broken": 0, "overfitting": 1, None: 2, "inconclusive": 3, "still-learning": 4, "converged": 5, "expected-plateau": 6}
SEVERITY = {"broken": 2, "overfitting": 1}
DECIDED_BY = {"overfitting": "overfitting", "expected-plateau": "floor", "converged": "progress", "still-learning": "progress"}


@dataclass
class Row:
    """One run of the table: its verdict and numbers, or (verdict None) why it could not be read."""

    source: str
    format: str | None = None
    verdict: str | None = None
    best: float | None = None  # best validation loss, else the lowest training-batch loss
    best_kind: str | None = None  # "val" | "train"
    floor: float | None = None
    gap: float | None = None  # best - floor, when the floor is known
    deciding: RunFinding | None = None
    error: str | None = None  # the one-line error, in the language asked for
    diagnosis: Diagnosis | None = None
    run: Run | None = None  # the run without its series (what the --json document needs)
    extra: dict[str, Any] = field(default_factory=dict)


def _own_log(folder: Path) -> bool:
    """Whether a reader reads this folder as one run (what `explain FOLDER` reads without looking inside)."""
    from lossdoc.runlog.readers import reads_as_one_run

    return reads_as_one_run(folder)


def _detected(p: Path) -> bool:
    from lossdoc.runlog.readers import BINARY_FORMATS, LAST_TRY, READERS, _head

    try:
        head, binary = _head(p)
    except Exception:
        return False
    if not binary and not head.strip():
        return False
    # a page of values (the last try) is no run of a folder: a README or notes beside the run's log is not a second run
    return any(r.name not in LAST_TRY and (not binary or r.name in BINARY_FORMATS) and r.detect(p, head) for r in READERS)


def runs_in(folder: Path, depth: int = 0) -> list[Path]:
    """The runs below a folder: each subfolder a reader resolves (a lossdoc run, a Hugging Face output folder, an
    MLflow or W&B run ...), and each file a reader knows or with a log's suffix. Hidden names and links are skipped."""
    out: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return out
    for child in entries:
        if len(out) >= MAX_RUNS:
            break
        if child.name.startswith(".") or child.is_symlink():
            continue
        if child.is_dir():
            if _own_log(child):
                out.append(child)
            elif depth < MAX_DEPTH:
                out.extend(runs_in(child, depth + 1))
        elif child.is_file():
            low = child.name.lower()
            if low.startswith(NOT_LOGS):
                continue
            if child.suffix.lower() in LOG_SUFFIXES or _detected(child):
                out.append(child)
    return out


def _is_sweep(folder: Path) -> bool:
    from lossdoc.runlog.files import newest_run

    return folder.is_dir() and not _own_log(folder) and newest_run(folder) is None


def runs_to_explain(paths: Iterable[Path] | None) -> list[Path] | None:
    """The runs to explain when the arguments are many (None: explain one run as before). A folder of lossdoc run
    folders alone still means its newest run (pass runs/* for all of them)."""
    args = list(paths or [])
    if not args:
        return None
    if len(args) == 1:
        only = args[0]
        if _is_sweep(only):
            found = runs_in(only)
            # a sweep: at least two runs a reader recognises (a folder of files that merely end in .txt is not one)
            if sum(1 for p in found if p.is_dir() or _detected(p)) >= 2:
                return found
        return None
    out: list[Path] = []
    seen: set[str] = set()
    for p in args:
        found = runs_in(p) if _is_sweep(p) else []
        for q in found or [p]:
            key = os.path.normpath(str(q))
            if key not in seen:
                seen.add(key)
                out.append(q)
    return out


def _deciding(d: Diagnosis) -> RunFinding | None:
    if d.rule in ("no-curve", "several-runs"):
        return None  # no check decided it: the file holds no curve, and no flag would give one
    fail = next((f for f in d.findings if f.status == "fail"), None)
    if fail is not None:
        return fail
    code = DECIDED_BY.get(d.verdict)
    if code is not None and (f := d.finding(code)) is not None:  # type: ignore[arg-type]
        return f
    return next((f for f in d.findings if f.status == "warn"), None) or next((f for f in d.findings if f.status == "skipped"), None)


def _light(run: Run) -> Run:
    """The run without its series: what crosses back from a worker process."""
    return replace(run, batches=BatchSeries.empty(), epochs=EpochSeries.empty())


def explain_one(path: Path, fmt: str | None, read_options: dict[str, Any], overrides: dict[str, Any], lang: str) -> Row:
    """Read, correct and diagnose one run; any error becomes the row's one line."""
    from lossdoc.analysis import diagnose
    from lossdoc.errors import LossdocError, one_line
    from lossdoc.i18n import t
    from lossdoc.runlog.overrides import apply_overrides
    from lossdoc.runlog.readers import read_run

    try:
        run = read_run(path, fmt, **read_options)
        run = apply_overrides(run, **overrides)
        d = diagnose(run)
    except LossdocError as exc:
        return Row(source=str(path), error=exc.render(lang))
    except Exception as exc:  # one bad file must not stop the others: its row says what went wrong
        return Row(source=str(path), error=one_line(t("many.crashed", lang, detail=f"{type(exc).__name__}: {exc}")))
    best: float | None = d.facts.best_val_loss
    kind: str | None = "val"
    if best is None:
        finite = run.batches.loss[np.isfinite(run.batches.loss)]
        best, kind = (float(finite.min()), "train") if finite.size else (None, None)
    floor = d.facts.entropy_floor
    gap = best - floor if best is not None and floor is not None and math.isfinite(best) else None
    return Row(
        source=str(path),
        format=run.format,
        verdict=d.verdict,
        best=best,
        best_kind=kind,
        floor=floor,
        gap=gap,
        deciding=_deciding(d),
        diagnosis=d,
        run=_light(run),
    )


def _job(args: tuple[Path, str | None, dict[str, Any], dict[str, Any], str]) -> Row:
    return explain_one(*args)


def workers(n_runs: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_runs))


def explain_many(
    paths: list[Path], fmt: str | None, read_options: dict[str, Any], overrides: dict[str, Any], lang: str, jobs: int | None = None
) -> list[Row]:
    """Every run's row, worst first (broken, overfitting, unreadable, inconclusive, still learning, converged,
    expected plateau; within a verdict the largest distance to the floor first, then by path)."""
    tasks = [(p, fmt, read_options, overrides, lang) for p in paths]
    n = jobs or workers(len(tasks))
    if n <= 1 or len(tasks) <= 1:
        rows = [_job(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=n) as pool:
            rows = list(pool.map(_job, tasks, chunksize=max(1, len(tasks) // (4 * n))))
    return sort_rows(rows)


def sort_rows(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (ORDER.get(r.verdict, 2), -(r.gap if r.gap is not None else -math.inf), r.source))


def counts(rows: list[Row]) -> dict[str, int]:
    """How many runs got each verdict ('unreadable' for the rows that could not be read), worst first."""
    out: dict[str, int] = {}
    for r in rows:
        key = r.verdict or "unreadable"
        out[key] = out.get(key, 0) + 1
    return out


def exit_code(rows: list[Row], fail_on: str) -> int:
    """1 when a run is at least as bad as --fail-on; else 2 when a run could not be read; else 0."""
    if fail_on != "never" and any(SEVERITY.get(r.verdict or "", 0) >= SEVERITY[fail_on] for r in rows):
        return 1
    return 2 if any(r.verdict is None for r in rows) else 0
