"""Reader for the seed script's console output, pasted into a file (Chinese or English).

The lines it prints (anything around them is ignored: timestamps, logging
prefixes, progress-bar debris, CRLF or lone CR line ends):

    Epoch X, Batch Y/Z, Loss: 9.xxxx          -> a batch at step (X-1)*Z + Y
    训练损失: 9.xxxx   | Train Loss: 9.xxxx     -> the epoch's mean training loss
    验证损失: 9.xxxx   | Val Loss: 9.xxxx       -> the epoch's validation loss
    最佳验证损失: 9.xxxx | Best Val Loss: ...    -> checked against the lowest validation loss so far
    检查点已保存       | Checkpoint saved       -> event checkpoint_saved
    最佳模型已保存     | Best model saved       -> event best_saved

Steps count optimizer updates: the loss printed for batch Y of epoch X is the
loss computed before that batch's update, so the first batch's loss is the
loss at initialisation. Batch numbers counted from 0 (a 0 appears) are
shifted by one; epochs counted from 0 likewise, so epoch 0 never means
"after training" here (the seed counts from 1). The log does not carry the
vocabulary size: pass --vocab-size (and --random for the seed's dummy data).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossdoc import floors
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import FLOAT, NAN, TextLines, as_float, batch_series, epoch_series, finish, to_float, to_int, vocab_from
from lossdoc.runlog.run import Event, ReaderWarning, Run

_SEP = r"\s*[:：=]\s*"
# Each optional piece carries its own trailing spaces, so no two quantifiers can split the same run of
# spaces between them: every pattern is linear on any line (tests/runlog/readers/test_hostile.py).
_SP_BRACKET_OPEN = r"\s*(?:\[\s*)?"  # spaces, then "[" and spaces, optionally
_SP_CLOSE_COMMA = r"\s*(?:\]\s*)?(?:[,，]\s*)?"  # spaces, then "]" and spaces, then "," and spaces, each optional
_BATCH = re.compile(
    r"Epoch"
    + _SP_BRACKET_OPEN
    + r"(\d+)(?:\s*/\s*\d+)?"
    + _SP_CLOSE_COMMA
    + r"Batch"
    + _SP_BRACKET_OPEN
    + r"(\d+)(?:\s*/\s*(\d+))?"
    + _SP_CLOSE_COMMA
    + r"Loss"
    + _SEP
    + "("
    + FLOAT
    + ")?",
    re.IGNORECASE,
)
_EPOCH_HDR = re.compile(r"(?:^|[^A-Za-z])Epoch" + _SP_BRACKET_OPEN + r"(\d+)\s*(?:/\s*(\d+))?", re.IGNORECASE)
_EPOCH_ZH = re.compile(r"第\s*(\d+)\s*(?:/\s*\d+\s*)?(?:个\s*)?(?:轮|epoch)", re.IGNORECASE)
# Best first: "最佳验证损失" contains "验证损失", "Best Val Loss" contains "Val Loss".
_BEST = re.compile(r"(?:最佳验证损失|best\s+val(?:idation)?\s*loss)" + _SEP + "(" + FLOAT + ")?", re.IGNORECASE)
_VAL = re.compile(r"(?<!最佳)(?:验证损失|(?<![A-Za-z])(?<!best )val(?:idation)?\s*loss)" + _SEP + "(" + FLOAT + ")?", re.IGNORECASE)
_TRAIN = re.compile(r"(?:训练损失|(?<![A-Za-z])train(?:ing)?\s*loss)" + _SEP + "(" + FLOAT + ")?", re.IGNORECASE)
# The seed script's dummy data: torch.randint(1, vocab_size, ...) with vocab_size 10000 unless changed.
_DUMMY = re.compile(r"创建虚拟数据集|Creating dummy dataset|Creating a dummy dataset|Creating random dataset", re.IGNORECASE)
# "vocab_size: 10000", "词表大小：10000", and as a command line or a summary gives it: "--vocab-size 32000", "Vocabulary: 32000"
_VOCAB = re.compile(
    r"(?:词汇表大小|词表大小|vocab(?:ulary)?[ _\-]?size|(?<![\w-])vocabulary(?=\s{0,3}[:：=]))\s{0,3}[:：= ]\s{0,3}([\d,]{1,12})(?![\d.])",
    re.IGNORECASE,
)
_PARAMS = re.compile(r"(?:模型参数量|参数量|(?:total |model )?parameters)\s{0,3}[:：]\s{0,3}([\d,]{1,15})", re.IGNORECASE)
SEED_VOCAB = 10000  # the seed script's default vocab_size
SEED_LOW = 1  # its dummy ids: torch.randint(1, vocab_size)
_CKPT = re.compile(r"检查点已保存|checkpoint\s+saved", re.IGNORECASE)
_BEST_SAVED = re.compile(r"最佳模型已保存|best\s+model\s+saved", re.IGNORECASE)

_DETECT = [
    _BATCH,  # "Epoch X, Batch Y/Z, Loss: L" with the seed's "Loss:" ("Epoch 1, Batch 7, loss 3.2" is a console log)
    re.compile(r"(?:训练损失|验证损失|最佳验证损失)\s*[:：]"),
    re.compile(r"(?:^|\n)[ \t]{0,8}(?:Train Loss|Val Loss|Best Val Loss)[ \t]{0,3}:"),
]


# A line that names a loss next to a step or a batch ("第 3 轮 第 120 步 训练损失: 3.2", "step 5 训练损失: 3.2") is not
# the seed's: its 训练损失/验证损失 lines are epoch summaries. Such a log is the console reader's (console.zh_to_en).
_STEP_AND_LOSS = re.compile(r"(?:步|批|迭代|(?<![A-Za-z])(?:step|iter|batch)(?![A-Za-z])).{0,200}?损失|损失.{0,200}?(?:步|批|迭代)", re.IGNORECASE)


def detect(path: Path, head: str) -> bool:
    if _DETECT[0].search(head) or _DETECT[2].search(head):
        return True
    return bool(_DETECT[1].search(head)) and not any(_STEP_AND_LOSS.search(line) for line in head.splitlines())


def resolve(folder: Path) -> Path | None:
    return None


@dataclass
class _Scan:
    """What one pass over the lines found, in the order printed."""

    batches: list[tuple[int, int, int | None, float, int]] = field(default_factory=list)  # (epoch, batch, of, loss, line)
    summaries: list[dict[str, Any]] = field(default_factory=list)  # one per printed epoch summary: epoch, train, val, line
    bests: list[tuple[float, int, int]] = field(default_factory=list)  # (logged best, line, index of summaries so far)
    events: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, summary index, message)
    bad_numbers: list[int] = field(default_factory=list)  # lines whose number could not be read
    recognised: int = 0
    dummy_line: int | None = None
    epoch_ctx: int | None = None  # the epoch of the last "Epoch" line

    def summary_for(self, epoch: int | None, field_name: str) -> dict[str, Any]:
        """A new epoch summary starts when the epoch changes or this field is already filled."""
        if self.summaries:
            last = self.summaries[-1]
            if last["epoch"] == epoch and last[field_name] is None:
                return last
        s = {"epoch": epoch, "train": None, "val": None, "line": 0}
        self.summaries.append(s)
        return s


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    run = Run(source=str(path), format="seed-console")
    scan = _Scan()
    for lineno, piece in lines:
        if piece:
            _scan_line(scan, run, lineno, piece)
    lines.warn_long(run)
    if not scan.batches and not any(s["train"] is not None or s["val"] is not None for s in scan.summaries):
        if lines.empty:
            raise LossdocError("error.log_empty", path=str(path))
        raise LossdocError("error.seed_no_lines", path=str(path))
    if scan.bad_numbers:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(scan.bad_numbers), "first": scan.bad_numbers[0]}))
    run.records_read = scan.recognised
    run.records_skipped = len(scan.bad_numbers)

    # Epochs counted from 0 by the script: number them from 1 (epoch 0 means "before any update").
    epochs_seen = [b[0] for b in scan.batches] + [s["epoch"] for s in scan.summaries if s["epoch"] is not None]
    shift_ep = 1 if epochs_seen and min(epochs_seen) == 0 else 0
    if shift_ep:
        run.warnings.append(ReaderWarning("warn.epochs_from_zero", {}))
    offsets, per_epoch = _place_batches(run, scan, shift_ep)
    _epoch_rows(run, scan, offsets, per_epoch, shift_ep)
    for kind, idx, message in scan.events:
        # A save is printed after its epoch's summary: it belongs to the summary before it.
        step = scan.summaries[idx - 1]["step_out"] if idx > 0 else NAN
        run.events.append(Event(kind, step, message))
    # The log's own "best" against the validation losses read so far.
    for logged, lineno, idx in scan.bests:
        vals = [s["val"] for s in scan.summaries[:idx] if s["val"] is not None and not math.isnan(s["val"])]
        if vals and abs(min(vals) - logged) > 5e-5 + 1e-9:
            run.warnings.append(ReaderWarning("warn.best_mismatch", {"logged": f"{logged:.4f}", "line": lineno, "computed": f"{min(vals):.4f}"}))
            break
    if scan.dummy_line is not None:
        _dummy_facts(run, scan.dummy_line)
    return finish(run, path, "error.seed_no_lines")


def _scan_line(scan: _Scan, run: Run, lineno: int, piece: str) -> None:
    """One line: a batch, or epoch summaries, the facts printed before training, a save."""
    m = _BATCH.search(piece)
    if m:
        scan.recognised += 1
        ep, b = to_int(m.group(1)), to_int(m.group(2))
        of = to_int(m.group(3)) if m.group(3) else None
        loss = to_float(m.group(4)) if m.group(4) else None
        scan.epoch_ctx = ep
        if loss is None:
            scan.bad_numbers.append(lineno)
        else:
            scan.batches.append((ep, b, of, loss, lineno))
        return
    h = _EPOCH_HDR.search(piece) or _EPOCH_ZH.search(piece)
    if h:
        scan.epoch_ctx = to_int(h.group(1))
    for rx, name in ((_BEST, "best"), (_TRAIN, "train"), (_VAL, "val")):
        for mm in rx.finditer(piece):
            scan.recognised += 1
            value = to_float(mm.group(1)) if mm.group(1) else None
            if value is None:
                scan.bad_numbers.append(lineno)
            elif name == "best":
                scan.bests.append((value, lineno, len(scan.summaries)))
            else:
                s = scan.summary_for(scan.epoch_ctx, name)
                s[name] = value
                s["line"] = lineno
    if not scan.batches and not scan.summaries:
        if _DUMMY.search(piece):
            scan.dummy_line = lineno
        elif (mv := _VOCAB.search(piece)) and (v := vocab_from(to_float(mv.group(1).replace(",", "")))) is not None:
            run.set_fact("vocab_size", v, "log", "where.line", line=lineno)
        elif mp := _PARAMS.search(piece):
            n_params = to_float(mp.group(1).replace(",", ""))
            if n_params is not None and 0 < n_params < 1e13:
                run.model["params"] = n_params
    if _BEST_SAVED.search(piece):
        scan.recognised += 1
        scan.events.append(("best_saved", len(scan.summaries), piece.strip()))
    elif _CKPT.search(piece):
        scan.recognised += 1
        scan.events.append(("checkpoint_saved", len(scan.summaries), piece.strip()))


def _place_batches(run: Run, scan: _Scan, shift_ep: int) -> tuple[dict[int, int], dict[int, int]]:
    """Steps for the batches: (X-1)*Z + Y, with Z as printed (Y/Z), else the highest batch number seen in
    that epoch. Returns (steps before each epoch, batches per epoch)."""
    zero_based_batch = any(b[1] == 0 for b in scan.batches)
    per_epoch: dict[int, int] = {}
    for ep, b, of, _, _ in scan.batches:
        n = of if of else b + (1 if zero_based_batch else 0)
        per_epoch[ep] = max(per_epoch.get(ep, 0), n)
    if any(of is None for _, _, of, _, _ in scan.batches):
        run.warnings.append(ReaderWarning("warn.steps_estimated", {}))
    offsets: dict[int, int] = {}
    acc = 0
    for ep in sorted(set(per_epoch) | {s["epoch"] for s in scan.summaries if s["epoch"] is not None}):
        offsets[ep] = acc
        acc += per_epoch.get(ep, 0)
    rows: dict[int, tuple[float, float, float, float, float]] = {}
    last_step: float = -math.inf
    restart_line = None
    for ep, b, _of, loss, lineno in scan.batches:
        step = offsets[ep] + b + (1 if zero_based_batch else 0)
        if step <= last_step and restart_line is None:
            restart_line = lineno
        last_step = step
        rows[step] = (as_float(ep + shift_ep), loss, NAN, NAN, NAN)
    if restart_line is not None:
        run.warnings.append(ReaderWarning("warn.steps_restart", {"line": restart_line}))
    run.batches = batch_series(rows)
    return offsets, per_epoch


def _epoch_rows(run: Run, scan: _Scan, offsets: dict[int, int], per_epoch: dict[int, int], shift_ep: int) -> None:
    """Epoch rows: the epoch as the script counts it (a summary before any "Epoch" line is numbered in order)."""
    erows = []
    seen_eps: set[int] = set()
    for s in scan.summaries:
        ep = s["epoch"]
        if ep is None:
            ep = (max(seen_eps) + 1) if seen_eps else 1
        seen_eps.add(ep)
        step = as_float(offsets[ep] + per_epoch[ep]) if ep in per_epoch else NAN
        s["epoch_out"] = ep + shift_ep
        s["step_out"] = step
        tr = NAN if s["train"] is None else s["train"]
        va = NAN if s["val"] is None else s["val"]
        erows.append((as_float(ep + shift_ep), step, tr, va, NAN))
    run.epochs = epoch_series(erows)


def _dummy_facts(run: Run, line: int) -> None:
    """The seed script's dummy data: uniformly random ids in [1, V), V = 10000 unless the log says otherwise."""
    if run.vocab_size is None:
        run.set_fact("vocab_size", SEED_VOCAB, "default", "where.seed_vocab")
    v = run.vocab_size if run.vocab_size is not None else SEED_VOCAB
    run.set_fact("random_data", True, "log", "where.line", line=line)
    run.set_fact("random_low", SEED_LOW, "default", "where.seed_low")
    if v - SEED_LOW >= 2:
        run.set_fact("entropy_floor", floors.dummy_floor(SEED_LOW, v), "inferred", "where.random_floor", low=SEED_LOW)
        run.floor_source = "random"
    run.set_fact("pretrained", False, "inferred", "where.random_data")
