"""Reader for fairseq training logs (fairseq/logging/progress_bar.py ``SimpleProgressBar``, ``JsonProgressBar``;
fairseq_cli/train.py ``train``, ``validate``; fairseq/criterions/cross_entropy.py ``reduce_metrics``).

    ... | INFO | train_inner | epoch 001:    100 / 1557 loss=10.532, ppl=1480.3, wps=..., wpb=2048, ...,
        num_updates=100, lr=..., gnorm=1.234, ...                          -> a batch after 100 updates
    ... | INFO | train | epoch 001 | loss 9.23 | ppl 600.2 | ... | num_updates 1557   -> epoch 1's training mean
    ... | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.5 | ppl 362 | ... | num_updates 1557
        -> an evaluation after 1557 updates
    | epoch 001 | loss 9.23 | nll_loss 9.1 | ppl 549.5 | ... | num_updates 1557     (fairseq before 0.10)
    [train_inner][INFO] - {"epoch": 1, "update": 0.064, "loss": "10.5", ..., "num_updates": "100"}
    [train][INFO] - {"epoch": 1, "train_loss": "9.2", ..., "train_num_updates": "1557"}
    [valid][INFO] - {"epoch": 1, "valid_loss": "8.5", ..., "valid_num_updates": "1557"}    (--log-format json)

Which loss: fairseq's criteria log ``loss`` as the summed loss over ``sample_size`` divided by ln 2, and
``nll_loss`` (the negative log-likelihood per target token, also over ln 2) whenever ``loss`` is not that
already: label smoothing (label_smoothed_cross_entropy) or sentence averaging (cross_entropy with
--sentence-avg, where sample_size is the number of sentences). So ``nll_loss`` is read when the line has it,
else ``loss``; both are in bits and are multiplied by ln 2 into nats (the notes say so, and
``config["loss_base"]`` is 2). ``wpb`` (target tokens per update) is the tokens per step; ``dictionary: N types``
is V. Only the first validation subset is read.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import TextLines, to_float
from lossdoc.runlog.readers._scale import Collector, int_or_none, num, or_nan, strip
from lossdoc.runlog.run import Run

_INNER = re.compile(r"epoch (\d{1,6}):\s{1,12}(\d{1,12}) / (\d{1,12}) (.{0,2000})")
_PIPES = re.compile(r"(?:^|\|)\s{0,4}epoch (\d{1,6}) \|(.{0,2000})")
_SUBSET = re.compile(r"valid on '([^']{1,100})' subset")
_JSON = re.compile(r"(?:\[(train_inner|train|valid)\]\[INFO\] - |\| (train_inner|train|valid) \| )(\{.{0,4000}\})\s*$")
_DICT = re.compile(r"dictionary: (\d{1,10}) types")
_ARGS = re.compile(r"""['"]?\b(tokens_per_sample|distributed_world_size|max_tokens|batch_size)['"]?\s{0,2}[:=]\s{0,2}(\d{1,12})\b""")
_FINETUNE = re.compile(r"""['"]?\bfinetune_from_model['"]?\s{0,2}[:=]\s{0,2}(None|'[^']{1,300}'|"[^"]{1,300}")""")
_LOADED = re.compile(r"[Ll]oaded checkpoint (\S{1,300}) \(epoch (\d{1,6}) @ (\d{1,12}) updates\)")
_DETECT = re.compile(
    r"epoch \d{3}:\s{1,12}\d{1,12} / \d{1,12} loss=|epoch \d{3} \| (?:loss |valid on ')|(?:\[train_inner\]\[INFO\] - |\| train_inner \| )\{\"epoch\""
)
_ARG_NAMES = {"tokens_per_sample": "seq_length", "distributed_world_size": "world_size"}


def detect(path: Path, head: str) -> bool:
    return bool(_DETECT.search(head))


def resolve(folder: Path) -> Path | None:
    return None


def _pairs(text: str, sep: str) -> dict[str, str]:
    """'loss=10.5, ppl=3' (sep ',') or ' loss 9.23 | ppl 600' (sep '|') -> {name: value}."""
    out: dict[str, str] = {}
    for part in text.split(sep):
        kv = part.strip().split("=", 1) if sep == "," else part.strip().split(" ", 1)
        if len(kv) == 2:
            out[kv[0].strip()] = kv[1].strip()
    return out


