"""Reader for OLMo consoles (allenai/OLMo olmo/train.py ``Trainer.log_metrics_to_console``; OLMo-core's console
logger prints the same shape).

    2024-02-01 12:00:00.000  node0:0  olmo.train:1000  INFO  [step=10/739328]
        train/CrossEntropyLoss=10.73
        train/Perplexity=45,678
        optim/total_grad_norm=1.234                  -> a batch at step 10
    [eval] ... eval/c4_en-validation/CrossEntropyLoss=3.21   -> an evaluation at the last step seen

The metrics follow their ``[step=N/M]`` on the next lines (or on the same line). The first evaluation set
named (one whose name says valid/validation first) is read. The configuration OLMo prints (``vocab_size``,
``embedding_size`` = the padded V, ``max_sequence_length``, ``global_train_batch_size``) gives the facts.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import FLOAT, TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, strip
from lossdoc.runlog.run import Run

_HEAD = re.compile(r"\[step=(\d{1,12})(?:/\d{1,12})?(?:,[^\]]{0,100})?\]")
_METRIC = re.compile(r"(?:^|\s)([A-Za-z][\w/\-. ]{0,120}?)=(" + FLOAT + r"|[\d,]{1,30}(?:\.\d+)?)(?=\s|$)")
_CONF = re.compile(
    r"""^\s{0,12}['"]?(vocab_size|embedding_size|max_sequence_length|global_train_batch_size|device_train_microbatch_size)['"]?\s{0,2}[:=]\s{0,2}(\d{1,12})\b"""
)
_LOAD = re.compile(r"""^\s{0,12}['"]?load_path['"]?\s{0,2}[:=]\s{0,2}(\S{1,300})""")
_WORLD = re.compile(r"(?:world size|world_size)\s{0,2}[:=]?\s{0,2}(\d{1,9})", re.IGNORECASE)
_DETECT = re.compile(r"\[step=\d{1,12}/\d{1,12}[,\]]|train/CrossEntropyLoss=|train/CE loss=")
_TRAIN = ("train/CrossEntropyLoss", "train/CE loss")
_NAMES = {
    "embedding_size": "padded_vocab_size",
    "max_sequence_length": "seq_length",
    "global_train_batch_size": "global_batch_size",
    "device_train_microbatch_size": "micro_batch_size",
}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def _is_val(name: str) -> bool:
    return name.startswith("eval/") and name.endswith(("/CrossEntropyLoss", "/CE loss"))


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "olmo")
    step = math.nan
    step_rank: int | None = None
    val_set: str | None = None
    for lineno, raw in lines:
        rank, line = strip(raw)
        h = _HEAD.search(line)
        if h:
            if not c.mine(rank):
                step = math.nan
                continue
            step, step_rank = float(h.group(1)), rank
            line = line[h.end() :]
        if "=" in line and math.isfinite(step) and (rank is None or rank == step_rank):
            metrics = _METRIC.findall(line)
            for name, value in metrics:
                name = name.strip()
                if name in _TRAIN:
                    c.batch(step, num(value), lineno)
                elif name == "optim/total_grad_norm":
                    g = to_float(value.replace(",", ""))
                    if g is not None:
                        c.grad_norm(step, g)
                elif _is_val(name):
                    label = name.rsplit("/", 1)[0]
                    if val_set is None or ("valid" in label and "valid" not in val_set and not c.evals):
                        val_set = label
                    if label == val_set:
                        c.val(step, to_float(value.replace(",", "")), lineno)
            if h or (metrics and "/" in metrics[0][0]):  # a metric line (train/..., eval/...) holds no configuration
                continue
        if m := _CONF.match(line):
            c.fact(_NAMES.get(m.group(1), m.group(1)), int_or_none(m.group(2)), lineno)
        elif (m := _LOAD.match(line)) and m.group(1).strip("'\",") not in ("null", "None"):
            c.run.config["load_path"] = m.group(1).strip("'\",")
        elif m := _WORLD.search(line):
            c.fact("world_size", int_or_none(m.group(1)), lineno)
    if val_set:
        c.run.config["eval_set"] = val_set
    return c.build(lines, "error.olmo_no_lines")
