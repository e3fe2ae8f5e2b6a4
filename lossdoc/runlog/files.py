"""Where a run keeps its log, and which run folder is the newest.

A run folder holds ``run.jsonl`` (schema lossdoc.run/1). Runs made before
0.1 named it ``metrics.jsonl``; those folders are still read, and resuming
one keeps appending to the file it already has.
"""

from __future__ import annotations

from pathlib import Path

RUN_LOG = "run.jsonl"
LEGACY_LOG = "metrics.jsonl"
LOG_NAMES = (RUN_LOG, LEGACY_LOG)
RUNS_DIR = "runs"  # where `lossdoc train` puts a run without --out, and where `lossdoc explain` looks first


def log_in(folder: str | Path) -> Path:
    """The run log of ``folder``: its run.jsonl, or its legacy metrics.jsonl when only that one exists.
    For a new folder: run.jsonl."""
    folder = Path(folder)
    new, old = folder / RUN_LOG, folder / LEGACY_LOG
    if not new.exists() and old.exists():
        return old
    return new


def existing_log(folder: str | Path) -> Path | None:
    """The run log file in ``folder`` if it holds one (run.jsonl first), else None."""
    for name in LOG_NAMES:
        p = Path(folder) / name
        if p.is_file():
            return p
    return None


def run_folders(parent: str | Path) -> list[Path]:
    """The folders directly inside ``parent`` that hold a run log."""
    try:
        children = [c for c in Path(parent).iterdir() if c.is_dir()]
    except OSError:
        return []
    return [c for c in children if existing_log(c) is not None]


def newest_run(parent: str | Path) -> Path | None:
    """The run folder inside ``parent`` whose log was written last (ties: the later name), or None."""
    found = []
    for folder in run_folders(parent):
        log = existing_log(folder)
        if log is None:
            continue
        try:
            found.append((log.stat().st_mtime, folder.name, folder))
        except OSError:
            continue
    return max(found)[2] if found else None
