"""Reader for TensorBoard event files, with no dependency at all (no TensorFlow, no tensorboard).

An event file is a TFRecord stream: per record a little-endian uint64 length,
a masked CRC-32C of those 8 bytes, the payload, and a masked CRC-32C of the
payload. The payload is an ``Event`` protocol buffer; scalars are
``Event.summary.value[i]`` with a ``tag`` and either ``simple_value`` (what
torch.utils.tensorboard and TF1 write) or a one-element ``tensor`` (what TF2
and Keras write). This module decodes just those fields; the length CRC of
every record is checked, the payload CRC is not (too slow in pure Python).

Input: one event file or a log folder. In a folder every event file below it
is read; a file in a subfolder has its tags prefixed with the subfolder path,
so Keras' train/ and validation/ folders give train/epoch_loss and
validation/epoch_loss. The train and validation tags are found by common
names (train/loss, train_loss, loss, Loss/train ...; val/loss, val_loss,
eval/loss, validation/epoch_loss ...) or named with --train-tag/--val-tag.

Mapping: train-tag values are batches at their step; val-tag values are
evaluation rows (epoch 0 when logged at step 0 before training, then numbered
1, 2, ...). When both tags were logged at exactly the same steps, the log is
per-epoch (Keras): each step is one epoch row with both losses and no batch
rows. A folder with Lightning's hparams.yaml is read with Lightning's step
convention (step + 1, epoch from 0 -> from 1) and its vocabulary size.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
from array import array
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, TRAIN_NAMES, VAL_NAMES, finish, norm_name, pick
from lossdoc.runlog.run import BatchSeries, EpochSeries, ReaderWarning, Run

_PATTERN = "events.out.tfevents"
MAX_FILES = 1000

# ------------------------------------------------------------------ CRC-32C (Castagnoli)

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _header_ok(head12: bytes) -> bool:
    return len(head12) == 12 and struct.unpack("<I", head12[8:12])[0] == masked_crc(head12[:8])


# ------------------------------------------------------------------ scalars as they are read


class Points(Mapping):
    """The (step, value) points of one tag, in two flat arrays (16 bytes a point: a 100 MB event file holds
    millions). As a mapping it is {step: value} with the last value logged for a step winning."""

    def __init__(self) -> None:
        self._steps = array("q")
        self._values = array("d")
        self._done: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, step: int, value: float) -> None:
        self._steps.append(step)
        self._values.append(value)
        self._done = None

    def appenders(self) -> tuple[Callable[[int], None], Callable[[float], None]]:
        """The two appends of ``add``, for a reader's inner loop (a step and then its value, always both)."""
        self._done = None
        return self._steps.append, self._values.append

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps sorted and unique as int64, their values): a later value for a step wins."""
        if self._done is None:
            steps = np.frombuffer(self._steps, dtype=np.int64) if len(self._steps) else np.empty(0, dtype=np.int64)
            values = np.frombuffer(self._values, dtype=np.float64) if len(self._values) else np.empty(0)
            u, idx = np.unique(steps[::-1], return_index=True)
            self._done = (u, values[::-1][idx].copy())
        return self._done

    def __getitem__(self, step: int) -> float:
        u, v = self.arrays()
        i = int(np.searchsorted(u, step))
        if i < u.size and u[i] == step:
            return float(v[i])
        raise KeyError(step)

    def __iter__(self):
        return iter(int(s) for s in self.arrays()[0])

    def __len__(self) -> int:
        return int(self.arrays()[0].size)


def _points(out: dict[str, Points], tag: str) -> Points:
    p = out.get(tag)
    if p is None:
        p = out[tag] = Points()
    return p


# ------------------------------------------------------------------ protobuf (just what we need)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes):
    """Yield (field number, wire type, value): int for varints, bytes otherwise."""
    i, n = 0, len(buf)
    v: int | bytes
    while i < n:
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v = buf[i : i + 8]
            i += 8
        elif wire == 2:
            ln, i = _varint(buf, i)
            v = buf[i : i + ln]
            i += ln
        elif wire == 5:
            v = buf[i : i + 4]
            i += 4
        else:
            raise ValueError("unsupported wire type")
        if i > n:
            raise ValueError("truncated field")
        yield field, wire, v


_DT = {1: ("<f", 4), 2: ("<d", 8), 3: ("<i", 4), 9: ("<q", 8)}


def _tensor_scalar(buf: bytes) -> float | None:
    """The single value of a scalar TensorProto (float, double, int32, int64, half), else None."""
    dtype = 0
    content = b""
    values: list[float] = []
    for f, w, v in _fields(buf):
        if f == 1 and w == 0:
            dtype = v
        elif f == 4 and w == 2:
            content = v
        elif f == 5 and w in (2, 5):  # float_val: packed, or one fixed32 (any other wire type is corrupt)
            values += struct.unpack(f"<{len(v) // 4}f", v[: len(v) // 4 * 4])
        elif f == 6 and w in (1, 2):  # double_val: one fixed64, or packed
            values += struct.unpack(f"<{len(v) // 8}d", v[: len(v) // 8 * 8])
        elif f in (7, 10, 13) and w == 0:  # int_val, int64_val, half_val (unpacked)
            values.append(float(v))
        elif f in (7, 10, 13) and w == 2:  # packed varints
            j = 0
            while j < len(v):
                x, j = _varint(v, j)
                values.append(float(x))
    if content:
        if dtype == 19 and len(content) == 2:  # half
            return float(struct.unpack("<e", content)[0])
        fmt = _DT.get(dtype)
        if fmt and len(content) == fmt[1]:
            return float(struct.unpack(fmt[0], content)[0])
        return None
    if dtype == 19 and len(values) == 1 and math.isfinite(values[0]):  # half_val holds the raw 16 bits
        return float(struct.unpack("<e", struct.pack("<H", int(values[0]) & 0xFFFF))[0])
    return float(values[0]) if len(values) == 1 else None


def _scalars(payload: bytes, prefix: str, out: dict[str, Points]) -> None:
    step = 0
    summary = None
    for f, w, v in _fields(payload):
        if f == 2 and w == 0:
            step = v - (1 << 64) if v >= 1 << 63 else v
        elif f == 5 and w == 2:
            summary = v
    if summary is None:
        return
    for f, w, v in _fields(summary):
        if f != 1 or w != 2:
            continue
        tag = None
        value = None
        for vf, vw, vv in _fields(v):
            if vf == 1 and vw == 2:
                tag = bytes(vv).decode("utf-8", errors="replace")
            elif vf == 2 and vw == 5:
                value = struct.unpack("<f", vv)[0]
            elif vf == 8 and vw == 2:
                value = _tensor_scalar(vv)
        if tag is not None and value is not None:
            _points(out, prefix + tag).add(step, float(value))  # a later value for a step wins


_HEAD_CRC: dict[bytes, int] = {}  # record lengths repeat: their CRC is computed once
# The event torch.utils.tensorboard and TF1 write for one scalar: wall_time, step, one summary value with a
# tag and a simple_value. Matched directly (lengths checked below); anything else goes through _scalars.
_FAST = re.compile(rb"\x09.{8}\x10([\x80-\xff]{0,9}[\x00-\x7f])\x2a([\x00-\x7f])\x0a([\x00-\x7f])\x0a([\x00-\x7f])", re.S)
_TAGS: dict[bytes, str] = {}


CHUNK = 4 * 2**20


def read_events(path: Path, prefix: str, out: dict[str, Points], warnings: list[ReaderWarning], *, strict: bool) -> int:
    """Add the scalars of one event file to ``out``; returns the number of records read.

    (Over 80 lines: one loop over the TFRecord framing in which each length, CRC and size check is a line on
    shared state, the position in the file and the chunk; pieces of it would pass that state back and forth.)

    The file is read in chunks (memory: a chunk, or one record when longer); a record longer than
    MAX_RECORD is skipped without reading it, and a length beyond the end of the file is a torn record.
    The common scalar event is decoded by one regular-expression match; anything else by _scalars."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    with fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise LossdocError("error.log_binary", path=str(path))
        n = st.st_size
        count, huge = 0, 0
        buf, base, pos = b"", 0, 0  # buf[pos] is byte base + pos of the file
        unpack_from = struct.unpack_from
        fast = _FAST.match
        tags = _TAGS
        adders: dict[bytes, tuple[Callable[[int], None], Callable[[float], None]]] = {}  # tag bytes -> its Points' appends
        head_crc = _HEAD_CRC
        while base + pos < n:
            if len(buf) - pos < 12:
                buf, base, pos = buf[pos:] + fh.read(CHUNK), base + pos, 0
                if len(buf) < 12:
                    warnings.append(ReaderWarning("warn.tb_torn", {"file": path.name}))
                    break
            length, hcrc = unpack_from("<QI", buf, pos)
            key = buf[pos : pos + 8]
            want = head_crc.get(key)
            if want is None:
                if len(head_crc) > 100_000:
                    head_crc.clear()
                want = head_crc[key] = masked_crc(key)
            if hcrc != want:
                if count == 0 and strict:
                    raise LossdocError("error.tb_corrupt", path=str(path), offset=base + pos)
                warnings.append(ReaderWarning("warn.tb_bad_records", {"count": 1, "file": path.name}))
                break
            total = 16 + length
            if base + pos + total > n:
                warnings.append(ReaderWarning("warn.tb_torn", {"file": path.name}))
                break
            if length > MAX_RECORD:
                huge += 1
                count += 1
                base, pos = base + pos + total, 0
                fh.seek(base)
                buf = b""
                continue
            if len(buf) - pos < total:
                buf, base, pos = buf[pos:] + fh.read(max(CHUNK, total)), base + pos, 0
                if len(buf) < total:
                    warnings.append(ReaderWarning("warn.tb_torn", {"file": path.name}))
                    break
            ps, pe = pos + 12, pos + 12 + length
            m = fast(buf, ps, pe)
            done = False
            if m is not None:
                g_step, g_sum, g_val, g_tag = m.groups()
                n_sum, n_val, n_tag = g_sum[0], g_val[0], g_tag[0]
                j = m.end()
                if n_val == n_tag + 7 and n_sum == n_val + 2 and pe == j + n_tag + 5 and buf[j + n_tag] == 0x15:
                    raw = buf[j : j + n_tag]
                    add = adders.get(raw)
                    if add is None:
                        tag = tags.get(raw)
                        if tag is None:
                            if len(tags) > 10_000:
                                tags.clear()
                            tag = tags[raw] = raw.decode("utf-8", errors="replace")
                        add = adders[raw] = _points(out, prefix + tag).appenders()
                    step, shift = 0, 0
                    for b in g_step:  # the step's varint: the pattern holds its bytes, the last below 0x80
                        step |= (b & 0x7F) << shift
                        shift += 7
                    if step >= 1 << 63:
                        step -= 1 << 64
                    add[0](step)
                    add[1](unpack_from("<f", buf, j + n_tag + 1)[0])
                    done = True
            if not done:
                try:
                    _scalars(buf[ps:pe], prefix, out)
                except (ValueError, IndexError, struct.error, OverflowError):
                    if count == 0 and strict:
                        raise LossdocError("error.tb_corrupt", path=str(path), offset=base + pos) from None
                    warnings.append(ReaderWarning("warn.tb_bad_records", {"count": 1, "file": path.name}))
            count += 1
            pos += total
    if huge:
        warnings.append(ReaderWarning("warn.tb_huge_records", {"count": huge, "limit_mb": MAX_RECORD // 2**20, "file": path.name}))
    return count


# ------------------------------------------------------------------ the reader


def detect(path: Path, head: str) -> bool:
    if _PATTERN in path.name:
        return True
    try:
        with open(path, "rb") as fh:
            return _header_ok(fh.read(12))
    except OSError:
        return False


MAX_DEPTH = 32  # folder levels searched below the log folder
MAX_ENTRIES = 100_000  # folder entries looked at, in all
MAX_RECORD = 2**20  # a longer record (an image, an audio clip, a histogram dump) is skipped unread: scalars are small


def _event_files(folder: Path, warnings: list[ReaderWarning] | None = None) -> list[Path]:
    """Event files below ``folder``: an iterative walk, at most MAX_DEPTH levels deep and MAX_ENTRIES entries,
    that never follows a symbolic link to a folder (a link to a regular file is read)."""
    files: list[Path] = []
    stack: list[tuple[str, int]] = [(str(folder), 0)]
    seen = 0
    too_deep = too_many = False
    while stack and not too_many:
        top, depth = stack.pop()
        try:
            with os.scandir(top) as it:
                for entry in it:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        too_many = True
                        break
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if depth + 1 > MAX_DEPTH:
                                too_deep = True
                            else:
                                stack.append((entry.path, depth + 1))
                        elif _PATTERN in entry.name and entry.is_file():
                            files.append(Path(entry.path))
                    except OSError:
                        continue
        except OSError:
            if depth == 0:
                raise
            continue
        if len(files) > MAX_FILES:
            break
    if warnings is not None:
        if too_deep:
            warnings.append(ReaderWarning("warn.folder_too_deep", {"limit": MAX_DEPTH, "path": str(folder)}))
        if too_many:
            warnings.append(ReaderWarning("warn.folder_too_many", {"limit": f"{MAX_ENTRIES:,}", "path": str(folder)}))
    files = files[: MAX_FILES + 1]
    return sorted(files, key=lambda p: (p.parent.relative_to(folder).parts, p.name))


def resolve(folder: Path) -> Path | None:
    try:
        return folder if _event_files(folder) else None
    except OSError:
        return None


def _all_scalars(path: Path, run: Run) -> tuple[dict[str, Points], int, Path]:
    """(every scalar series by tag, the records read, the folder the tags are relative to) of an event file or
    of every event file under a folder (a sub-folder's tags are prefixed with its path)."""
    scalars: dict[str, Points] = {}
    if not path.is_dir():
        return scalars, read_events(path, "", scalars, run.warnings, strict=True), path.parent
    files = _event_files(path, run.warnings)
    if not files:
        raise LossdocError("error.tb_no_events", path=str(path))
    total = 0
    for f in files:
        rel = f.parent.relative_to(path).as_posix()
        total += read_events(f, "" if rel == "." else rel + "/", scalars, run.warnings, strict=len(files) == 1)
    if total == 0:
        raise LossdocError("error.tb_corrupt", path=str(files[0]), offset=0)
    return scalars, total, path


def read(path: Path, *, train_tag: str | None = None, val_tag: str | None = None, **_: Any) -> Run:
    run = Run(source=str(path), format="tensorboard")
    scalars, total, root = _all_scalars(path, run)
    run.records_read = total
    tags = sorted(scalars)
    shown = _shown_tags(tags)

    def choose(option: str | None, flag: str, names: list[str], exclude: set[str]) -> str | None:
        if option:
            if option in scalars:
                return option
            hit = pick(tags, [norm_name(option)])
            if hit is None:
                raise LossdocError("error.tb_tag_missing", flag=flag, tag=option, path=str(path), tags=shown)
            return hit
        return pick([t for t in tags if t not in exclude], names)

    val_t = choose(val_tag, "--val-tag", VAL_NAMES, set())
    train_t = choose(train_tag, "--train-tag", TRAIN_NAMES, {val_t} if val_t else set())
    if train_t is None and val_t is None:
        folders = sorted({f.parent for f in _event_files(path)}) if path.is_dir() else []
        if len(folders) > 1:
            # a tree of several runs (a checkout, a sweep): no tag names a loss because each is a run's own; say so
            # in one short line instead of listing every run's tags
            raise LossdocError("error.tb_many_runs", path=str(path), count=len(folders), first=str(folders[0]))
        raise LossdocError("error.tb_no_loss_tags", path=str(path), tags=shown)

    lightning = (root / "hparams.yaml").is_file()
    shift = 1 if lightning else 0
    empty = (np.empty(0, dtype=np.int64), np.empty(0))
    tr_s, tr_v = scalars[train_t].arrays() if train_t else empty
    va_s, va_v = scalars[val_t].arrays() if val_t else empty
    ep_s, ep_v = scalars["epoch"].arrays() if lightning and "epoch" in scalars else empty
    lr_t = pick(tags, ["lr", "learning_rate", "train_learning_rate", "lr_adam", "lr_adamw", "lr_sgd", "lr_0"])
    gn_t = pick(tags, ["grad_norm", "train_grad_norm", "gradient_norm"])

    def at(series: tuple[np.ndarray, np.ndarray], steps: np.ndarray) -> np.ndarray:
        """The values of ``series`` at ``steps`` (NaN where it has none)."""
        s_, v_ = series
        if not s_.size or not steps.size:
            return np.full(steps.size, NAN)
        i = np.minimum(np.searchsorted(s_, steps), s_.size - 1)
        return np.where(s_[i] == steps, v_[i], NAN)

    if tr_s.size and va_s.size and np.array_equal(tr_s, va_s) and not lightning:
        # Per-epoch log (Keras): one row per logged step, no batches.
        zero_based = va_s[0] == 0
        if zero_based:
            run.warnings.append(ReaderWarning("warn.epochs_from_zero", {}))
        run.epochs = EpochSeries(
            va_s.astype(np.float64) + (1.0 if zero_based else 0.0), np.full(va_s.size, NAN), tr_v.copy(), va_v.copy(), np.full(va_s.size, NAN)
        )
    else:
        run.batches = BatchSeries(
            tr_s.astype(np.float64) + shift,
            at((ep_s, ep_v), tr_s) + 1.0,
            tr_v.copy(),
            at(scalars[lr_t].arrays(), tr_s) if lr_t else np.full(tr_s.size, NAN),
            at(scalars[gn_t].arrays(), tr_s) if gn_t else np.full(tr_s.size, NAN),
            np.full(tr_s.size, NAN),
        )
        first_train = tr_s.min() if tr_s.size else None
        init = (va_s == 0) & (first_train is None or first_train > 0) & (not lightning)  # measured before any update
        n = np.cumsum(~init).astype(np.float64)  # evaluations numbered 1, 2, ... after it
        ep = at((ep_s, ep_v), va_s) + 1.0 if lightning else n.copy()
        ep = np.where(np.isnan(ep), n, ep)
        ep[init] = 0.0
        step = va_s.astype(np.float64) + shift
        step[init] = 0.0
        run.epochs = EpochSeries(ep, step, np.full(va_s.size, NAN), va_v.copy(), np.full(va_s.size, NAN))
    if lightning:
        from lossdoc.runlog.neighbours import apply_hparams

        apply_hparams(run, root / "hparams.yaml")
    return finish(run, path, "error.tb_no_loss_tags", tags=shown)


SHOWN_TAGS = 8  # an error lists this many scalar tags, then how many more (a tree of runs can hold hundreds)


def _shown_tags(tags: list[str]) -> str:
    """The tags an error names: the first SHOWN_TAGS, then "... (N more)", so the error stays one readable line."""
    if not tags:
        return "-"
    head = ", ".join(tags[:SHOWN_TAGS])
    return head if len(tags) <= SHOWN_TAGS else f"{head}, ... ({len(tags) - SHOWN_TAGS} more)"
