"""Reader for lossdoc's own run log, run.jsonl (schema lossdoc.run/1; older runs named it metrics.jsonl).

Tolerant by design: runs get killed. A torn or corrupt last line is dropped
with a warning; corrupt lines elsewhere are skipped and counted; after a
resume the log can hold the same step twice, and the latest record wins.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.readers._common import MAX_VOCAB, as_float
from lossdoc.runlog.run import BatchSeries, EpochSeries, Event, ReaderWarning, Run

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_NAN = math.nan


def detect(path: Path, head: str) -> bool:
    first = head.lstrip().split("\n", 1)[0]
    return '"type"' in first and SCHEMA in first


def resolve(folder: Path) -> Path | None:
    from lossdoc.runlog.files import existing_log

    return existing_log(folder)  # run.jsonl, else an older run's metrics.jsonl


def num(value: Any) -> float:
    """A logged number: floats and ints as they are, the non-finite strings decoded, anything else NaN."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return as_float(value)
    if isinstance(value, str):
        return _SPECIAL.get(value, _NAN)
    return _NAN


def read(path: Path, **_: Any) -> Run:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    if b"\x00" in raw:
        raise LossdocError("error.log_binary", path=str(path))
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    torn = bool(lines) and lines[-1].strip() != ""  # no newline after the last record
    run = Run(source=str(path), format="lossdoc")
    header: dict[str, Any] | None = None
    batches: dict[int, tuple] = {}
    epochs: dict[int, tuple] = {}
    bad_lines: list[int] = []
    missing = 0
    n_lines = len(lines)
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            if lineno == n_lines and torn:
                run.warnings.append(ReaderWarning("warn.torn_last_line", {"line": lineno}))
            else:
                bad_lines.append(lineno)
            continue
        if not isinstance(rec, dict):
            bad_lines.append(lineno)
            continue
        kind = rec.get("type")
        if header is None:
            if kind != "run" or rec.get("schema") != SCHEMA:
                raise LossdocError("error.log_not_lossdoc", path=str(path))
            header = rec
            run.records_read += 1
            continue
        run.records_read += 1
        if kind == "batch":
            step, loss = num(rec.get("step")), num(rec.get("loss"))
            if not math.isfinite(step) or rec.get("loss") is None:  # a null loss is a missing one, not a NaN
                missing += 1
                continue
            batches[int(step)] = (num(rec.get("epoch")), loss, num(rec.get("lr")), num(rec.get("grad_norm")), num(rec.get("tokens")))
        elif kind == "epoch":
            ep = num(rec.get("epoch"))
            if not math.isfinite(ep):
                missing += 1
                continue
            epochs[int(ep)] = (num(rec.get("step")), num(rec.get("train_loss")), num(rec.get("val_loss")), num(rec.get("val_tokens")))
            raw_val = rec.get("val_loss")
            if (isinstance(raw_val, str) and raw_val in _SPECIAL) or (isinstance(raw_val, float) and not math.isfinite(raw_val)):
                # logged as NaN/Infinity (not absent): a non-finite validation loss is a finding, not a gap
                run.events.append(Event("nonfinite_val", num(rec.get("step")), f"validation loss {raw_val} at epoch {int(ep)}"))
        elif kind == "event":
            run.events.append(Event(str(rec.get("kind", "unknown")), num(rec.get("step")), str(rec.get("message", ""))))
        elif kind == "end":
            status = rec.get("status")
            run.status = status if status in ("completed", "interrupted", "failed") else None
        else:
            run.records_read -= 1
            run.records_skipped += 1
    if header is None:
        raise LossdocError("error.log_empty", path=str(path))
    if bad_lines:
        run.records_skipped += len(bad_lines)
        run.warnings.append(ReaderWarning("warn.corrupt_lines", {"count": len(bad_lines), "first": bad_lines[0]}))
    if missing:
        run.records_skipped += missing
        run.warnings.append(ReaderWarning("warn.missing_fields", {"count": missing}))
    _apply_header(run, header)
    if batches:
        steps = np.array(sorted(batches), dtype=np.float64)
        cols = np.array([batches[int(s)] for s in steps], dtype=np.float64).reshape(-1, 5)
        run.batches = BatchSeries(steps, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3], cols[:, 4])
    if epochs:
        eps = np.array(sorted(epochs), dtype=np.float64)
        cols = np.array([epochs[int(e)] for e in eps], dtype=np.float64).reshape(-1, 4)
        run.epochs = EpochSeries(eps, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
    if not batches and not epochs:
        raise LossdocError("error.log_empty", path=str(path))
    return run


def _apply_header(run: Run, header: dict[str, Any]) -> None:
    run.schema = header.get("schema")
    vs = header.get("vocab_size")
    run.vocab_size = vs if isinstance(vs, int) and not isinstance(vs, bool) and 2 <= vs <= MAX_VOCAB else None
    data = header.get("data") if isinstance(header.get("data"), dict) else {}
    model = header.get("model") if isinstance(header.get("model"), dict) else {}
    floor = num(data.get("entropy_floor"))
    if math.isfinite(floor) and floor > 0:
        run.entropy_floor = floor
        run.floor_source = str(data.get("kind", "header"))
    run.random_data = data.get("kind") == "dummy"
    sample = num(data.get("val_floor_sample"))
    if run.entropy_floor is not None and math.isfinite(sample) and sample > 0:
        run.val_floor_sample = sample
    for attr, value in (("unigram_entropy", data.get("unigram_entropy")), ("unigram_xent", data.get("unigram_xent"))):
        v = num(value)
        if math.isfinite(v) and v > 0:
            setattr(run, attr, v)
    s = num(model.get("init_logit_std"))
    run.init_logit_std = s if math.isfinite(s) and s >= 0 else None
    d = num(model.get("dropout"))
    run.dropout = d if math.isfinite(d) else None
    bt = num(header.get("batch_tokens"))
    run.batch_tokens = bt if math.isfinite(bt) and bt > 0 else None
    run.model = model
    run.config = header.get("config") if isinstance(header.get("config"), dict) else {}
    if run.random_data:
        low = data.get("token_low")
        run.random_low = low if isinstance(low, int) and not isinstance(low, bool) and low >= 0 else None
    run.pretrained = False  # lossdoc train always starts from a fresh initialisation
    run.mark_sources("log", "where.header")
