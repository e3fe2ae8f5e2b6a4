"""Reader for nanoGPT-style text logs (what karpathy/nanoGPT's train.py prints).

    iter N: loss X, time 12.34ms, mfu 5.67%    -> a batch: the loss of iteration N, computed before
                                                  its update, so step N + 1 (updates done with it)
    step N: train loss X, val loss Y           -> an evaluation after N updates: step N, epoch row

nanoGPT evaluates at iteration 0 before any update: that row becomes epoch 0.
Later evaluations are numbered 1, 2, ... in the epoch column (nanoGPT has no
epochs). Everything else (config dumps, "saving checkpoint to ...") is
ignored, except checkpoint saves, which become events.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import FLOAT, NAN, TextLines, as_float, batch_series, epoch_series, finish, to_float, to_int, vocab_from
from lossdoc.runlog.run import Event, ReaderWarning, Run

_ITER = re.compile(r"(?:^|[\s\]|>])iter\s+(\d+)\s*:\s*loss\s+(" + FLOAT + r"|\S*)", re.IGNORECASE)
_EVAL = re.compile(
    r"(?:^|[\s\]|>])step\s+(\d+)\s*:\s*train\s+loss\s+(?:(" + FLOAT + r"|\S+?)\s*)?,\s*val\s+loss\s+(" + FLOAT + r"|\S*)", re.IGNORECASE
)
_CKPT = re.compile(r"saving checkpoint to", re.IGNORECASE)
# Facts nanoGPT prints before training (train.py and its config dump).
# train.py: "found vocab_size = N (inside data/.../meta.pkl)" or "defaulting to vocab_size of GPT-2 to 50304 (...)";
# model.py GPT.from_pretrained: "forcing vocab_size=50257, block_size=1024, bias=True" (a GPT-2 checkpoint's vocabulary)
_VOCAB = re.compile(
    r"found vocab_size = (\d{1,10}) \(inside ([^)]{0,200})\)|defaulting to vocab_size of GPT-2 to (\d{1,10})|forcing vocab_size\s{0,3}=\s{0,3}(\d{1,10})",
    re.IGNORECASE,
)
_SCRATCH = re.compile(r"Initializing a new model from scratch")
_PRETRAINED = re.compile(r"Initializing from OpenAI GPT-2 weights: ?(\S{0,40})")
# A setting as the config file echoes it (configurator.py prints the file: "init_from = 'gpt2'", "dropout = 0.2  # ...")
# or as a command-line override prints it ("Overriding: dropout = 0.0"); from_pretrained prints "overriding dropout
# rate to 0.1". Each is read in the order printed, so the last assignment wins, as it does in the script.
_INIT_FROM = re.compile(r"""^\s{0,8}(?:Overriding:\s{0,3})?init_from\s{0,3}=\s{0,3}['"]?([\w-]{1,40})['"]?\s{0,8}(?:#.{0,400})?$""")
_DROPOUT = re.compile(
    r"^\s{0,8}(?:Overriding:\s{0,3})?dropout\s{0,3}=\s{0,3}(" + FLOAT + r")\s{0,8}(?:#.{0,400})?$|overriding dropout rate to (" + FLOAT + ")"
)
_TOKENS = re.compile(r"tokens per iteration will be: ([\d,]{1,20})")
_PARAMS = re.compile(r"number of parameters: (" + FLOAT + r")M")
_DETECT = re.compile(r"(?:^|[\s\]|>])(?:iter\s+\d+\s*:\s*loss\s|step\s+\d+\s*:\s*train\s+loss\s)", re.IGNORECASE)


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def _fact_line(run: Run, line: str, lineno: int) -> None:
    """Vocabulary, start, dropout and tokens per step from the lines nanoGPT prints before training."""
    where = "where.line"
    if m := _VOCAB.search(line):
        v = vocab_from(to_float(m.group(1) or m.group(3) or m.group(4)))
        if v is not None:
            run.set_fact("vocab_size", v, "log", where, line=lineno)
    elif _SCRATCH.search(line):
        run.set_fact("pretrained", False, "log", where, line=lineno)
    elif m := _PRETRAINED.search(line):
        run.set_fact("pretrained", True, "log", where, line=lineno)
    elif m := _INIT_FROM.match(line):
        start = m.group(1).lower()
        if start.startswith("gpt2"):
            run.set_fact("pretrained", True, "log", where, line=lineno)
        elif start == "scratch":
            run.set_fact("pretrained", False, "log", where, line=lineno)
    elif m := _DROPOUT.search(line):
        d = to_float(m.group(1) or m.group(2))
        if d is not None and 0.0 <= d <= 1.0:
            run.set_fact("dropout", d, "log", where, line=lineno)
    elif m := _TOKENS.search(line):
        t = to_float(m.group(1).replace(",", ""))
        if t is not None and 0 < t < 1e12:
            run.set_fact("batch_tokens", t, "log", where, line=lineno)
    elif m := _PARAMS.search(line):
        p = to_float(m.group(1))
        if p is not None and 0 < p < 1e9:
            run.model["params"] = p * 1e6


def resolve(folder: Path) -> Path | None:
    return None


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    run = Run(source=str(path), format="nanogpt")
    batches: dict[int, tuple[float, float, float, float, float]] = {}
    evals: dict[int, tuple[float, float]] = {}
    bad: list[int] = []
    dup = 0
    restart_line = None
    last_iter = -1
    recognised = 0
    last_eval_step = NAN
    for lineno, line in lines:
        m = _ITER.search(line)
        if m:
            recognised += 1
            it = to_int(m.group(1))
            loss = to_float(m.group(2))
            if loss is None:
                bad.append(lineno)
                continue
            if it <= last_iter and restart_line is None:
                restart_line = lineno
            last_iter = it
            step = it + 1
            dup += step in batches
            batches[step] = (NAN, loss, NAN, NAN, NAN)
            continue
        m = _EVAL.search(line)
        if m:
            recognised += 1
            step = to_int(m.group(1))
            tr, va = to_float(m.group(2)), to_float(m.group(3))
            if tr is None and va is None:
                bad.append(lineno)
                continue
            if tr is None or va is None:
                bad.append(lineno)
            dup += step in evals
            evals[step] = (NAN if tr is None else tr, NAN if va is None else va)
            last_eval_step = as_float(step)
            continue
        if _CKPT.search(line):
            run.events.append(Event("checkpoint_saved", last_eval_step, line.strip()))
        elif not batches and not evals:
            _fact_line(run, line, lineno)
    lines.warn_long(run)
    if not batches and not evals:
        if lines.empty:
            raise LossdocError("error.log_empty", path=str(path))
        raise LossdocError("error.nanogpt_no_lines", path=str(path))
    if bad:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(bad), "first": bad[0]}))
    if restart_line is not None:
        run.warnings.append(ReaderWarning("warn.steps_restart", {"line": restart_line}))
    elif dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))
    run.records_read = recognised
    run.records_skipped = len(bad)
    run.batches = batch_series(batches)
    rows = []
    n = 0
    for step in sorted(evals):
        tr, va = evals[step]
        if step == 0:
            ep = 0.0
        else:
            n += 1
            ep = float(n)
        rows.append((ep, as_float(step), tr, va, NAN))
    run.epochs = epoch_series(rows)
    return finish(run, path, "error.nanogpt_no_lines")
