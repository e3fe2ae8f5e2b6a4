"""What the readers of scale-out frameworks share (Megatron-LM, torchtitan, litgpt, fairseq, DeepSpeed, OLMo,
Composer): rank prefixes, colour codes, and a ``Collector`` that gathers batches, evaluations and the facts a
log prints, then builds the Run.

Several ranks often write to one console (``srun -l`` puts ``3: `` before a line, ``torchrun --tee`` puts
``[rank3]:`` or ``[default3]:``). Only one rank is read: the rank of the first loss line; loss lines of other
ranks are counted and a note says so.

Facts a log prints become header facts where the analysis uses them (``vocab_size``, ``batch_tokens``,
``pretrained``) with the line they came from, and ``run.config`` entries otherwise (``padded_vocab_size``,
``seq_length``, ``global_batch_size``, ``world_size``, ``loss_base``, ``skipped_steps``, ``loss_scale_min``), which
``explain --json`` does not show but the Notes do, in one line (``warn.scale_facts``).

Batches go to lossdoc's own bounded column store (lossdoc_jsonl._BatchColumns) a chunk at a time, as the generic
CSV and JSON Lines readers do: no Python object per row is kept, a step logged twice keeps its last row, and
beyond a million rows a systematic 1 in k is kept with ``warn.batches_sampled`` (docs/performance.md).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, as_float, epoch_series, finish, to_float, vocab_from
from lossdoc.runlog.readers.lossdoc_jsonl import MAX_BATCH_ROWS, _BatchColumns
from lossdoc.runlog.run import Event, ReaderWarning, Run

ANSI = re.compile(r"\x1b\[[0-9;]{0,20}[A-Za-z]")
# srun -l ("3: "), torchrun --tee ("[rank3]:", "[default3]:"), a launcher's "[1,3]<stdout>:"
RANK = re.compile(r"^\s{0,4}(?:\[(?:rank|default)(\d{1,6})\]:|(\d{1,6}):\s|\[1,(\d{1,6})\]<std(?:out|err)>:)")
_RANK_START = frozenset(" \t[0123456789")
LN2 = math.log(2.0)
CHUNK_ROWS = 65536  # batch rows handed to the column store at once
BATCH_CAP = MAX_BATCH_ROWS  # batch rows held at once; beyond, a systematic 1 in k


def strip(line: str) -> tuple[int | None, str]:
    """(the rank that printed the line, or None; the line without its rank prefix and colour codes)."""
    if "\x1b" in line:
        line = ANSI.sub("", line)
    first = line[:1]
    if first not in _RANK_START or (first == "[" and line[1:2] not in "rd1"):  # no rank prefix: skip the pattern
        return None, line
    m = RANK.match(line)
    if m is None:
        return None, line
    rank = m.group(1) or m.group(2) or m.group(3)
    return int(rank), line[m.end() :]


def or_nan(v: float | None) -> float:
    return math.nan if v is None else v


def num(text: str | None) -> float | None:
    """A number from the text a pattern matched (thousands commas allowed), or None."""
    if text is None:
        return None
    try:
        return float(text)  # what to_float gives for a number without commas, without its checks (the common case)
    except ValueError:
        return to_float(text.replace(",", ""))


class Collector:
    """Batches, evaluations, events and facts of one log, in log order; ``build`` makes the Run."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.run = Run(source=str(path), format=fmt)
        self.store = _BatchColumns(BATCH_CAP)
        self.chunk: list[list[float]] = []  # rows not yet in the store: [line, step, epoch, loss, lr, grad_norm, tokens]
        self.n_batches = 0  # batch rows read (with a loss that is a number)
        self.evals: dict[float, list[float]] = {}  # step -> [epoch, train_loss, val_loss]
        self.rank: int | None = None
        self.other_rank_lines = 0
        self.recognised = 0
        self.bad: list[int] = []
        self.restart_line: int | None = None
        self.last_step = -math.inf
        self.facts: dict[str, tuple[Any, int]] = {}  # name -> (value, line)
        self.loss_base = math.e
        self.skipped = 0.0  # fp16 steps skipped (overflow), summed over the log
        self.scale_min: tuple[float, float] | None = None  # (lowest loss scale, its step)
        self.nan_iterations = 0  # iterations the log says had a NaN or infinite loss (Megatron)

    # -- lines --------------------------------------------------------------------------------
    def mine(self, rank: int | None) -> bool:
        """Whether a loss line printed by ``rank`` is read: the first rank that printed one is."""
        if rank is None:
            return True
        if self.rank is None:
            self.rank = rank
        if rank != self.rank:
            self.other_rank_lines += 1
            return False
        return True

    def batch(
        self, step: float, loss: float | None, lineno: int, *, lr: float = NAN, grad_norm: float = NAN, epoch: float = NAN, count: bool = True
    ) -> None:
        """A batch row (``count``: it is a recognised line of its own; False for a row a reader built from lines it
        counted already). A step at or below one already read starts a restart (the warning names its line)."""
        if count:
            self.recognised += 1
        if loss is None:
            self.bad.append(lineno)
            return
        if step <= self.last_step:
            if self.restart_line is None:
                self.restart_line = lineno
        else:
            self.last_step = step
        if len(self.chunk) >= CHUNK_ROWS:  # the last row stays in the chunk: ``grad_norm`` may still set it
            self.flush()
        self.chunk.append([float(lineno), step, epoch, loss, lr, grad_norm, NAN])
        self.n_batches += 1

    def grad_norm(self, step: float, g: float) -> None:
        """The grad norm of the last batch row, printed on a line after its loss (OLMo)."""
        if self.chunk and self.chunk[-1][1] == step:
            self.chunk[-1][5] = g

    def batch_block(self, lines: np.ndarray, steps: np.ndarray, losses: np.ndarray) -> None:
        """Batch rows parsed as columns (the MLflow metric file): the store takes them as they are."""
        n = int(steps.size)
        if not n:
            return
        self.recognised += n
        before = np.maximum.accumulate(np.r_[self.last_step, steps])
        back = np.flatnonzero(steps <= before[:-1])
        if back.size and self.restart_line is None:
            self.restart_line = int(lines[back[0]])
        self.last_step = float(before[-1])
        self.flush()
        nan = np.full(n, np.nan)
        self.store.add((lines.astype(np.float64), np.vstack([steps, nan, losses, nan, nan, nan])), [])
        self.n_batches += n

    def flush(self) -> None:
        if self.chunk:
            self.store.add(None, [tuple(r) for r in self.chunk])
            self.chunk = []

    def val(self, step: float, loss: float | None, lineno: int, *, train: float = NAN, epoch: float = NAN) -> None:
        self.recognised += 1
        if loss is None:
            self.bad.append(lineno)
            return
        self.evals[step] = [epoch, train, loss]

    def fact(self, name: str, value: Any, lineno: int) -> None:
        """A fact the log prints; the first printing wins (later ranks print the same block again)."""
        if value is not None and name not in self.facts:
            self.facts[name] = (value, lineno)

    def loss_scale(self, scale: float | None, step: float) -> None:
        if scale is not None and math.isfinite(scale) and scale > 0 and (self.scale_min is None or scale < self.scale_min[0]):
            self.scale_min = (scale, step)

    def event(self, kind: str, step: float, message: str) -> None:
        self.run.events.append(Event(kind, step, message.strip()[:200]))

    # -- the Run --------------------------------------------------------------------------------
    def build(self, lines: Any, empty_key: str) -> Run:
        run = self.run
        lines.warn_long(run)
        if not self.n_batches and not self.evals:
            if lines.empty:
                raise LossdocError("error.log_empty", path=str(self.path))
            raise LossdocError(empty_key, path=str(self.path))
        if self.bad:
            run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(self.bad), "first": self.bad[0]}))
        self.flush()
        batches = self.store.series()
        if (sample := self.store.sampled()) is not None:
            run.warnings.append(ReaderWarning("warn.batches_sampled", {"kept": len(batches), **sample}))
        if self.restart_line is not None:
            run.warnings.append(ReaderWarning("warn.steps_restart", {"line": self.restart_line}))
        if self.other_rank_lines:
            run.warnings.append(ReaderWarning("warn.ranks_one_read", {"rank": self.rank, "count": self.other_rank_lines}))
        run.records_read = self.recognised
        run.records_skipped = len(self.bad)
        factor = 1.0
        if self.loss_base != math.e:
            factor = math.log(self.loss_base)
            run.config["loss_base"] = self.loss_base
            run.warnings.append(ReaderWarning("warn.loss_base2", {"factor": round(factor, 6)}))
        if factor != 1.0:
            batches.loss *= factor
        run.batches = batches
        evals = []
        n = 0
        for step in sorted(self.evals):
            ep, tr, va = self.evals[step]
            if not math.isfinite(ep):
                if step == 0:
                    ep = 0.0
                else:
                    n += 1
                    ep = float(n)
            evals.append((ep, as_float(step), tr * factor, va * factor, NAN))
        run.epochs = epoch_series(evals)
        self._facts()
        return finish(run, self.path, empty_key)

    def _facts(self) -> None:
        run, f = self.run, self.facts
        where = "where.line"
        if "vocab_size" in f:
            v, line = f["vocab_size"]
            v = vocab_from(v)
            if v is not None:
                run.set_fact("vocab_size", v, "log", where, line=line)
        elif "padded_vocab_size" in f:  # only the padded size printed: the real V is at most that
            run.config["vocab_size_unknown_padded"] = f["padded_vocab_size"][0]
        if "pretrained" in f:
            value, line = f["pretrained"]
            run.set_fact("pretrained", bool(value), "log", where, line=line)
        if "batch_tokens" in f:
            value, line = f["batch_tokens"]
            if 0 < value < 1e13:
                run.set_fact("batch_tokens", float(value), "log", where, line=line)
        elif "global_batch_size" in f and "seq_length" in f:
            (b, lb), (s, ls) = f["global_batch_size"], f["seq_length"]
            if 0 < b * s < 1e13:
                run.set_fact("batch_tokens", float(b * s), "log", "where.batch_times_seq", batch=int(b), seq=int(s), lines=f"{lb}, {ls}")
        if "dropout" in f:
            d, line = f["dropout"]
            if 0.0 <= d <= 1.0:
                run.set_fact("dropout", float(d), "log", where, line=line)
        for name in ("padded_vocab_size", "seq_length", "global_batch_size", "micro_batch_size", "world_size", "grad_accum"):
            if name in f:
                run.config[name] = f[name][0]
        if self.skipped:
            run.config["skipped_steps"] = int(self.skipped)
        if self.nan_iterations:
            run.config["nan_iterations"] = self.nan_iterations
        if self.scale_min is not None:
            run.config["loss_scale_min"] = self.scale_min[0]
            run.config["loss_scale_min_step"] = int(self.scale_min[1])
            if self.scale_min[0] <= 1.0 and self.skipped:  # a scale of 1 with no step skipped is bf16's (no scaling)
                run.warnings.append(ReaderWarning("warn.loss_scale_collapse", {"scale": self.scale_min[0], "step": int(self.scale_min[1])}))
        parts = [f"{name}={_show(run.config[name])}" for name in SHOWN if name in run.config]
        if parts:
            run.warnings.append(ReaderWarning("warn.scale_facts", {"facts": ", ".join(parts)}))


SHOWN = (
    "seq_length",
    "global_batch_size",
    "micro_batch_size",
    "grad_accum",
    "world_size",
    "padded_vocab_size",
    "loss_base",
    "skipped_steps",
    "nan_iterations",
    "loss_scale_min",
)


def _show(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{int(v)}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def int_or_none(text: str | None) -> int | None:
    v = num(text)
    if v is None or not math.isfinite(v) or v != int(v) or v < 0:
        return None
    return int(v)
