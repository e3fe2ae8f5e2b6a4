"""Reader for PyTorch Lightning's CSVLogger: metrics.csv (and hparams.yaml beside it).

Input: metrics.csv, its version_N folder, or a folder holding version_N
folders (directly or under lightning_logs/; the highest N is read).

metrics.csv is sparse: every row has epoch and step, and only the metrics
logged at that moment. Lightning counts both from 0 and logs a step before
counting the update the batch makes, so (checked against Lightning 2.6's
logger connector and the fixture runs):

  train_loss_step (or train_loss, loss, ...; --train-col) -> a batch at step + 1, epoch + 1
  val_loss (val/loss, valid_loss, ...; --val-col)          -> an evaluation row at step + 1, epoch + 1
  train_loss_epoch (the _epoch twin of the train column)   -> that evaluation's training loss

A validation logged at step 0 before any training row (trainer.validate
before fit) is the measurement before any update: epoch 0, step 0. The
vocabulary size is read from hparams.yaml (vocab_size, n_vocab or
vocab, at the top level or one level down) when present.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, TRAIN_NAMES, VAL_NAMES, batch_columns, epoch_series, find_exact, finish, loss_kind, norm_name, pick
from lossdoc.runlog.readers.generic import GRAD_NAMES, LR_NAMES, _delimiter, _first_line, cell, csv_rows
from lossdoc.runlog.run import ReaderWarning, Run

_VERSION = re.compile(r"^version_(\d+)$")
_VOCAB_KEYS = ("vocab_size", "n_vocab", "vocab", "num_tokens")


def detect(path: Path, head: str) -> bool:
    first = _first_line(head)
    cols = {norm_name(c) for c in first.split(_delimiter(first))} if first else set()
    if not {"epoch", "step"} <= cols:
        return False
    return path.name == "metrics.csv" or (path.parent / "hparams.yaml").is_file()


def resolve(folder: Path) -> Path | None:
    p = folder / "metrics.csv"
    if p.is_file():
        return p
    for base in (folder, folder / "lightning_logs"):
        try:
            versions = [(int(m.group(1)), sub) for sub in base.iterdir() if (m := _VERSION.match(sub.name)) and (sub / "metrics.csv").is_file()]
        except OSError:
            continue
        if versions:
            return max(versions)[1] / "metrics.csv"
    return None


def _refuse(source: csv_rows, key: str, **args: Any) -> NoReturn:
    """Raise ``key``, after what reading the whole table would raise first (a bad record; too few bare rows)."""
    rows = sum(1 for _ in source)
    if source.bare and rows < 3:
        raise LossdocError("error.csv_no_header", path=str(source.path))
    raise LossdocError(key, **args)


def read(path: Path, *, train_col: str | None = None, val_col: str | None = None, **_: Any) -> Run:
    """Read metrics.csv a row at a time, keeping the batches as float columns (no Python object per row)."""
    source = csv_rows(path)
    cols = source.header
    if find_exact(cols, "step") is None or find_exact(cols, "epoch") is None:
        _refuse(source, "error.lightning_columns", path=str(path), columns=", ".join(cols))
    step_c, epoch_c = find_exact(cols, "step"), find_exact(cols, "epoch")
    rest = [c for c in cols if c not in (step_c, epoch_c)]
    if train_col:
        train_c = find_exact(rest, train_col)
        if train_c is None:
            _refuse(source, "error.column_missing", flag="--train-col", column=train_col, path=str(path), columns=", ".join(cols))
    else:
        train_c = pick(rest, TRAIN_NAMES)
        if train_c is None and val_col is None and pick(rest, VAL_NAMES) is None:
            # no usual name: a column with "loss" as a word of its name ("train_loss_batch"), as the csv reader does
            train_c = next((c for c in rest if loss_kind(c) == "train"), None)
    if val_col:
        val_c = find_exact(rest, val_col)
        if val_c is None:
            _refuse(source, "error.column_missing", flag="--val-col", column=val_col, path=str(path), columns=", ".join(cols))
    else:
        val_c = pick([c for c in rest if c != train_c], VAL_NAMES)
    train_epoch_c = None
    if train_c is not None:
        n = norm_name(train_c)
        if n.endswith("_epoch"):  # only the epoch-level column exists: it is the evaluation rows' training loss
            train_epoch_c, train_c = train_c, None
        elif n.endswith("_step"):
            train_epoch_c = pick(rest, [n[: -len("_step")] + "_epoch"])
    if train_c is None and val_c is None and train_epoch_c is None:
        _refuse(source, "error.no_loss_columns", path=str(path), columns=", ".join(cols))
    lr_c = pick(rest, LR_NAMES + ["lr_adam", "lr_sgd", "lr_adamw"])
    gn_c = pick(rest, GRAD_NAMES)

    run = Run(source=str(path), format="lightning-csv")
    b_step, b_ep, b_tr, b_lr, b_gn = (array("d") for _ in range(5))  # batch rows in file order
    evals: dict[tuple[int, int], list[float]] = {}  # (epoch, step) -> [epoch, step, train, val]
    bad: list[int] = []
    seen_train = False
    names = list(dict.fromkeys(cols))  # a column named twice: its cell is what dict(zip(header, cells)) keeps
    twice = len(names) < len(cols)
    idx = [None if c is None else names.index(c) for c in (step_c, epoch_c, train_c, train_epoch_c, val_c, lr_c, gn_c)]
    i_step, i_epoch, i_tr, i_tre, i_va, i_lr, i_gn = idx
    rows = 0
    for lineno, cells in source:
        rows += 1
        values: Sequence[str | None] = cells
        if twice:
            by_name = dict(zip(cols, cells))
            values = [by_name.get(c) for c in names]
        width = len(values)
        step = cell(values[i_step], bad, lineno) if i_step is not None and i_step < width else None
        epoch = cell(values[i_epoch], bad, lineno) if i_epoch is not None and i_epoch < width else None
        tr = cell(values[i_tr], bad, lineno) if i_tr is not None and i_tr < width else None
        tre = cell(values[i_tre], bad, lineno) if i_tre is not None and i_tre < width else None
        va = cell(values[i_va], bad, lineno) if i_va is not None and i_va < width else None
        if step is None or not math.isfinite(step) or (tr is None and tre is None and va is None):
            continue
        ep = NAN if epoch is None else epoch + 1.0
        if tr is not None:
            lr = cell(values[i_lr], bad, lineno) if i_lr is not None and i_lr < width else None
            gn = cell(values[i_gn], bad, lineno) if i_gn is not None and i_gn < width else None
            b_step.append(float(int(step) + 1))
            b_ep.append(ep)
            b_tr.append(tr)
            b_lr.append(NAN if lr is None else lr)
            b_gn.append(NAN if gn is None else gn)
            seen_train = True
        if va is not None or tre is not None:
            if va is not None and step == 0 and not seen_train and tre is None:
                key, out = (-1, 0), [0.0, 0.0, NAN, NAN]
            else:
                key, out = (int(epoch) if epoch is not None and math.isfinite(epoch) else -2, int(step)), [ep, step + 1.0, NAN, NAN]
            cur = evals.setdefault(key, out)
            if tre is not None:
                cur[2] = tre
            if va is not None:
                cur[3] = va
    if source.bare and rows < 3:
        raise LossdocError("error.csv_no_header", path=str(path))
    batches, dup = batch_columns(b_step, b_ep, b_tr, b_lr, b_gn)
    if bad:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(bad), "first": bad[0]}))
    if dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))
    source.lines.warn_long(run)
    run.records_read = rows
    run.batches = batches
    run.epochs = epoch_series([(e[0], e[1], e[2], e[3], NAN) for e in evals.values()])
    from lossdoc.runlog.neighbours import apply_hparams  # (neighbours imports the readers' helpers)

    apply_hparams(run, path.parent / "hparams.yaml")
    return finish(run, path, "error.no_loss_values", columns=", ".join(c for c in (train_c, train_epoch_c, val_c) if c))
