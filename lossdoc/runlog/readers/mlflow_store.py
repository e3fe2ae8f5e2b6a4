"""Reader for an MLflow file store run (mlflow/store/tracking/file_store.py ``FileStore``: ``log_metric``
appends ``<timestamp> <value> <step>`` to ``metrics/<key>``; ``log_param`` writes the value to ``params/<key>``).

    mlruns/<experiment id>/<run id>/
        meta.yaml                 run_name, status (FINISHED, FAILED, KILLED, RUNNING)
        metrics/train_loss        1714550400000 9.2103 1      -> a batch at step 1
        metrics/val_loss          1714550400000 9.1501 100    -> an evaluation at step 100
        params/vocab_size         50257                       -> a fact (a file beside the log)

A metric key with '/' in it (``train/loss``) is a file in a subfolder. The loss metrics are chosen by name as
the CSV reader chooses columns (lossdoc/runlog/readers/_common.py TRAIN_NAMES, VAL_NAMES). Params give V
(``vocab_size``), the sequence length, the batch, the tokens per step and a fine-tune (``init_from``,
``pretrained``, ``finetune``, ``model_name_or_path``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import TRAIN_NAMES, VAL_NAMES, norm_name, pick, to_float, vocab_from
from lossdoc.runlog.readers._scale import Collector
from lossdoc.runlog.run import Run

MAX_METRIC_FILES = 2000
CHUNK_BYTES = 4 * 2**20  # a metric file is read this many bytes of lines at a time
_STATUS = {"FINISHED": "completed", "FAILED": "failed", "KILLED": "interrupted", "RUNNING": None, "SCHEDULED": None}
_SEQ = ("seq_length", "seq_len", "max_seq_len", "max_seq_length", "block_size", "sequence_length", "context_length")
_BATCH = ("global_batch_size", "batch_size", "train_batch_size", "total_batch_size")
_TOKENS = ("tokens_per_step", "tokens_per_iter", "tokens_per_batch", "batch_tokens")
_FINETUNE = ("init_from", "finetune", "pretrained", "model_name_or_path", "pretrained_model_name_or_path", "resume_from_pretrained")


def is_run(folder: Path) -> bool:
    return (folder / "meta.yaml").is_file() and (folder / "metrics").is_dir()


def detect(path: Path, head: str) -> bool:
    return False  # a run is a folder: read through resolve


def resolve(folder: Path) -> Path | None:
    if is_run(folder):
        return folder
    if folder.name == "metrics" and is_run(folder.parent):
        return folder.parent
    return None


def _metric_files(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        if len(out) >= MAX_METRIC_FILES:
            break
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = p
    return out


def _read_metric(c: Collector, p: Path, val: bool) -> None:
    """The ``<timestamp> <value> <step>`` lines of one metric file. A block of lines that numpy reads whole (three
    or more numbers on every line, the first two after the timestamp taken) is one column block; any other block
    is read line by line (a value that is not a number is counted on its line; a line of two values has no step:
    its place is the step)."""
    with open(p, "rb") as fh:
        lineno = 0
        while lines := fh.readlines(CHUNK_BYTES):
            first = lineno + 1
            lineno += len(lines)
            if not val:
                cols = _block(lines)
                if cols is not None:
                    c.batch_block(np.arange(first, lineno + 1), cols[:, 1], cols[:, 0])
                    continue
            for i, raw in enumerate(lines, first):
                _line(c, raw.decode("utf-8", errors="replace"), i, val)


def _block(lines: list[bytes]) -> np.ndarray | None:
    """(n, 2) value and step columns of the block, or None where a line is not three numbers or more."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cols = np.loadtxt(lines, dtype=np.float64, usecols=(1, 2), ndmin=2, comments=None)
    except ValueError:
        return None
    if cols.shape[0] != len(lines) or not np.isfinite(cols[:, 1]).all():  # a blank line, a step that is not finite
        return None
    return cols


def _line(c: Collector, line: str, lineno: int, val: bool) -> None:
    parts = line.split()
    if len(parts) < 2:
        return
    value = to_float(parts[1])
    step = to_float(parts[2]) if len(parts) > 2 else float(lineno - 1)
    if step is None or not math.isfinite(step):
        c.bad.append(lineno)
        return
    if val:
        c.val(step, value, lineno)
    else:
        c.batch(step, value, lineno)


def _param(params: dict[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    by = {norm_name(k): k for k in params}
    for n in names:
        if n in by:
            return by[n], params[by[n]]
    return None


def read(path: Path, **_: Any) -> Run:
    folder = path
    c = Collector(folder, "mlflow")
    metrics = _metric_files(folder / "metrics")
    train, val = pick(metrics, TRAIN_NAMES), pick(metrics, VAL_NAMES)
    if train is None and val is None:
        raise LossdocError("error.mlflow_no_loss", path=str(folder), metrics=", ".join(list(metrics)[:12]) or "-")
    if train is not None:
        _read_metric(c, metrics[train], False)
    if val is not None and val != train:
        _read_metric(c, metrics[val], True)
    c.run.config["metrics"] = {"train": train, "val": val}
    params: dict[str, str] = {}
    pdir = folder / "params"
    if pdir.is_dir():
        for p in sorted(pdir.rglob("*"))[:MAX_METRIC_FILES]:
            if p.is_file() and not p.is_symlink():
                try:
                    params[p.relative_to(pdir).as_posix()] = p.read_text(encoding="utf-8", errors="replace")[:500].strip()
                except OSError:
                    continue
    run = c.run
    if (v := _param(params, ("vocab_size", "n_vocab", "vocab"))) is not None:
        vs = vocab_from(to_float(v[1]))
        if vs is not None:
            run.set_fact("vocab_size", vs, "file", f"params/{v[0]}")
    tokens = _param(params, _TOKENS)
    seq, batch = _param(params, _SEQ), _param(params, _BATCH)
    if tokens is not None and (t := to_float(tokens[1])) is not None and 0 < t < 1e13:
        run.set_fact("batch_tokens", t, "file", f"params/{tokens[0]}")
    elif seq is not None and batch is not None:
        s, b = to_float(seq[1]), to_float(batch[1])
        if s and b and 0 < s * b < 1e13:
            run.set_fact("batch_tokens", s * b, "file", f"params/{batch[0]} x params/{seq[0]}")
    if seq is not None:
        run.config["seq_length"] = seq[1]
    if batch is not None:
        run.config["global_batch_size"] = batch[1]
    ft = _param(params, _FINETUNE)
    if ft is not None:
        value = ft[1].strip().lower()
        if norm_name(ft[0]) == "init_from":
            run.set_fact("pretrained", value not in ("scratch", "none", ""), "file", f"params/{ft[0]}")
        elif value in ("true", "1", "yes") or (value not in ("false", "0", "no", "none", "") and "name_or_path" in norm_name(ft[0])):
            run.set_fact("pretrained", True, "file", f"params/{ft[0]}")
    meta = folder / "meta.yaml"
    try:
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines()[:200]:
            mk, _sep, mv = line.partition(":")
            if mk.strip() == "status":
                code = mv.strip()
                status_name = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}.get(code, code)
                run.status = _STATUS.get(status_name)
            elif mk.strip() == "run_name":
                run.config["run_name"] = mv.strip()
    except OSError:
        pass
    run.config["params"] = dict(list(params.items())[:50])
    return c.build(_NoLines(), "error.mlflow_no_loss_values")


class _NoLines:
    """Stands for TextLines in Collector.build: a file store has no long lines, and is not empty."""

    empty = False

    def warn_long(self, run: Run) -> None:
        return None