def _loss(d: dict[str, Any], prefix: str = "") -> float | None:
    """nll_loss when the line has it (the per-token NLL), else loss; in bits as logged."""
    v = d.get(prefix + "nll_loss", d.get(prefix + "loss"))
    return to_float(v) if v is not None else None


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    c = Collector(path, "fairseq")
    c.loss_base = 2.0
    train_epoch: dict[float, tuple[float, float]] = {}  # epoch -> (training mean, its num_updates)
    subset: str | None = None
    finetune = False
    last_update = 0.0
    wpb: tuple[float, int] | None = None
    for lineno, raw in lines:
        rank, line = strip(raw)
        m = _JSON.search(line)
        if m:
            tag = m.group(1) or m.group(2)
            try:
                rec = json.loads(m.group(3))
            except ValueError:
                c.bad.append(lineno)
                continue
            if not isinstance(rec, dict) or not c.mine(rank):
                continue
            ep = or_nan(num(str(rec.get("epoch", "nan"))))
            if tag == "train_inner":
                step = num(str(rec.get("num_updates", "nan")))
                if step is not None and math.isfinite(step):
                    last_update = step
                    c.batch(
                        step,
                        _loss(rec),
                        lineno,
                        lr=or_nan(num(str(rec.get("lr", "nan")))),
                        grad_norm=or_nan(num(str(rec.get("gnorm", "nan")))),
                        epoch=ep,
                    )
                    w = num(str(rec.get("wpb", "nan")))
                    if w is not None and math.isfinite(w):
                        wpb = (w, lineno)
            elif tag == "train":
                loss = _loss(rec, "train_")
                if loss is not None:
                    train_epoch[ep] = (loss, or_nan(num(str(rec.get("train_num_updates", "nan")))))
            else:
                step = or_nan(num(str(rec.get("valid_num_updates", "nan"))))
                step = step if math.isfinite(step) else last_update
                c.val(step, _loss(rec, "valid_"), lineno, epoch=ep)
            continue
        m = _INNER.search(line)
        if m:
            if not c.mine(rank):
                continue
            d = _pairs(m.group(4), ",")
            step = num(d.get("num_updates"))
            if step is None or not math.isfinite(step):
                continue
            last_update = step
            c.batch(step, _loss(d), lineno, lr=or_nan(num(d.get("lr"))), grad_norm=or_nan(num(d.get("gnorm"))), epoch=float(m.group(1)))
            w = num(d.get("wpb"))
            if w is not None and math.isfinite(w):
                wpb = (w, lineno)
            continue
        m = _PIPES.search(line)
        if m:
            if not c.mine(rank):
                continue
            ep = float(m.group(1))
            rest = m.group(2)
            sm = _SUBSET.search(rest)
            if sm:
                subset = subset or sm.group(1)
                if sm.group(1) != subset:
                    continue
                rest = rest[sm.end() :]
            d = _pairs(rest, "|")
            step = or_nan(num(d.get("num_updates")))
            loss = _loss(d)
            if sm:
                c.val(step if math.isfinite(step) else last_update, loss, lineno, epoch=ep)
            elif loss is not None:
                train_epoch[ep] = (loss, step)
            continue
        if m := _DICT.search(line):
            c.fact("vocab_size", int_or_none(m.group(1)), lineno)
        elif m := _LOADED.search(line):
            upd = int_or_none(m.group(3))
            if upd:
                c.event("resumed", float(upd), line)
        else:
            for name, value in _ARGS.findall(line):
                c.fact(_ARG_NAMES.get(name, name), int_or_none(value), lineno)
            if (fm := _FINETUNE.search(line)) and fm.group(1) != "None":
                finetune = True
                c.fact("pretrained", True, lineno)
    # an epoch's training mean joins the evaluation at the same update count (or gets its own row)
    by_step = {s: r for s, r in c.evals.items()}
    for ep, (loss, step) in train_epoch.items():
        target = next((s for s, r in by_step.items() if r[0] == ep), step if math.isfinite(step) else None)
        if target is None:
            continue
        row = c.evals.setdefault(target, [ep, math.nan, math.nan])
        row[1] = loss
    if wpb is not None:
        c.fact("batch_tokens", wpb[0], wpb[1])
    c.run.config["finetune_from_model"] = finetune
    if subset:
        c.run.config["valid_subset"] = subset
    return c.build(lines, "error.fairseq_no_lines")
