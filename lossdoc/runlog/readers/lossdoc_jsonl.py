"""Reader for lossdoc's own run log, run.jsonl (schema lossdoc.run/1; older runs named it metrics.jsonl).

Tolerant by design: runs get killed. A torn or corrupt last line is dropped
with a warning; corrupt lines elsewhere are skipped and counted; after a
resume the log can hold the same step twice, and the latest record wins.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.corrections import apply_loss_scale
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


CHUNK = 2 * 2**20  # bytes read at a time: memory stays a chunk plus the records, whatever the file's size
LINE_CAP = 64 * 2**20  # a longer line is corrupt (skipped and counted) without being held in memory
_ANY_KEY = (b'"type"', b"\\u")  # a line without either cannot be a record of a known type (its "type" is absent)


def _chunks(path: Path):
    """Yield (number of the first line, complete lines) from ``path``, a chunk at a time; the last item is the
    final line without a newline (a torn record candidate) as (its number, [line]) with ``final`` True."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    with fh:
        lineno = 1
        rest = b""
        skipping = False  # inside a line longer than LINE_CAP
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            if b"\x00" in chunk:
                raise LossdocError("error.log_binary", path=str(path))
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    continue
                chunk = chunk[cut + 1 :]
                skipping = False
                yield lineno, [b"\x00too long"], False  # counted as one corrupt line
                lineno += 1
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            if len(rest) > LINE_CAP:
                rest = b""
                skipping = True
            if parts:
                yield lineno, parts, False
                lineno += len(parts)
        if skipping:
            yield lineno, [b"\x00too long"], True
        elif rest:
            yield lineno, [rest], True


def read(path: Path, **_: Any) -> Run:
    run = Run(source=str(path), format="lossdoc")
    header: dict[str, Any] | None = None
    batches: dict[int, tuple] = {}
    epochs: dict[int, tuple] = {}
    bad_lines: list[int] = []  # the first few line numbers (the count is n_bad)
    n_bad = 0
    missing = 0
    junk_kinds: dict[bytes, int] = {}  # lines without a "type" key: 0 empty, 1 a JSON object (skipped), 2 corrupt

    def junk_kind(line: bytes) -> int:
        k = junk_kinds.get(line)
        if k is None:
            if not line.strip():
                k = 0
            else:
                try:
                    k = 1 if isinstance(json.loads(line.decode("utf-8", errors="replace")), dict) else 2
                except (ValueError, RecursionError):
                    k = 2
            if len(line) <= 256:
                if len(junk_kinds) > 10_000:
                    junk_kinds.clear()
                junk_kinds[line] = k
        return k

    def bulk(first: int, parts: list[bytes]) -> list[tuple[int, bytes]]:
        """The lines that may hold a record; the others (no "type" key) are only counted, once per distinct line
        (a log of millions of "{}" lines costs a count each, not a parse each)."""
        nonlocal n_bad
        joined = b"\n".join(parts)
        if _ANY_KEY[0] in joined or _ANY_KEY[1] in joined:
            keep = [i for i, ln in enumerate(parts) if _ANY_KEY[0] in ln or _ANY_KEY[1] in ln]
        else:
            keep = []
        if len(keep) == len(parts):
            return [(first + i, ln) for i, ln in enumerate(parts)]
        counts = Counter(parts)
        for i in keep:
            counts[parts[i]] -= 1
        for ln, cnt in counts.items():
            if cnt <= 0:
                continue
            k = junk_kind(ln)
            if k == 1:
                run.records_skipped += cnt
            elif k == 2:
                n_bad += cnt
                bad_lines.append(first + parts.index(ln))
                bad_lines[:] = [min(bad_lines)]  # the first is what the warning names: keep the list short
        return [(first + i, parts[i]) for i in keep]

    for first, parts, final in _chunks(path):
        if header is None or final:
            # until the header, line by line (anything before it decides whether this is a lossdoc log)
            items = [(first + i, ln) for i, ln in enumerate(parts)]
        else:
            items = bulk(first, parts)
        for lineno, raw in items:
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                if final:
                    run.warnings.append(ReaderWarning("warn.torn_last_line", {"line": lineno}))
                else:
                    n_bad += 1
                    bad_lines.append(lineno)
                continue
            if not isinstance(rec, dict):
                n_bad += 1
                bad_lines.append(lineno)
                continue
            kind = rec.get("type")
            if header is None:
                if kind != "run" or rec.get("schema") != SCHEMA:
                    raise LossdocError("error.log_not_lossdoc", path=str(path))
                header = rec
                run.records_read += 1
                if not final and lineno - first + 1 < len(parts):  # the rest of this chunk in bulk
                    items[:] = items[: lineno - first + 1] + bulk(lineno + 1, parts[lineno - first + 1 :])
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
                run.status = status if status in ("completed", "interrupted", "failed", "stopped") else None
            else:
                run.records_read -= 1
                run.records_skipped += 1
    if header is None:
        raise LossdocError("error.log_empty", path=str(path))
    if n_bad:
        run.records_skipped += n_bad
        run.warnings.append(ReaderWarning("warn.corrupt_lines", {"count": n_bad, "first": min(bad_lines)}))
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
    return apply_loss_scale(run, header)


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
    # lossdoc train always starts from a fresh initialisation; RunLogger and the HF callback say so in the header
    pre = header.get("pretrained")
    run.pretrained = pre if isinstance(pre, bool) else False
    run.mark_sources("log", "where.header")
