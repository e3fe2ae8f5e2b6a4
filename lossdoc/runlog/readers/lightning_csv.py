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
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, TRAIN_NAMES, VAL_NAMES, batch_series, epoch_series, find_exact, finish, norm_name, pick
from lossdoc.runlog.readers.generic import GRAD_NAMES, LR_NAMES, _delimiter, _first_line, _value, load_csv
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


def read(path: Path, *, train_col: str | None = None, val_col: str | None = None, **_: Any) -> Run:
    table = load_csv(path)
    cols = table.columns
    if find_exact(cols, "step") is None or find_exact(cols, "epoch") is None:
        raise LossdocError("error.lightning_columns", path=str(path), columns=", ".join(cols))
    step_c, epoch_c = find_exact(cols, "step"), find_exact(cols, "epoch")
    rest = [c for c in cols if c not in (step_c, epoch_c)]
    if train_col:
        train_c = find_exact(rest, train_col)
        if train_c is None:
            raise LossdocError("error.column_missing", flag="--train-col", column=train_col, path=str(path), columns=", ".join(cols))
    else:
        train_c = pick(rest, TRAIN_NAMES)
    if val_col:
        val_c = find_exact(rest, val_col)
        if val_c is None:
            raise LossdocError("error.column_missing", flag="--val-col", column=val_col, path=str(path), columns=", ".join(cols))
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
        raise LossdocError("error.no_loss_columns", path=str(path), columns=", ".join(cols))
    lr_c = pick(rest, LR_NAMES + ["lr_adam", "lr_sgd", "lr_adamw"])
    gn_c = pick(rest, GRAD_NAMES)

    run = Run(source=str(path), format="lightning-csv")
    batches: dict[int, tuple[float, float, float, float, float]] = {}
    evals: dict[tuple[int, int], list[float]] = {}  # (epoch, step) -> [epoch, step, train, val]
    bad: list[int] = []
    dup = 0
    seen_train = False
    for row, lineno in zip(table.rows, table.lines):
        step = _get(row, step_c, bad, lineno)
        epoch = _get(row, epoch_c, bad, lineno)
        tr = _get(row, train_c, bad, lineno)
        tre = _get(row, train_epoch_c, bad, lineno)
        va = _get(row, val_c, bad, lineno)
        if step is None or not math.isfinite(step) or (tr is None and tre is None and va is None):
            continue
        ep = NAN if epoch is None else epoch + 1.0
        if tr is not None:
            s = int(step) + 1
            dup += s in batches
            lr = _get(row, lr_c, bad, lineno)
            gn = _get(row, gn_c, bad, lineno)
            batches[s] = (ep, tr, NAN if lr is None else lr, NAN if gn is None else gn, NAN)
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
    if bad:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(bad), "first": bad[0]}))
    if dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))
    table.long_lines.warn_long(run)  # type: ignore[attr-defined]
    run.records_read = len(table.rows)
    run.batches = batch_series(batches)
    run.epochs = epoch_series([(e[0], e[1], e[2], e[3], NAN) for e in evals.values()])
    from lossdoc.runlog.neighbours import apply_hparams  # (neighbours imports the readers' helpers)

    apply_hparams(run, path.parent / "hparams.yaml")
    return finish(run, path, "error.no_loss_values", columns=", ".join(c for c in (train_c, train_epoch_c, val_c) if c))


_get = _value  # a cell: generic CSV's rules (empty is absent, a non-number is counted with its line)
