"""Reader for Megatron-LM and Megatron-DeepSpeed consoles (megatron/training/training.py ``training_log``,
``evaluate_and_print_results``; megatron/training/arguments.py ``_print_args``).

     [2025-04-13 23:41:20] iteration       20/    1000 | consumed samples: 320 | ... | global batch size:    16 |
        lm loss: 1.072453E+01 | loss scale: 131072.0 | grad norm: 3.874 | number of skipped iterations:   6 | ...
        -> a batch at step 20 (the mean loss of the iterations since the last line that were not skipped)
     validation loss at iteration 50 | lm loss value: 8.889540E+00 | lm loss PPL: 7.255679E+03 |
        -> an evaluation after 50 updates
     ------------------------ arguments ------------------------
       seq_length ...................................... 512       -> the facts: seq_length, global_batch_size,
                                                                     micro_batch_size, world_size, --load,
                                                                     --finetune, --pretrained-checkpoint
     > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)   -> V = 50257, padded V = 50432

The fp16 loss scale and the skipped iterations are read: their sum and the lowest scale become facts, and a
scale that fell to 1 is named in the notes. A line of only skipped iterations has no loss and adds no batch.
``number of nan iterations`` counts the skipped iterations whose loss was NaN or infinite (``training_log`` tests
each loss for inf and NaN): where it is above 0 the line is a ``nonfinite_loss`` event at its iteration, which the
analysis fails (the losses themselves are not printed: Megatron leaves skipped iterations out of the mean).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, or_nan, strip
from lossdoc.runlog.run import Run

_ITER = re.compile(r"(?:^|[\s\]])iteration\s{1,20}(\d{1,12})/\s{0,20}(\d{1,12})\s{0,4}\|(.{0,2000})")
_FIELDS = re.compile(r"(?:^|\|)\s*([A-Za-z][A-Za-z0-9 _()/-]{0,60}?)\s*:\s*(" + FLOAT + r")\s*(?=\||$)")
_VAL = re.compile(
    r"validation loss at (?:iteration\s{1,8}(\d{1,12})|the end of training)[^|]{0,200}\|\s{0,4}lm loss value:\s{0,4}(" + FLOAT + r"|\S{1,20})"
)
_ARG = re.compile(r"^\s{1,4}([a-z][a-z0-9_]{0,60}) \.{2,} (.{0,500})$")
_PADDED = re.compile(r"padded vocab \(size: (\d{1,10})\) with (\d{1,10}) dummy tokens \(new size: (\d{1,10})\)")
_WORLD = re.compile(r"using world size: (\d{1,9})")
_FROM_RANDOM = re.compile(r"will not load any checkpoints and will start from random")
_LOADED = re.compile(r"successfully loaded checkpoint from .{0,400} at iteration (\d{1,12})")
_CKPT = re.compile(r"saving checkpoint at iteration\s{1,12}(\d{1,12})")
_DETECT = re.compile(
    r"(?:^|[\s\]])iteration\s{1,20}\d{1,12}/\s{0,20}\d{1,12}\s{0,4}\|"
    r"|validation loss at iteration\s{1,8}\d"
    r"|-{8,} arguments -{8,}"
    r"|padded vocab \(size: \d+\) with \d+ dummy tokens"
    r"|using world size: \d+, data-parallel"
)
_NONE = {"None", "none", "False", "false", ""}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def _arg(c: Collector, name: str, value: str, lineno: int, args: dict[str, str]) -> None:
    args.setdefault(name, value)
    ints = {"seq_length": "seq_length", "global_batch_size": "global_batch_size", "micro_batch_size": "micro_batch_size", "world_size": "world_size"}
    if name in ints:
        c.fact(ints[name], int_or_none(value), lineno)
    elif name == "vocab_size" and value not in _NONE:
        c.fact("vocab_size", int_or_none(value), lineno)
    elif name == "hidden_dropout":
        d = to_float(value)
        if d is not None:
            c.fact("dropout", d, lineno)


def _fine_tune(c: Collector, args: dict[str, str], arg_lines: dict[str, int]) -> None:
    """--finetune with --load, or --pretrained-checkpoint: training started from trained weights."""
    finetune = args.get("finetune") == "True"
    if finetune and args.get("load", "None") not in _NONE:
        c.fact("pretrained", True, arg_lines["finetune"])
    elif args.get("pretrained_checkpoint", "None") not in _NONE:
        c.fact("pretrained", True, arg_lines["pretrained_checkpoint"])


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "megatron")
    args: dict[str, str] = {}
    arg_lines: dict[str, int] = {}
    last_iter = math.nan
    last_scale: str | None = None
    for lineno, raw in lines:
        rank, line = strip(raw)
        m = _ITER.search(line)
        if m:
            if not c.mine(rank):
                continue
            step = float(m.group(1))
            last_iter = step
            fields = {name.strip().lower(): value for name, value in _FIELDS.findall(m.group(3))}
            if "global_batch_size" not in c.facts:
                c.fact("global_batch_size", int_or_none(fields.get("global batch size")), lineno)
            scale_text = fields.get("loss scale")
            if scale_text != last_scale:  # the scale changes seldom: a number only when it does
                c.loss_scale(num(scale_text), step)
                last_scale = scale_text
            nan_text = fields.get("number of nan iterations")
            if nan_text is not None and nan_text != "0":  # skipped iterations whose loss was NaN or infinite
                nans = int_or_none(nan_text)
                if nans:
                    c.nan_iterations += nans
                    c.event("nonfinite_loss", step, line)
            skipped_text = fields.get("number of skipped iterations")
            if skipped_text is not None and skipped_text != "0":
                skipped = num(skipped_text)
                if skipped is not None and math.isfinite(skipped):
                    c.skipped += skipped
            loss_text = fields.get("lm loss")
            if loss_text is None:  # every iteration since the last line was skipped: no loss to read
                lm = re.search(r"lm loss:\s*(\S{1,20})", m.group(3))
                if lm is None:
                    continue
                loss_text = lm.group(1)
            c.batch(step, num(loss_text), lineno, lr=or_nan(num(fields.get("learning rate"))), grad_norm=or_nan(num(fields.get("grad norm"))))
            continue
        m = _VAL.search(line)
        if m:
            if not c.mine(rank):
                continue
            step = float(m.group(1)) if m.group(1) else last_iter
            if math.isfinite(step):
                c.val(step, to_float(m.group(2)), lineno)
            continue
        m = _ARG.match(line)
        if m:
            name = m.group(1)
            arg_lines.setdefault(name, lineno)
            _arg(c, name, m.group(2).strip(), lineno, args)
            continue
        if m := _PADDED.search(line):
            c.fact("vocab_size", int_or_none(m.group(1)), lineno)
            c.fact("padded_vocab_size", int_or_none(m.group(3)), lineno)
        elif m := _WORLD.search(line):
            c.fact("world_size", int_or_none(m.group(1)), lineno)
        elif _FROM_RANDOM.search(line):
            c.fact("pretrained", False, lineno)
        elif m := _LOADED.search(line):
            it = int_or_none(m.group(1))
            if it and args.get("finetune") != "True":
                c.event("resumed", float(it), line)
        elif m := _CKPT.search(line):
            c.event("checkpoint_saved", float(m.group(1)), line)
    _fine_tune(c, args, arg_lines)
    if args:
        c.run.config["arguments"] = {
            k: v for k, v in args.items() if k in ("load", "finetune", "fp16", "bf16", "tokenizer_type", "train_iters", "lr")
        }
    return c.build(lines, "error.megatron_no_lines")
