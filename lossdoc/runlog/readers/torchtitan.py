"""Reader for torchtitan consoles (torchtitan/components/metrics.py ``MetricsProcessor.log`` and
``log_validation``; torchtitan/train.py).

    [rank0]:[titan] 2025-01-01 12:00:00,000 - root - INFO - step: 10  loss:  9.8765  grad_norm:  1.2345
        memory: 12.34GiB(15.60%)  tps: 12,345  tflops: 98.76  mfu: 9.99%      -> a batch at step 10
    validate step: 100  loss:  3.1234  ...                                   -> an evaluation at step 100
    Building llama3 debugmodel with TransformerModelArgs(..., vocab_size=2000, ..., max_seq_len=2048, ...)
    Training starts at step 1, with local batch size 8, global batch size 64, gradient accumulation steps 1,
        sequence length 2048, total steps 100 (warmup 10)                  -> V, batch and sequence length

Colour codes and rank prefixes are removed before reading; one rank is read.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, or_nan, strip
from lossdoc.runlog.run import Run

_STEP = re.compile(r"(?<![A-Za-z_])step:\s{0,12}(\d{1,12})\s{1,12}loss:\s{0,12}(" + FLOAT + r"|\S{1,20})(.{0,600})")
_VAL = re.compile(r"(?:validate step:|evaluation:\s{1,12}step:)\s{0,12}(\d{1,12})\s{1,12}loss:\s{0,12}(" + FLOAT + r"|\S{1,20})")
_GRAD = re.compile(r"grad_norm:\s{0,12}(" + FLOAT + ")")
_MODEL = re.compile(r"Building \S{1,40} \S{1,40} with \w{0,40}ModelArgs\((.{0,4000})\)")
_KV = re.compile(r"\b(vocab_size|max_seq_len|dropout)=(" + FLOAT + ")")
_STARTS = re.compile(r"Training starts at step (\d{1,12})(.{0,400})")
_LOCAL = re.compile(r"local batch size (\d{1,9})")
_GLOBAL = re.compile(r"global batch size (\d{1,9})")
_SEQ = re.compile(r"sequence length (\d{1,9})")
_ACCUM = re.compile(r"gradient accumulation steps (\d{1,9})")
_MESH = re.compile(r"Building \d-D device mesh with \[[^\]]{0,200}\], \[([\d, ]{1,100})\]")
_LOAD = re.compile(r"Loading the checkpoint (?:from|at) (.{0,300})")
_DETECT = re.compile(r"\[titan\]|(?<![A-Za-z_])step:\s{0,12}\d{1,12}\s{1,12}loss:\s{0,12}\S{1,20}\s{1,12}(?:grad_norm|memory|local loss):")


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "torchtitan")
    for lineno, raw in lines:
        rank, line = strip(raw)
        m = _VAL.search(line) if ("validate" in line or "evaluation:" in line) else None
        if m:
            if c.mine(rank):
                c.val(float(m.group(1)), to_float(m.group(2)), lineno)
            continue
        m = _STEP.search(line)
        if m:
            if c.mine(rank):
                g = _GRAD.search(m.group(3))
                c.batch(float(m.group(1)), num(m.group(2)), lineno, grad_norm=or_nan(num(g.group(1)) if g else None))
            continue
        if m := _MODEL.search(line):
            for k, v in _KV.findall(m.group(1)):
                name = {"vocab_size": "vocab_size", "max_seq_len": "seq_length", "dropout": "dropout"}[k]
                value = to_float(v)
                c.fact(name, value if name == "dropout" else int_or_none(v), lineno)
        elif m := _STARTS.search(line):
            rest = m.group(2)
            for pat, name in ((_GLOBAL, "global_batch_size"), (_LOCAL, "micro_batch_size"), (_SEQ, "seq_length"), (_ACCUM, "grad_accum")):
                if g := pat.search(rest):
                    c.fact(name, int_or_none(g.group(1)), lineno)
            start = int_or_none(m.group(1))
            if start and start > 1:
                c.event("resumed", float(start - 1), line)
        elif m := _MESH.search(line):
            sizes = [int(x) for x in re.findall(r"\d+", m.group(1))]
            if sizes:
                c.fact("world_size", math.prod(sizes), lineno)
        elif m := _LOAD.search(line):
            if "initial_load_path" in line or "model_only" in line or "model-only" in line:
                c.fact("pretrained", True, lineno)
    return c.build(lines, "error.torchtitan_no_lines")
