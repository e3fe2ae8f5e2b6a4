"""Reader for Composer and llm-foundry consoles (mosaicml/composer composer/loggers/console_logger.py
``ConsoleLogger.log_to_console``, ``_get_progress_string``, ``_get_eval_progress_string``).

    [batch=10/4800]:
        Train time/batch: 9
        Train loss/train/total: 7.1234
        Train metrics/train/LanguageCrossEntropy: 7.1234      -> a batch at step 10
    [epoch=1][batch=100/100]:                                  (max_duration in epochs)
    [Eval batch=4/4] Eval on eval data:
        Eval metrics/eval/LanguageCrossEntropy: 3.4567         -> an evaluation at the last training batch

The metrics follow their ``[batch=N/M]:`` header. The training loss is ``loss/train/total`` (Composer's sum of
the losses; for an LM it is the cross-entropy); the validation loss is ``metrics/eval/LanguageCrossEntropy`` (or
that of the first evaluator named). llm-foundry's printed YAML config gives the facts: ``max_seq_len``,
``global_train_batch_size``, ``vocab_size``, ``load_path`` with ``load_weights_only`` (a fine-tune), and a Hugging
Face model's ``pretrained: true``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, strip
from lossdoc.runlog.run import Run

_HEAD = re.compile(r"^\s{0,4}(?:\[epoch=\d{1,9}\])?\[batch=(\d{1,12})(?:/\d{1,12})?\]:")
_METRIC = re.compile(r"^\s{1,12}(Train|Eval) (\S{1,200}): (" + FLOAT + r"|\S{1,30})\s*$")
_CONF = re.compile(
    r"^\s{0,12}(max_seq_len|global_train_batch_size|device_train_microbatch_size|vocab_size|pretrained|load_weights_only)\s{0,2}:\s{0,2}(\S{1,40})\s*$"
)
_LOAD = re.compile(r"^\s{0,12}load_path\s{0,2}:\s{0,2}(\S{1,300})")
_DETECT = re.compile(r"(?m)^\s{0,4}(?:\[epoch=\d{1,9}\])?\[batch=\d{1,12}/\d{1,12}\]:|Train loss/train/total: ")
_NAMES = {"max_seq_len": "seq_length", "global_train_batch_size": "global_batch_size", "device_train_microbatch_size": "micro_batch_size"}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "composer")
    step = math.nan
    step_rank: int | None = None
    val_name: str | None = None
    conf: dict[str, tuple[str, int]] = {}
    for lineno, raw in lines:
        if raw.startswith("\t ") and "\x1b" not in raw:  # a metric line as Composer prints it: no rank prefix to strip
            rank, line = None, raw
        else:
            rank, line = strip(raw)
        h = _HEAD.match(line) if "[batch=" in line else None
        if h:
            step = float(h.group(1)) if c.mine(rank) else math.nan
            step_rank = rank
            continue
        m = _METRIC.match(line) if line[:1] in " \t" else None
        if m:
            if not math.isfinite(step) or (rank is not None and rank != step_rank):
                continue
            kind, name, value = m.groups()
            if kind == "Train" and name == "loss/train/total":
                c.batch(step, num(value), lineno)
            elif kind == "Eval" and name.endswith("/LanguageCrossEntropy"):
                val_name = val_name or name
                if name == val_name:
                    c.val(step, to_float(value), lineno)
            continue
        if m := _CONF.match(line):
            conf.setdefault(m.group(1), (m.group(2), lineno))
            if m.group(1) in _NAMES or m.group(1) == "vocab_size":
                c.fact(_NAMES.get(m.group(1), m.group(1)), int_or_none(m.group(2)), lineno)
        elif m := _LOAD.match(line):
            conf.setdefault("load_path", (m.group(1), lineno))
    if conf.get("pretrained", ("",))[0].lower() == "true":
        c.fact("pretrained", True, conf["pretrained"][1])
    elif conf.get("load_weights_only", ("",))[0].lower() == "true" and conf.get("load_path", ("null",))[0] not in ("null", "None", "~"):
        c.fact("pretrained", True, conf["load_path"][1])
    if val_name:
        c.run.config["eval_metric"] = val_name
    return c.build(lines, "error.composer_no_lines")
