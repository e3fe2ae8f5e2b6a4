"""Reader for litgpt consoles (litgpt/pretrain.py ``fit``, litgpt/finetune/*.py ``fit``, and their older
forms, which printed one line per iteration).

    Epoch 1 | iter 100 step 25 | loss train: 3.200, val: n/a | iter time: 123.45 ms (step) remaining ...
    iter 100 step 25: loss 3.2000, iter time: 123.45ms (optimizer.step)         (litgpt before 0.4)
        -> the training loss at optimizer step 25 (the lines of one step are averaged: with gradient
           accumulation several iterations make one step)
    iter 100: val loss 3.1234, val time: 1234.56 ms
    step 100: val loss 3.1234, val time: 1234.56ms                              (litgpt before 0.4)
        -> an evaluation after the step of the last training line
    {'model_config': {..., 'vocab_size': 50254, 'padded_vocab_size': 50304, 'block_size': 2048, ...},
     'train': TrainArgs(..., global_batch_size=512, micro_batch_size=4, ...), 'checkpoint_dir': ...}
        -> V, the padded V, the sequence length, the global batch; a finetune script (its hparams name a
           checkpoint_dir) or an initial_checkpoint_dir means a fine-tune
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, strip
from lossdoc.runlog.run import Run

_NEW = re.compile(
    r"Epoch (\d{1,9}) \| iter (\d{1,12}) step (\d{1,12}) \| loss train: (" + FLOAT + r"|\S{1,20}), val: (" + FLOAT + r"|n/a|\S{1,20}) \|"
)
_OLD = re.compile(r"(?:^|\s)iter (\d{1,12}) step (\d{1,12}): loss (" + FLOAT + r"|\S{1,20}), iter time")
_VAL = re.compile(r"(?:^|\s)(?:iter|step) (\d{1,12}): val loss (" + FLOAT + r"|\S{1,20}), val time")
_FINAL = re.compile(r"Final evaluation \| val loss: (" + FLOAT + r")")
_KV = re.compile(
    r"""['"]?\b(vocab_size|padded_vocab_size|block_size|max_seq_length|global_batch_size|micro_batch_size|devices|num_nodes)['"]?\s{0,2}[:=]\s{0,2}(\d{1,12})\b"""
)
_CKPT_DIR = re.compile(r"""['"]?\b(checkpoint_dir|initial_checkpoint_dir)['"]?\s{0,2}[:=]\s{0,2}(None|\S{1,300})""")
_DETECT = re.compile(r"\| iter \d{1,12} step \d{1,12} \| loss train:|(?:^|\s)iter \d{1,12} step \d{1,12}: loss \S+, iter time")
_NAMES = {"block_size": "seq_length", "max_seq_length": "seq_length", "devices": "world_size"}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def _step_done(c: Collector, cur: list[float]) -> None:
    """[step, sum of losses, lines, epoch, first line] -> a batch: the mean loss of the step's lines."""
    if cur:
        c.batch(cur[0], cur[1] / cur[2], int(cur[4]), epoch=cur[3], count=False)


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "litgpt")
    # the lines of one optimizer step follow each other: their sum, count, epoch and first line until the step changes
    cur: list[float] = []
    step = math.nan
    finetune = False
    for lineno, raw in lines:
        rank, line = strip(raw)
        m = _NEW.search(line)
        old = None if m else _OLD.search(line)
        if m or old:
            if not c.mine(rank):
                continue
            if m:
                ep, st, loss_text = float(m.group(1)), float(m.group(3)), m.group(4)
            else:
                assert old is not None
                ep, st, loss_text = math.nan, float(old.group(2)), old.group(3)
            loss = to_float(loss_text)
            c.recognised += 1
            if loss is None:
                c.bad.append(lineno)
                continue
            # litgpt counts step_count after the update: the lines of the iterations before it belong to step + 1
            key = st + 1 if "(step)" not in line and "(optimizer.step)" not in line else st
            if cur and cur[0] == key:
                cur[1] += loss
                cur[2] += 1
                cur[3] = ep
            else:
                _step_done(c, cur)
                cur = [key, loss, 1, ep, lineno]
            step = key
            continue
        m = _VAL.search(line)
        if m:
            if c.mine(rank):
                c.val(step if math.isfinite(step) else 0.0, to_float(m.group(2)), lineno)
            continue
        m = _FINAL.search(line)
        if m:
            if c.mine(rank) and math.isfinite(step):
                c.val(step, to_float(m.group(1)), lineno)
            continue
        for name, value in _KV.findall(line):
            c.fact(_NAMES.get(name, name), int_or_none(value), lineno)
        for name, value in _CKPT_DIR.findall(line):
            if name == "checkpoint_dir":  # litgpt's finetune scripts start from a downloaded checkpoint
                finetune = True
                c.fact("pretrained", True, lineno)
            elif value.rstrip(",") != "None":
                c.fact("pretrained", True, lineno)
    _step_done(c, cur)
    c.run.config["finetune_script"] = finetune
    return c.build(lines, "error.litgpt_no_lines")
