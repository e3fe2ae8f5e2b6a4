"""Reader for DeepSpeed consoles (deepspeed/runtime/engine.py ``DeepSpeedEngine._report_progress`` through
deepspeed/utils/logging.py ``log_dist``; deepspeed/runtime/fp16/loss_scaler.py ``DynamicLossScaler.update_scale``;
deepspeed/runtime/config.py ``DeepSpeedConfig.print``).

    [2024-05-01 12:00:00,000] [INFO] [logging.py:96:log_dist] [Rank 0] step=10, skipped=2, lr=[9.9e-05],
        mom=[(0.9, 0.999)], loss=7.1234              -> a batch at step 10 (the loss where the line has one)
    [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768
        -> an fp16 overflow: a skipped step and the loss scale after it
    [INFO] [config.py:1000:print]   train_batch_size ............. 32     -> the facts: train_batch_size,
        train_micro_batch_size_per_gpu, gradient_accumulation_steps, world_size

DeepSpeed's own ``step=`` line has no loss; training scripts add it (``loss=``), or print it on a line of their
own with the step (``step 10 loss 7.12``, ``Step: 10 ... loss = 7.12``), which is read too when the log holds
DeepSpeed's lines. ``skipped=`` counts skipped steps since the start: its last value is the total.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, or_nan, strip
from lossdoc.runlog.run import Run

_STEP = re.compile(r"\[Rank (\d{1,6})\] step=(\d{1,12}), skipped=(\d{1,12}), lr=\[?(" + FLOAT + r")?[^\]]{0,200}\]?(.{0,600})")
_LOSS = re.compile(r"(?<![A-Za-z_])loss\s{0,2}[=:]\s{0,2}(" + FLOAT + r"|\S{1,20})")
_OWN = re.compile(r"(?<![A-Za-z_])[Ss]tep[\s:=]{1,4}(\d{1,12})\b.{0,200}?(?<![A-Za-z_])[Ll]oss\s{0,2}[=:]?\s{0,2}(" + FLOAT + r")")
_OVERFLOW = re.compile(r"OVERFLOW! Rank (\d{1,6}) Skipping step\. Attempted loss scale: (" + FLOAT + r"), reducing to (" + FLOAT + r")")
_CONFIG = re.compile(
    r"^.{0,120}?\s{1,8}(train_batch_size|train_micro_batch_size_per_gpu|gradient_accumulation_steps|world_size)\s{1,2}\.{0,60}\s{1,2}(\d{1,12})\s*$"
)
_SEQ = re.compile(r"""(?:--|['"])?\b(seq_length|max_seq_len|max_seq_length|block_size)['"]?\s{0,2}[:= ]\s{0,2}(\d{1,9})\b""")
_DETECT = re.compile(r"\[Rank \d{1,6}\] step=\d{1,12}, skipped=\d{1,12}|\[deepspeed\] OVERFLOW!|DeepSpeedEngine configuration:")
_NAMES = {"train_batch_size": "global_batch_size", "train_micro_batch_size_per_gpu": "micro_batch_size", "gradient_accumulation_steps": "grad_accum"}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def _console(path: Path, c: Collector) -> Run:
    """No DeepSpeed loss line: the losses are on lines another framework printed (the Hugging Face Trainer's
    ``{'loss': ...}`` dicts with DeepSpeed underneath, a home-made console). The console reader reads them; the
    DeepSpeed facts (skipped steps, loss scale, batch) are added, and the refusal, if any, is DeepSpeed's."""
    from lossdoc.runlog.readers import console

    try:
        run = console.read(path)
    except LossdocError:
        raise LossdocError("error.deepspeed_no_lines", path=str(path)) from None
    c.run.batches, c.run.epochs = run.batches, run.epochs
    c.run.warnings.extend(run.warnings)
    c.run.events.extend(run.events)
    c.run.records_read, c.run.records_skipped = run.records_read, run.records_skipped
    c.run.config["console_format"] = "console"
    c._facts()
    return c.run


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "deepspeed")
    skipped_total = 0.0
    last_step = 0.0
    own: dict[float, tuple[float | None, int]] = {}
    for lineno, raw in lines:
        rank, line = strip(raw)
        m = _STEP.search(line)
        if m:
            if not c.mine(int(m.group(1)) if rank is None else rank):
                continue
            step = float(m.group(2))
            last_step = step
            skipped_total = max(skipped_total, float(m.group(3)))
            lm = _LOSS.search(m.group(5))
            if lm:
                c.batch(step, to_float(lm.group(1)), lineno, lr=or_nan(num(m.group(4))))
            continue
        m = _OVERFLOW.search(line)
        if m:
            if c.mine(int(m.group(1)) if rank is None else rank):
                c.loss_scale(to_float(m.group(3)), last_step + 1)
                c.event("loss_scale_overflow", last_step + 1, line)
            continue
        m = _CONFIG.match(line)
        if m:
            c.fact(_NAMES.get(m.group(1), m.group(1)), int_or_none(m.group(2)), lineno)
            continue
        m = _OWN.search(line)
        if m:
            if c.mine(rank):
                own[float(m.group(1))] = (to_float(m.group(2)), lineno)
            continue
        for _name, value in _SEQ.findall(line):
            c.fact("seq_length", int_or_none(value), lineno)
    if not c.n_batches:  # the script printed its losses on lines of their own
        for step, (loss, lineno) in own.items():
            c.batch(step, loss, lineno)
    c.skipped = skipped_total
    if not c.n_batches and not c.evals:
        return _console(path, c)
    if "global_batch_size" in c.facts and "micro_batch_size" in c.facts and "grad_accum" in c.facts and "world_size" not in c.facts:
        (g, gline), m_, a = c.facts["global_batch_size"], c.facts["micro_batch_size"][0], c.facts["grad_accum"][0]
        if g and m_ and a and g % (m_ * a) == 0:  # train_batch_size = micro x accumulation x data-parallel ranks
            c.fact("world_size", g // (m_ * a), gline)
    return c.build(lines, "error.deepspeed_no_lines")
