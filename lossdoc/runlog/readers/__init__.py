"""Log readers: each turns one log format into a Run.

``read_run(path)`` detects the format (or takes ``fmt``) and dispatches. A
reader is registered in READERS with a detector that looks at the path and
the first few KB of text; the first detector that answers True wins, in the
order of READERS.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lossdoc.runlog.readers.composer as composer
import lossdoc.runlog.readers.deepspeed as deepspeed
import lossdoc.runlog.readers.fairseq as fairseq
import lossdoc.runlog.readers.litgpt as litgpt
import lossdoc.runlog.readers.megatron as megatron
import lossdoc.runlog.readers.mlflow_store as mlflow_store
import lossdoc.runlog.readers.olmo as olmo
import lossdoc.runlog.readers.torchtitan as torchtitan
import lossdoc.runlog.readers.wandb_offline as wandb_offline
from lossdoc.errors import LossdocError, reading
from lossdoc.runlog.readers import (
    console,
    generic,
    hf_trainer,
    lightning_csv,
    lossdoc_jsonl,
    markdown,
    nanogpt,
    numbers,
    seed_console,
    tensorboard,
    values,
)
from lossdoc.runlog.readers._common import (
    MAX_LOG_BYTES,
    MAX_STREAM_BYTES,
    NAN,
    TRAIN_NAMES,
    VAL_NAMES,
    decode_head,
    epoch_series,
    pick,
    sniff_encoding,
)
from lossdoc.runlog.run import BatchSeries, ReaderWarning, Run
from lossdoc.runlog.sanitize import sanitize

HEAD_BYTES = 8192
LONG_HEAD_BYTES = 262144  # what the last try, for a console log's few loss lines, looks at when no format answered
LONG_HEAD_LINES = 4000  # ... and at most this many of its lines


@dataclass(frozen=True)
class Reader:
    name: str
    detect: Callable[[Path, str], bool]  # (file path, first HEAD_BYTES decoded) -> is this my format?
    read: Callable[..., Run]  # (file path, **options) -> Run
    resolve: Callable[[Path], Path | None] = lambda p: None  # folder -> the file to read, if it holds one


READERS: list[Reader] = [
    Reader("lossdoc", lossdoc_jsonl.detect, lossdoc_jsonl.read, lossdoc_jsonl.resolve),
    Reader("hf-trainer", hf_trainer.detect, hf_trainer.read, hf_trainer.resolve),
    Reader("tensorboard", tensorboard.detect, tensorboard.read, tensorboard.resolve),
    Reader("lightning-csv", lightning_csv.detect, lightning_csv.read, lightning_csv.resolve),
    # the frameworks of training at scale (issue 26): each detector looks for its own framework's lines
    Reader("mlflow", mlflow_store.detect, mlflow_store.read, mlflow_store.resolve),
    Reader("wandb", wandb_offline.detect, wandb_offline.read, wandb_offline.resolve),
    Reader("megatron", megatron.detect, megatron.read, megatron.resolve),
    Reader("deepspeed", deepspeed.detect, deepspeed.read, deepspeed.resolve),
    Reader("torchtitan", torchtitan.detect, torchtitan.read, torchtitan.resolve),
    Reader("litgpt", litgpt.detect, litgpt.read, litgpt.resolve),
    Reader("fairseq", fairseq.detect, fairseq.read, fairseq.resolve),
    Reader("olmo", olmo.detect, olmo.read, olmo.resolve),
    Reader("composer", composer.detect, composer.read, composer.resolve),
    Reader("markdown", markdown.detect, markdown.read, markdown.resolve),  # a log in a README's code block or table
    Reader("nanogpt", nanogpt.detect, nanogpt.read, nanogpt.resolve),
    Reader("seed-console", seed_console.detect, seed_console.read, seed_console.resolve),
    Reader("numbers", numbers.detect, numbers.read, numbers.resolve),  # one number a line: never a table's rows
    Reader("csv", generic.detect_csv, generic.read_csv, generic.resolve),
    Reader("jsonl", generic.detect_jsonl, generic.read_jsonl, generic.resolve),
    Reader("json", generic.detect_json, generic.read_json, generic.resolve),
    Reader("console", console.detect, console.read, console.resolve),
    # the last try, asked only after every other reader and console.detect_sparse: loss values with no curve
    Reader("values", values.detect, values.read, values.resolve),
]
LAST_TRY = frozenset({"values"})  # asked by read_run after the others (and after console.detect_sparse), never in their turn

STREAMED_FORMATS = {"lossdoc"}  # read a chunk at a time with bounded memory: up to MAX_STREAM_BYTES, not MAX_LOG_BYTES
BINARY_FORMATS = {"tensorboard"}  # the only detectors asked about a file that is not text
FOLDER_LOOKS_FOR = "run.jsonl, metrics.jsonl, trainer_state.json, checkpoint-N/, metrics.csv, version_N/, events.out.tfevents.*, an MLflow run (meta.yaml, metrics/), a W&B run (files/output.log)"


def reads_as_one_run(folder: Path) -> bool:
    """Whether some reader reads this folder as one run (its own log file or layout), without looking further in."""
    for reader in READERS:
        try:
            if reader.resolve(folder) is not None:
                return True
        except OSError:
            continue
    return False


def formats() -> list[str]:
    return [r.name for r in READERS]


def read_run(path: str | Path, fmt: str | None = None, **options: Any) -> Run:
    """Read any supported log into a Run. Raises LossdocError for unreadable input.

    Only regular files (and folders) are read: a FIFO, a device or a socket, or a link to one, is refused
    in one line before anything is opened. Every Run returned has been through ``sanitize``."""
    p = Path(path)
    reading(p)
    if not p.exists():
        raise LossdocError("error.log_missing", path=str(p))
    candidates = [r for r in READERS if fmt is None or r.name == fmt]
    if not candidates:
        raise LossdocError("error.bad_format", value=fmt, allowed=", ".join(formats()))
    if p.is_dir():
        for reader in candidates:
            target = reader.resolve(p)
            if target is not None:
                if not target.is_dir():
                    check_size(target, check_regular(target), reader.name)
                reading(target)
                return sanitize(reader.read(target, **options))
        if [r.name for r in candidates] == ["lossdoc"]:
            raise LossdocError("error.log_no_metrics", path=str(p))
        single = _single_log(p, candidates)
        if single is not None:
            check_size(single[1], check_regular(single[1]), single[0].name)
            reading(single[1])
            return sanitize(single[0].read(single[1], **options))
        raise LossdocError("error.folder_no_log", path=str(p), looked=FOLDER_LOOKS_FOR)
    size = check_regular(p)
    head, binary = _head(p)
    if not binary and not head.strip():
        raise LossdocError("error.log_empty", path=str(p))
    for reader in candidates:
        if fmt is None and reader.name in LAST_TRY:
            continue
        if fmt is not None or ((not binary or reader.name in BINARY_FORMATS) and reader.detect(p, head)):
            check_size(p, size, reader.name)
            try:
                run = reader.read(p, **options)
            except LossdocError as exc:
                # a table whose header names a loss over a column of labels ("loss;lr 1e-3;lr 3e-3" over "Epoch 1;..."):
                # several runs side by side, which the last try reads as such, where the table's reader found no value
                if fmt is None and _gives_way(reader.name, exc) and values.detect(p, _head(p, LONG_HEAD_BYTES)[0]):
                    return sanitize(values.read(p, **options))
                raise
            return _finish(reader.name, run, p, options)
    if binary:
        raise LossdocError("error.log_binary", path=str(p))
    if fmt is None:
        # no format answered: a console log of few loss lines among other output (console.detect_sparse), looked for in
        # the first LONG_HEAD_BYTES, where they may lie beyond the first look, between long lines of set-up and timings
        long_head = _head(p, LONG_HEAD_BYTES)[0] if size > HEAD_BYTES else head
        if size > HEAD_BYTES:
            # the same detectors again, on the first LONG_HEAD_BYTES: a log whose first loss lines lie beyond the first
            # look, after long set-up output (progress bars whose carriage returns were lost, warnings, a config echo)
            for reader in candidates:
                if reader.name not in LAST_TRY and reader.name not in BINARY_FORMATS and reader.detect(p, long_head):
                    check_size(p, size, reader.name)
                    return _finish(reader.name, reader.read(p, **options), p, options)
        if console.detect_sparse(long_head, LONG_HEAD_LINES):
            check_size(p, size, "console")
            return _finish("console", console.read(p, **options), p, options)
        # or a page of loss values with no curve (a results page, a summary): read, so that explain says inconclusive
        # and shows them, where a refusal would say only that no reader knew the file
        if values.detect(p, long_head):
            check_size(p, size, "values")
            return sanitize(values.read(p, **options))
    raise LossdocError("error.unknown_format", path=str(p), allowed=", ".join(formats()))


def _finish(reader: str, run: Run, path: Path, options: dict[str, Any]) -> Run:
    """A run as read_run returns it: a nameless format's losses read as validation when the file is named for them
    (and no column was named by a flag), then sanitized."""
    if reader in NAMELESS_FORMATS and not (options.get("train_col") or options.get("val_col")):
        _validation_file(run, path)
    return sanitize(run)


def _gives_way(reader: str, exc: LossdocError) -> bool:
    """Whether a reader that claimed a file and could not read it gives way to the last try (a page of loss values or
    several runs' series): a table the CSV reader found no loss value in; a Markdown page none of whose blocks is a
    log after all (a JSON snippet that is not valid JSON, a table without values), its own text holding the values; a
    row of numbers whose second row lay beyond the first look (a matrix of long rows)."""
    return (
        reader == "markdown" or (reader == "csv" and exc.key == "error.no_loss_values") or (reader == "numbers" and exc.key == "error.numbers_rows")
    )


# formats whose lines or columns may hold a loss without saying which one it is
NAMELESS_FORMATS = frozenset({"console", "csv", "jsonl", "json"})


def _validation_file(run: Run, path: Path) -> None:
    """A file named for its validation losses ("val_loss.txt", "valid_losses.csv", "eval_loss.json": a validation
    word and "loss" in its name) whose lines or columns hold one loss, read as a training loss, and no evaluation
    (``epoch: 3 iter: 2251 loss: 0.63``): those losses are
    the validation losses, as the bare-number reader reads such a file (lossdoc/runlog/readers/numbers.py); a warning
    says so. A log that also holds evaluations, or whose name also names training, is left as it is."""
    stem = path.stem
    if "-tag-" in stem:
        # TensorBoard's CSV download of one scalar, "run_<run>-tag-<tag>.csv": the tag names the series, or (Keras names
        # its runs train and validation, the tag epoch_loss) the run does
        run_name, tag = stem.split("-tag-", 1)
        run_name = run_name[4:] if run_name[:4] in ("run_", "run-") else run_name
        stem = f"val_{tag}" if pick([run_name], VAL_NAMES) and not pick([tag], VAL_NAMES) else tag
    named_loss = any(w in ("loss", "losses") for w in stem.lower().replace("-", "_").split("_"))
    if not named_loss or pick([stem], TRAIN_NAMES) or not pick([stem], VAL_NAMES) or len(run.epochs) or not len(run.batches):
        return  # "val.log", "eval.jsonl": the name of a run's stage, not of its validation losses
    b = run.batches
    run.epochs = epoch_series(
        [(float(e) if math.isfinite(e) else float(k), float(s), NAN, float(v), NAN) for k, (e, s, v) in enumerate(zip(b.epoch, b.step, b.loss), 1)]
    )
    run.batches = BatchSeries.empty()
    run.warnings.append(ReaderWarning("warn.val_file", {"file": path.name}))


FOLDER_SCAN_FILES = 200  # a folder with more files than this is not scanned for a single log


def _single_log(folder: Path, candidates: list[Reader]) -> tuple[Reader, Path] | None:
    """The folder's one readable log, when exactly one of its files (not in subfolders) is one."""
    try:
        entries = sorted(folder.iterdir())[: FOLDER_SCAN_FILES + 1]
    except OSError:
        return None
    if len(entries) > FOLDER_SCAN_FILES:
        return None
    found: list[tuple[Reader, Path]] = []
    for f in entries:
        if f.is_symlink() or not f.is_file() or f.name.startswith("."):
            continue
        try:
            head, binary = _head(f)
        except LossdocError:
            continue
        if not binary and not head.strip():
            continue
        reader = next((r for r in candidates if r.name not in LAST_TRY and (not binary or r.name in BINARY_FORMATS) and r.detect(f, head)), None)
        if reader is not None:
            found.append((reader, f))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise LossdocError("error.folder_many_logs", path=str(folder), files=", ".join(f.name for _, f in found[:6]))
    return None


def check_regular(p: Path) -> int:
    """Refuse anything but a regular file (after following links), and files beyond the largest limit of any format
    (MAX_LOG_BYTES, MAX_STREAM_BYTES); returns the size. ``check_size`` then holds the size to its format's limit."""
    try:
        st = os.stat(p)
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(p), detail=exc.strerror or str(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "fifo"
            if stat.S_ISFIFO(st.st_mode)
            else "char"
            if stat.S_ISCHR(st.st_mode)
            else "block"
            if stat.S_ISBLK(st.st_mode)
            else "socket"
            if stat.S_ISSOCK(st.st_mode)
            else "other"
        )
        raise _NotRegular(p, kind)
    check_size(p, st.st_size, None)
    return st.st_size


def check_size(p: Path, size: int, fmt: str | None) -> None:
    """Refuse a file beyond the limit of its format ``fmt`` (None: of any format) in one line: a lossdoc.run/1 log is
    read a chunk at a time (MAX_STREAM_BYTES), every other format keeps the whole log in memory (MAX_LOG_BYTES)."""
    limit = max(MAX_LOG_BYTES, MAX_STREAM_BYTES) if fmt is None else MAX_STREAM_BYTES if fmt in STREAMED_FORMATS else MAX_LOG_BYTES
    if size > limit:
        raise LossdocError("error.log_too_big", path=str(p), size_mb=size // 2**20, limit_mb=limit // 2**20)


class _NotRegular(LossdocError):
    """error.not_regular, with the kind of file named in the user's language."""

    def __init__(self, p: Path, kind: str) -> None:
        self.kind = kind
        super().__init__("error.not_regular", path=str(p), kind=kind)

    def render(self, lang: str) -> str:
        from lossdoc.errors import one_line
        from lossdoc.i18n import t

        return one_line(t("error.not_regular", lang, path=one_line(self.args_["path"]), kind=t(f"kind.{self.kind}", lang)))


def _head(p: Path, nbytes: int = HEAD_BYTES) -> tuple[str, bool]:
    """The first HEAD_BYTES (or nbytes) as text (BOM, UTF-8 or GB18030), and whether the file looks binary."""
    try:
        with open(p, "rb") as fh:
            raw = fh.read(nbytes)
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(p), detail=exc.strerror or str(exc)) from None
    return decode_head(raw), sniff_encoding(raw) is None
