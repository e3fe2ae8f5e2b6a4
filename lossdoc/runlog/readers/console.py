"""Reader for home-made console logs: any text whose lines name a position and a loss.

The lines people print differ in words and punctuation, not in what they say. Each line is
cut into ``name value`` pairs (``Epoch 1``, ``Step: 5``, ``loss=3.21``, ``Batch 7/250``), and
the names are read by meaning:

    step, global_step, iter, iteration, it, update    -> the optimizer step
    epoch, ep (with an optional /total)                -> the epoch
    batch (with an optional /total)                    -> the batch within the epoch
    ... loss with val / valid / validation / eval / dev / test in its name -> a validation loss
    ... loss with avg / average / mean / epoch in its name (an epoch known) -> the epoch's training loss
    any other ... loss (or loss alone)                 -> a training-batch loss
    lr, learning_rate                                  -> the learning rate
    grad_norm, gnorm                                   -> the gradient norm

Chinese keys are read as these names (``zh_to_en``, through ``to_en``, which reads some other languages' keys too:
``pas 20 | pierdere 3.01``, ``Época 3 - Pérdida: 2.1``, ``Schritt 100, Verlust 3.2``): 第 3 轮 (epoch 3), 第 120 步 (step 120), 批次 (batch),
训练损失 (train loss), 验证损失 (val loss), 平均损失 (avg loss), 损失 (loss), 学习率 (lr); full-width ``：`` and ``，``
too. A ``vocab_size: N`` / ``词表大小: N`` line before the first loss gives V (the last such line wins).

build-nanogpt's ``log.txt`` (``250 train 3.21``, ``250 val 3.30``, ``250 hella 0.29``) is read
too: its number first, then the split, then the value. Quoted names are read as names, so the lines the
Hugging Face Trainer prints (``{'loss': 1.6282, 'learning_rate': 1.8e-05, 'epoch': 0.22}``, and
``{'eval_loss': ...}``) and JSON objects printed to a console are read too; the Trainer's closing summary
(the line with ``train_runtime``, whose ``train_loss`` is the mean of the whole run) is skipped.

A batch line without a step is placed by its epoch and batch number (``Batch 7/250`` of
epoch 2 is step 257), else counted in order (a warning says so). Evaluations that name no step nor epoch, in a log
with no batch line and no other text (two lines at most), are blocks of an epoch's figures: the same figure again
starts the next block, and the blocks are epochs 1, 2, ... in order (``warn.evals_counted``). A line that names a loss
whose value is not a number is skipped and counted. Lines are matched only up to
MATCH_CAP characters, with patterns that run in linear time.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import (
    NAN,
    NOT_A_LOSS,
    TextLines,
    as_float,
    batch_series,
    epoch_series,
    finish,
    split_updates,
    to_en,
    to_float,
    vocab_from,
)
from lossdoc.runlog.readers.seed_console import _VOCAB as VOCAB_LINE
from lossdoc.runlog.run import ReaderWarning, Run

# "| vocab 71260 (native, no resize) |", "vocab 50304, n_layer 12": the word and a number that ends the phrase (not
# "vocab 3 files")
_VOCAB_BARE = re.compile(r"(?<![\w-])vocab\s{1,3}(\d[\d,]{0,11})(?![\d.])(?=\s*(?:$|[(|,;)\]]))", re.IGNORECASE)

MATCH_CAP = 4096  # characters of a line that are matched
# a number: "1,234.5" (commas between every three digits: thousands) first, then the plain forms
_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3}){1,4}(?![\d,])(?:\.\d{1,15})?|\d{1,15}(?:\.\d{0,15})?(?:[eE][-+]?\d{1,3})?|\.\d{1,15}(?:[eE][-+]?\d{1,3})?|nan|NaN|inf|Inf)"
# a word of a name; "nan" and "inf" are values, never words ("loss nan |" is a NaN loss, not a name "loss nan")
_WORD = r"(?!(?i:nan|inf)(?![A-Za-z_/.\-]))[A-Za-z][A-Za-z_/.\-]{0,30}"
# name (one to four words), an optional ':' or '=' (or '::', as "train loss :: 1.696"), the value, an optional '/total'
# a name, then its value; a counter may carry its total and brackets, as PyTorch tutorials print it ("Epoch [3/250]",
# "Step (40/600)")
_PAIR = re.compile(
    r"("
    + _WORD
    + r"(?: "
    + _WORD
    + r"){0,3})[ \t]{0,3}(?:::|[:=])?[ \t]{0,3}[\[(]?[ \t]{0,2}("
    + _NUM
    + r"|\S{1,20})(?:[ \t]{0,2}/[ \t]{0,2}(\d{1,12}))?"
)
_TUTORIAL = re.compile(r"(?<![\w.])\d{1,5}m \d{1,2}s \((\d{1,12}) \d{1,3}%\)[ \t]{1,4}(" + _NUM + r")[ \t]*$")
_BUILD_NANOGPT = re.compile(r"^[ \t]{0,8}(\d{1,12})[ \t]{1,8}(train|val|hella)[ \t]{1,8}(" + _NUM + r")[ \t]{0,8}$")
# a quoted name before its colon, as a printed Python dict or JSON object has it: {'loss': 1.62, 'epoch': 0.22}
_QUOTED_NAME = re.compile(r"""['"]([A-Za-z_][A-Za-z0-9_/.\- ]{0,40})['"][ \t]{0,3}:(?=[ \t]{0,3}""" + _NUM + ")")  # a number follows
# a loss named in a sentence about its position: "The loss of epoch 3 is: 2.1", "Loss at step 100 = 3.2", "average loss for
# epoch 5: 1.23", "Loss at step 1,000 of 5,000: 2.67", "loss at batch 3 of epoch 2: 0.55", the number glued to its word as a
# print without spaces gives it ("loss of epoch0is:8.07"); rewritten by _sentence as " | epoch 3 | The loss: 2.1", the
# pairs every other line is read by
_SENTENCE = re.compile(
    r"(?i)\b((?:[a-z]{1,20}[ \t_]){0,2}loss)[ \t]{1,3}(?:of|at|for|in|after|on)[ \t]{1,3}(?:the[ \t]{1,3})?"
    r"(epoch|step|iteration|iter|batch)[ \t]{0,3}#?[ \t]{0,3}(\d{1,3}(?:,\d{3}){1,4}(?![\d,])|\d{1,9})"
    r"(?:[ \t]{0,3}(?:/|of)[ \t]{0,3}(\d{1,3}(?:,\d{3}){1,4}(?![\d,])|\d{1,9}))?"
    r"(?:[ \t]{1,3}(?:of|in)[ \t]{1,3}(?:the[ \t]{1,3})?epoch[ \t]{0,3}(\d{1,9}))?[ \t]{0,3}(?:is|was|were)?[ \t]{0,3}[:=]?"
)


def _sentence(m: re.Match[str]) -> str:
    """A loss named in a sentence about its position, as pairs: "The loss of epoch 3 of 10 is: 2.1" -> " | epoch 3/10 |
    The loss: ", "loss at batch 3 of epoch 2:" -> " | epoch 2 | batch 3 | loss: " (the position set apart from the words
    before it, which may be anything)."""
    total = f"/{m.group(4).replace(',', '')}" if m.group(4) else ""
    epoch = f"epoch {m.group(5)} | " if m.group(5) else ""  # "loss at batch 3 of epoch 2"
    return f" | {epoch}{m.group(2)} {m.group(3)}{total} | {m.group(1)}: "


# a measure other than the loss named on a line (a bare "val" beside it may be that measure's)
_METRIC = re.compile(r"(?i)(?<![a-z])(?:acc|accuracy|ppl|perplexity|f1|bleu|rouge|auc|wer|cer|score|top-?[15]|precision|recall|iou|map)(?![a-z])|%")
_EPOCH_ONLY = re.compile(r"(?<![A-Za-z])epoch[ \t]{0,3}[:=#]?[ \t]{0,3}(\d{1,9})", re.IGNORECASE)

_STEP = {"step", "global_step", "iter", "iteration", "it", "update", "updates", "steps", "global step", "train_step", "current_steps"}
_EPOCH = {"epoch", "ep", "epochs"}
_BATCH = {"batch", "batch_idx", "batch idx", "minibatch"}
_VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "held-out", "heldout"}
_MEAN_WORDS = {"avg", "average", "mean", "epoch"}
_LR = {"lr", "learning_rate", "learning rate", "learningrate"}
_BARE_PHASE = {"train": "train", "training": "train", "trn": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "eval": "val",
               "heldout": "val", "held-out": "val", "held_out": "val"}  # fmt: skip
_DECIMAL = re.compile(r"(?<!\d)[-+]?(?:\d+\.\d+|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+)")
_GRAD = {"grad_norm", "gnorm", "grad norm", "gradient norm", "norm"}
# A phase named alone on a header line ("[Epoch 3] Validation ====", "Evaluating..."), and a value printed alone on a
# line of its own after it ("(tensor(1.5898), <TrainState ...>)", "2.5721"): print(run_epoch(...)) under a heading
_HEADER_PHASE = {"validation": "val", "validating": "val", "evaluation": "val", "evaluating": "val", "eval": "val", "valid": "val", "val": "val", "dev": "val",
                 "training": "train", "train": "train"}  # fmt: skip
_HEADER_WORD = re.compile(r"[A-Za-z]{1,30}")
_LONE_VALUE = re.compile(r"^[ \t]{0,8}[(\[]?[ \t]{0,2}(?:tensor\([ \t]{0,2})?(" + _NUM + r")[ \t]{0,2}(?:\)[ \t]{0,2})?(?:[,)\]].{0,2000})?$")
HEADER_REACH = 3  # a lone value belongs to a heading at most this many lines above it


# a counter N/TOTAL standing alone (not in a date, a path, a ratio of names or a fraction of a time): a progress bar's
_NAMED_BEFORE = re.compile(r"[A-Za-z_][ \t]{0,3}[:=]?[ \t]{0,3}[\[(]?[ \t]{0,2}$")  # "acc 45/100", "Epoch [3/250]": a named counter
_PROGRESS_BAR = re.compile(r"%|\||\[=|it/s|s/it|/step|ETA")  # a line drawn as a progress bar: where a bare counter is a position
_TIME_AFTER = re.compile(r"[ \t]{1,3}\d{1,2}:\d{2}")  # "01/05 12:00": a date, not a counter
_BARE_COUNTER = re.compile(r"(?<![\w/.:\-])(\d{1,12})[ \t]{0,2}/[ \t]{0,2}(\d{1,12})(?![\w/.:\-])")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[ _/.\-]+", name.lower()) if w]


def classify(name: str) -> str | None:
    """What a name in a console line means: step, epoch, batch, val, train_mean, train, lr, grad (or None)."""
    low = name.lower().strip(" -_/.")
    words = _words(low)
    if not words:
        return None
    if low in _STEP or words[-1] in ("step", "iter", "iteration", "it") and len(words) <= 2 and "loss" not in words:
        return "step"
    if low in _EPOCH or len(words) == 2 and words[1] in _EPOCH and (words[0].endswith("ing") or words[0] in ("train", "current", "cur")):
        # "Processing Epoch 00", "Training Epoch 3" (a progress bar's description, tqdm's desc=): the epoch
        return "epoch"
    if low in _BATCH:
        return "batch"
    if low in _LR or words[-1] == "lr":
        return "lr"
    if low in _GRAD:
        return "grad"
    # not a name about a loss ("loss scale", "num loss tokens") nor a summary of the values printed ("Best val loss")
    if ("loss" in words or "nll" in words or "xent" in words) and not any(w in NOT_A_LOSS for w in words):
        if any(w in _VAL_WORDS for w in words):
            return "val"
        if any(w in _MEAN_WORDS for w in words):
            return "train_mean"
        return "train"
    return None


# a value printed as its framework's repr: torch's tensor(2.31, grad_fn=<NllLossBackward0>), TensorFlow's
# tf.Tensor(8.07, shape=(), dtype=float32), numpy's array(2.31, dtype=float32) (a loss printed without .item())
_TENSOR = re.compile(r"\b(?:tf\.Tensor|tensor|array)\([ \t]{0,4}(" + _NUM + r")(?:,[^()\n]{0,200}?(?:\([^()\n]{0,40}\)[^()\n]{0,200}?){0,4})?\)")


# Python logging's level and logger before a message: "INFO:root:", "INFO:__main__:", "INFO: ", "INFO - ", "| INFO     |
# __main__:train:42 - " (loguru), "WARNING " before a word. Read as a name, the level took the message's first word as
# its value ("INFO: Epoch 3 - ...": the epoch was lost, every line one evaluation)
_LEVEL = re.compile(
    r"^([\d \t\-:.,T/\[\]|+]{0,48}?)"  # at the line's start, after a timestamp at most (a level inside a message is its text)
    r"(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)(?![A-Za-z])"
    r"(?:[ \t]{0,8}\|[ \t]{0,4}[\w.<>\-]{1,80}(?::[\w.<>\-]{1,80}){0,2}[ \t]{0,4}-[ \t]"  # loguru's "| name:function:line - "
    r"|(?::[\w.<>\-]{1,80})?[ \t]{0,4}[:\-|\]][ \t]{0,4}"  # "INFO:root:", "INFO: ", "INFO - ", "INFO]"
    r"|[ \t]{1,8}(?=[A-Za-z\[]))"  # "INFO Epoch ..."
)
_LEVEL_WORD = re.compile(r"DEBUG|INFO|WARN|ERROR|CRITICAL")


def _line_facts(line: str) -> dict[str, Any] | None:
    """The meaningful pairs of one line: {kind: (value, total)}; None when it holds no loss."""
    line = to_en(line[:MATCH_CAP])
    if _LEVEL_WORD.search(line, 0, 200):
        line = _LEVEL.sub(r"\1 ", line, count=1)
    if "ensor(" in line or "array(" in line:
        line = _TENSOR.sub(r"\1", line)
    if "oss " in line or "OSS " in line:
        line = _SENTENCE.sub(_sentence, line)
    if line.lstrip().startswith("wandb:"):
        return {"_ignored": True}  # W&B's own lines: its closing history (sparklines) and summary are not the curve
    m = _TUTORIAL.search(line)
    if m:
        # the PyTorch tutorials' '%s (%d %d%%) %.4f' % (time since start, iteration, percent, average loss)
        return {"step": (to_float(m.group(1)), None), "train": (to_float(m.group(2)), None)}
    m = _BUILD_NANOGPT.match(line)
    if m:
        kind = {"train": "train", "val": "val", "hella": None}[m.group(2)]
        if kind is None:
            return {"_ignored": True}
        return {"step": (to_float(m.group(1)), None), kind: (to_float(m.group(3)), None), "_build_nanogpt": True}
    if "'" in line or '"' in line:
        line = _QUOTED_NAME.sub(r"\1:", line)  # the Hugging Face Trainer prints its logs as Python dicts
        if "train_runtime:" in line:
            return {"_ignored": True}  # the Trainer's end-of-training summary: its train_loss is the whole run's mean
    found: dict[str, Any] = {}
    bare: dict[str, float] = {}  # "train 3.572 | val 3.603": phase names alone, before a decimal number
    for pm in _PAIR.finditer(line):
        kind = classify(pm.group(1))
        if kind is None:
            phase = _BARE_PHASE.get(pm.group(1).strip().lower())
            if phase and phase not in bare and _DECIMAL.fullmatch(pm.group(2)) and (x := to_float(pm.group(2))) is not None:
                bare[phase] = x
            continue
        if kind in found:
            continue
        if kind == "val" and any(w in ("test", "final") for w in _words(pm.group(1))):
            found["_report"] = True  # a test set's or a final report's loss: not one more evaluation of the run
        value = to_float(pm.group(2))
        total = to_float(pm.group(3)) if pm.group(3) else None
        if value is None:
            if kind in ("train", "val", "train_mean"):
                found.setdefault("_bad", True)
            continue
        found[kind] = (value, total)
    if (
        _has_loss(found)
        and not any(k in found for k in ("step", "epoch", "batch"))
        or ("epoch" in found and "batch" not in found and "step" not in found)
    ):
        # a progress bar's bare counter, the only position its line gives: "Training [===  ] 8.5% 5000/58874 | ...
        # loss=3.91" (the step), "Epoch 1: 100%|███| 938/938 [00:10<00:00, loss=0.123]" (the batch of the epoch)
        cm = next(
            (
                m
                for m in _BARE_COUNTER.finditer(line)
                if not _NAMED_BEFORE.search(line[max(0, m.start() - 40) : m.start()]) and not _TIME_AFTER.match(line, m.end())
            ),
            None,
        )
        if cm and _has_loss(found) and _PROGRESS_BAR.search(line) and int(cm.group(1)) <= int(cm.group(2)):
            # the step, or the batch of the epoch this line or a heading above names (read() decides)
            found["batch" if "epoch" in found else "_counter"] = (float(cm.group(1)), float(cm.group(2)))
            found["_bar"] = float(cm.group(1))  # the bar's own counter (it starts again with each epoch's bar)
    if bare and not any(k in found for k in ("train", "val", "train_mean")):
        # a line that names no loss but gives its phases' values ("step 250 | train 2.225 | val 2.279"): those are the
        # losses (accuracies and counts have their own names, and an integer count is no loss)
        for phase, x in bare.items():
            found[phase] = (x, None)
    elif "val" in bare and "train" not in bare and "train" in found and "val" not in found and "train_mean" not in found and not _METRIC.search(line):
        # the validation phase named alone beside a named loss ("step 100 | loss: 3.16 | val: 2.97"): the validation
        # loss, in a line that names no other measure ("loss: 1.28 acc: 0.62 val: 0.61", "val 24.5 ppl", "val: 91%": an
        # accuracy, a perplexity) and no training phase beside it ("accuracy: train 0.90 val 0.85")
        found["val"] = (bare["val"], None)
    return found


def _header_phase(line: str) -> tuple[str, bool] | None:
    """The phase a heading line names ("[Epoch 3] Validation ====" -> "val") and whether it names a loss, or None: a
    line with one phase word, no decimal number and no other words but "epoch" or "loss" (a line saying more is a
    sentence, not a heading)."""
    if _DECIMAL.search(line):
        return None
    words = [w.lower() for w in _HEADER_WORD.findall(line)]
    phases = {_HEADER_PHASE[w] for w in words if w in _HEADER_PHASE}
    others = [w for w in words if w not in _HEADER_PHASE and w not in ("epoch", "ep", "phase", "loop", "start", "starting", "loss")]
    if len(phases) != 1 or others:
        return None
    return phases.pop(), "loss" in words


def _lone_value(line: str, loss_named: bool) -> float | None:
    """The value of a line that holds one decimal number first and nothing named: in the form a training loop's returned
    loss prints in ("(tensor(2.5721), <...>)", "tensor(2.5721)"), or bare ("2.5721") under a heading that names a loss
    (under "Evaluating..." a bare number may as well be an accuracy)."""
    m = _LONE_VALUE.match(line[:MATCH_CAP])
    if not m or not _DECIMAL.fullmatch(m.group(1).lstrip("+-")):
        return None
    if not loss_named and "tensor(" not in line[: m.start(1)] and not line.lstrip().startswith("("):
        return None
    return to_float(m.group(1))


def _has_loss(facts: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    return facts is not None and any(k in facts for k in ("train", "val", "train_mean"))


DETECT_HITS = 3  # lines naming a loss and its position that make a text a console log (all of them, in a shorter log)
HEADING_REACH = 3  # a loss line is placed by an "Epoch N" line at most this many lines above it


def detect(path: Path, head: str) -> bool:
    """Whether the text is a console log: DETECT_HITS lines that name a loss and its position (on the line, or on an
    "Epoch N" line just above it, as loops that print a block per epoch have it), or every line of a log shorter than
    that (a run stopped after one or two logged lines is still a run)."""
    hits = 0
    lines = [part for raw in head.splitlines()[:400] for part in split_updates(raw)]  # a bar's updates, one each
    epoch_line = -HEADING_REACH - 1
    for i, line in enumerate(lines):
        facts = _line_facts(line)
        if not _has_loss(facts):
            if _EPOCH_ONLY.search(to_en(line[:MATCH_CAP])):
                epoch_line = i
            continue
        if any(k in facts for k in ("step", "epoch", "batch", "_counter")) or facts.get("_build_nanogpt") or i - epoch_line <= HEADING_REACH:
            hits += 1
            if hits >= DETECT_HITS:
                return True
    whole = len(head.encode("utf-8", "replace")) < 8000  # the head is the whole file
    return whole and hits > 0 and hits == sum(1 for x in lines if x.strip())


def detect_sparse(head: str, max_lines: int) -> bool:
    """The last try, when no format answered: whether the text holds lines that name a loss, all of one shape (the
    same names, a value that is not a number counting as another shape), at least one of them a finite number, and
    where they name a position, at a position that grows; a single line, or lines that name no position, only when
    they name one (SPARSE_UNPLACED lines at least). A run that evaluated twice between thousands of bytes of timings
    ("step:0/125 val_loss:10.83 ..." ... "step:125/125 val_loss:5.19 ..."), a fine-tune of one epoch that printed one
    loss among its set-up lines ("epoch 0: train loss :: 1.696, ..."), a file of final losses one a line: each is
    read, and gets the verdict its few values allow (inconclusive, mostly), rather than a refusal. A sentence with a
    loss in it ("The final loss: 0.35 on CIFAR-10"), a setting ("loss: 1.0" in a config) is not a log."""
    shapes: list[tuple[tuple[str, ...], float, bool]] = []  # each loss line's names, its position (nan: none), finite
    for line in [part for raw in head.splitlines()[:max_lines] for part in split_updates(raw)]:
        facts = _line_facts(line) or {}
        if (_has_loss(facts) or facts.get("_bad")) and not facts.get("_report"):
            at = next((facts[k][0] for k in ("step", "epoch", "batch", "_counter") if k in facts), math.nan)
            finite = any(math.isfinite(facts[k][0]) for k in ("train", "val", "train_mean") if k in facts)
            shapes.append((tuple(sorted(k for k in facts if k == "_bad" or not k.startswith("_"))), at, finite))
    if not shapes or len({names for names, _, _ in shapes}) != 1 or "_bad" in shapes[0][0] or not any(f for _, _, f in shapes):
        return False
    at = [a for _, a, _ in shapes]
    if all(math.isnan(a) for a in at):
        return len(shapes) >= SPARSE_UNPLACED
    return all(b > a for a, b in zip(at, at[1:], strict=False))


SPARSE_UNPLACED = 2  # loss lines that name no position, of one shape, that the last try reads (one is a sentence)


def resolve(folder: Path) -> Path | None:
    return None


def read(path: Path, **_: Any) -> Run:
    lines = TextLines(path)
    run = Run(source=str(path), format="console")
    batches: dict[int, tuple[float, float, float, float, float]] = {}
    evals: dict[tuple[float, float], list[float]] = {}  # (epoch, step) -> [epoch, step, train_mean, val]
    bad: list[int] = []
    epoch_ctx: float | None = None
    counter = 0
    estimated = False
    recognised = 0
    offset, max_step = 0.0, 0.0  # a per-epoch step counter, laid end to end
    last_raw: float | None = None
    last_ep: float | None = None
    heading: tuple[str, bool, int] | None = None  # the phase a heading named, whether it named a loss, and its line
    lone_count = 0
    first_ep: float | None = None  # the first epoch number the log gives, and the highest since the last run began
    top_ep: float | None = None
    first_shape: frozenset[str] = frozenset()  # what the first line with an epoch names (a new run prints the same)
    first_step: float | None = None
    appended: list[int] = []  # lines where another run's epochs begin again
    stages: list[int] = []  # lines where the epochs begin again from where the loss was: a next stage of the same run
    stage_offset = 0.0  # added to the epochs of later stages, so that they follow the earlier ones
    run_first: float | None = None  # the first training loss of the run being read (since the last appended run)
    last_batch, last_was_batch = 0, False
    bar_steps: dict[int, int] = {}  # the steps of records read from a progress bar's postfix -> the bar's own counter
    stepless_before = stepless_after = 0  # evaluations naming no step nor epoch, before and after the first batch line
    seq = 0  # ... before any batch line: the block they are in (the same figure again starts the next one) ...
    in_block: set[str] = set()  # ... and the figures its block holds so far (a NaN is a figure too)
    not_figures = 0  # lines that are neither blank nor one figure ("valid loss: 46.19"): a report, if many
    for lineno, line in lines:
        if line.strip() and not _FIGURE_LINE.match(line[:MATCH_CAP]):
            not_figures += 1
        facts = _line_facts(line)
        if (
            not _has_loss(facts)
            and heading
            and heading[0] == "val"
            and lineno - heading[2] <= HEADER_REACH
            and (lone := _lone_value(line, heading[1])) is not None
        ):
            # a validation value printed alone under its heading: the evaluation of the epoch the heading named, else
            # after the last batch read, else numbered in order
            recognised += 1
            lone_count += 1
            key = (epoch_ctx, NAN) if epoch_ctx is not None else (NAN, float(max(batches))) if batches else (float(lone_count), NAN)
            evals.setdefault(key, [*key, NAN, NAN])[3] = lone
            heading = None
            continue
        if not _has_loss(facts):
            if line.strip():
                last_was_batch = False  # an evaluation is placed only when it comes right under a batch line
            if (head := _header_phase(line[:MATCH_CAP])) is not None:
                heading = (*head, lineno)
            mv = (VOCAB_LINE.search(line[:MATCH_CAP]) or _VOCAB_BARE.search(line[:MATCH_CAP])) if not recognised else None
            if mv and (v := vocab_from(to_float(mv.group(1).replace(",", "")))):
                run.set_fact("vocab_size", v, "log", "where.line", line=lineno)  # printed before training; the last one wins
            em = _EPOCH_ONLY.search(to_en(line[:MATCH_CAP]))
            if em:
                epoch_ctx = as_float(int(em.group(1)))
            if facts and facts.get("_bad"):
                bad.append(lineno)
            continue
        recognised += 1
        ep = facts["epoch"][0] if "epoch" in facts else epoch_ctx
        if "epoch" in facts:
            epoch_ctx = ep
        if "_counter" in facts:
            # a progress bar's bare counter: the batch of the epoch a heading above named ("Epoch 3/30" then "938/938
            # [=====] - loss: 0.12", as Keras prints), else the step
            facts["batch" if ep is not None else "step"] = facts.pop("_counter")
        shape = frozenset(k for k in facts if not k.startswith("_"))
        raw_step = facts["step"][0] if "step" in facts else None
        if ep is not None and math.isfinite(ep):
            if first_ep is None:
                first_ep, first_shape, first_step = ep, shape, raw_step
            elif (
                ep <= first_ep
                and top_ep is not None
                and top_ep > first_ep
                and shape == first_shape
                and (raw_step is None or first_step is None or raw_step <= first_step)
            ):
                # the epoch count starts again from its first value. Where the loss starts again from where it was
                # (nearer the last loss than the run's first), a next stage of the same training (a loop over data
                # chunks, 3 epochs each): its epochs follow the earlier ones (warn.stages). Else another run appended
                # to the same file (a script that appends on every launch): the runs are not one curve; the last one is
                # read (warn.appended_runs)
                if _continues(facts, batches.get(last_batch), run_first):
                    stage_offset += top_ep - first_ep + 1
                    stages.append(lineno)
                else:
                    batches.clear()
                    evals.clear()
                    counter, offset, max_step, last_raw, last_ep, last_was_batch, lone_count = 0, 0.0, 0.0, None, None, False, 0
                    appended.append(lineno)
                    stage_offset, run_first = 0.0, None
                top_ep = None
            top_ep = ep if top_ep is None else max(top_ep, ep)
            ep += stage_offset
        step = facts["step"][0] if "step" in facts else None
        if step is not None and not math.isfinite(step):
            bad.append(lineno)
            continue
        if step is not None and "train" in facts:
            # a step counter that starts again at each epoch ("[Epoch 1] ... Epoch Step: 1"): when it goes back while
            # the epoch moved on, the new epoch's steps follow the last one's (a counter going back with no new
            # epoch is a resumed or appended run, left to the rows' own numbers)
            if last_raw is not None and step < last_raw and ep is not None and last_ep is not None and ep > last_ep:
                offset = max_step
            last_raw, last_ep = step, ep
            step += offset
            max_step = max(max_step, step)
        val = facts.get("val", (None,))[0]
        mean = facts.get("train_mean", (None,))[0]
        train = facts.get("train", (None,))[0]
        if val is not None or (mean is not None and train is None):
            if step is None and ep is None and last_was_batch and not facts.get("_report"):
                # an evaluation that names neither its step nor its epoch, printed right under a batch line
                # ("  -> val 0.55"): it follows that batch (stepless evaluations after other evaluations, as final
                # reports print them, stay unplaced)
                step = float(last_batch)
            elif step is None and ep is None and not facts.get("_report"):
                # an evaluation naming neither its step nor its epoch, not under a batch line: before any training
                # line, it may be the model before its first update (placed after the loop); after one, unplaced
                if batches:
                    stepless_after += 1
                else:
                    stepless_before += 1
                    # a loop that prints each epoch's figures as a block naming no epoch ("valid loss: 46.19" then,
                    # next epoch, "valid loss: 45.83"): the same figure again starts the next block
                    figures = {"val"} if val is not None else set()
                    figures |= {"mean"} if mean is not None else set()
                    if figures & in_block:
                        seq, in_block = seq + 1, set()
                    in_block |= figures
                    step = _block_key(seq)[1]  # (numbered after the loop: _number_blocks)
            last_was_batch = False
            key = (NAN if ep is None else ep, NAN if step is None else step)
            row = evals.setdefault(key, [NAN if ep is None else ep, NAN if step is None else step, NAN, NAN])
            if val is not None:
                row[3] = val
            if mean is not None:
                row[2] = mean
            elif train is not None and val is not None:
                row[2] = train
            continue
        if train is None:
            continue
        counter += 1
        if step is None:
            # placed by epoch and batch (epoch 2, Batch 7/250 is step 257), else counted in order
            b, of = facts.get("batch", (None, None))
            if b is not None and of and ep is not None and ep >= 1:
                step = (ep - 1) * of + b
            else:
                step = float(counter)
                estimated = True
        if not math.isfinite(step):  # an epoch or batch number beyond the float range (1e400, inf) places nothing
            bad.append(lineno)
            continue
        if "_bar" in facts:
            bar_steps[int(step)] = int(facts["_bar"])
        lr = facts.get("lr", (NAN,))[0]
        gn = facts.get("grad", (NAN,))[0]
        gn = math.inf if "grad" in facts and math.isnan(gn) else gn  # logged as nan: not finite (sanitize.py keeps it apart)
        batches[int(step)] = (NAN if ep is None else ep, train, lr, gn, NAN)
        last_batch, last_was_batch = int(step), True
        if run_first is None and math.isfinite(train):
            run_first = train
    if in_block:
        evals = _number_blocks(run, evals, seq, bool(batches) or not_figures > BLOCK_OTHER_LINES or seq == 0)
    if stepless_before == 1 and not stepless_after and batches and (NAN, NAN) in evals:
        # one evaluation printed before any training line, naming no step ("pre-training val NLL: 1.6079", "initial eval
        # loss 2.31"), and a run after it: the model before its first update, step 0, not an evaluation after the end
        # (a resumed run's, whose first logged step is far from the start: its checkpoint, just before that step)
        first, *rest = sorted(batches)[:2]
        at = 0.0 if first <= 2 * ((rest[0] - first) if rest else first) else float(first - 1)
        row = evals.pop((NAN, NAN))
        row[1] = at
        evals[(NAN, at)] = row
    postfix = _postfix_interval(batches, bar_steps)
    if postfix is not None:
        # a progress bar drawn at every step, its postfix set every k: the draws between are the same number again
        every, at = postfix
        ordered = [s for s in sorted(bar_steps) if s in batches]
        # off the postfix's residue and the same number as the record before it: a redraw (a changed number is a record)
        redrawn = [b for a, b in itertools.pairwise(ordered) if bar_steps[b] % every != at and batches[b][1] == batches[a][1]]
        for s_ in redrawn:
            del batches[s_]
        if redrawn:
            run.warnings.append(ReaderWarning("warn.bar_redraws", {"count": len(redrawn), "every": every}))
    lines.warn_long(run)
    if not batches and not evals:
        if lines.empty:
            raise LossdocError("error.log_empty", path=str(path))
        raise LossdocError("error.console_no_lines", path=str(path))
    if bad:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(bad), "first": bad[0]}))
    if estimated:
        run.warnings.append(ReaderWarning("warn.steps_counted", {}))
    if appended:
        run.warnings.append(ReaderWarning("warn.appended_runs", {"count": len(appended) + 1, "line": appended[-1]}))
    if stages:
        run.warnings.append(
            ReaderWarning("warn.stages", {"count": len(stages) + 1, "lines": ", ".join(map(str, stages[:5])) + (", …" if len(stages) > 5 else "")})
        )
    run.records_read = recognised
    run.records_skipped = len(bad)
    _assemble(run, batches, evals)
    return finish(run, path, "error.console_no_lines")


# a line that is one figure: a name (a few words), ':' or '=', a number ("valid loss: 46.19", "train accu = 0.41")
_FIGURE_LINE = re.compile(r"^[ \t]*[A-Za-z][A-Za-z0-9_ ./\-]{0,40}[:=][ \t]*[-+]?(?:\d{1,15}(?:\.\d{0,20})?|\.\d{1,20})(?:[eE][-+]?\d{1,3})?[ \t]*$")
BLOCK_OTHER_LINES = 2  # lines of other text (a title, a closing line) a log of blocks may hold; more, and it is a report


def _block_key(k: int) -> tuple[float, float]:
    """The key of the k-th block (from 0) of evaluations that name no position (read before any batch line): a
    negative step until ``_number_blocks``, apart from the unplaced key (NaN, NaN) that a report's lines take ("test
    loss", "final valid loss")."""
    return (NAN, -float(k + 1))


def _number_blocks(run: Run, evals: dict[tuple[float, float], list[float]], seq: int, unplaced: bool) -> dict[tuple[float, float], list[float]]:
    """Blocks 0..seq of evaluations that name no position: in a log of nothing but blank lines and figures (at most
    BLOCK_OTHER_LINES others), two blocks or more are epochs 1..seq+1 in order (warning ``warn.evals_counted``). One
    block, or blocks beside batch lines (printed before them, a report and then a run) or among other text (a report of
    several models, a block each: an n-gram report's "dev perplexity" per order), are no epochs: only the last block's
    figures are kept, unplaced, as before there were blocks (``unplaced``)."""
    keys = {_block_key(k) for k in range(seq + 1)}
    if unplaced:
        # the last block's figures, unplaced, where the first block was read (the rows keep their order), under a
        # report's (a report's own figures win: as before there were blocks)
        last = next(evals[k] for k in reversed(list(evals)) if k in keys)
        report = evals.get((NAN, NAN))
        if report is not None:
            for i in (2, 3):
                if math.isnan(report[i]):
                    report[i] = last[i]
        out: dict[tuple[float, float], list[float]] = {}
        for k, row in evals.items():
            if k in keys and report is None and (NAN, NAN) not in out:
                out[(NAN, NAN)] = [NAN, NAN, last[2], last[3]]
            elif k not in keys:
                out[k] = row
        return out
    blocks = [evals.pop(k) for k in list(evals) if k in keys]
    for j, row in enumerate(blocks, start=1):
        row[0], row[1] = float(j), float(j)
        evals[(float(j), float(j))] = row
    run.warnings.append(ReaderWarning("warn.evals_counted", {"count": len(blocks)}))
    return evals


STAGE_MOVED_REL = 0.1  # a run whose loss moved less than this share of its first loss cannot show a fresh start


BAR_RECORDS_MIN = 10  # progress-bar records needed to look for the postfix's own interval
BAR_REGULAR_SHARE = 0.8  # ... where this share of the loss's changes fall on one residue of it


def _postfix_interval(batches: dict[int, tuple[float, float, float, float, float]], bar_steps: dict[int, int]) -> tuple[int, int] | None:
    """(k, r): a progress bar whose postfix is set every k >= 2 of its own updates (tqdm's set_postfix(loss=...) at
    counts r, r + k, ...) and drawn again at the counts between, the loss unchanged: the bar counts where the loss
    changes are BAR_REGULAR_SHARE or more on one residue r modulo k, k their median gap within a bar. On the bar's own
    counter, which starts again with each epoch's bar. None for fewer than BAR_RECORDS_MIN records, or a loss that
    changes at irregular counts or never (a postfix set at every step, or a constant loss: every record is one)."""
    steps = sorted(k for k in bar_steps if k in batches)
    if len(steps) < BAR_RECORDS_MIN:
        return None
    changes = [bar_steps[b] for a, b in itertools.pairwise(steps) if batches[b][1] != batches[a][1]]
    gaps = [b - a for a, b in itertools.pairwise(changes) if b > a]  # (a new epoch's bar starts its count again)
    if len(changes) < 3 or not gaps:
        return None
    k = int(np.median(gaps))
    if k < 2:
        return None
    residues = Counter(c % k for c in changes)
    r, hits = residues.most_common(1)[0]
    return (k, r) if hits >= BAR_REGULAR_SHARE * len(changes) else None


def _continues(facts: dict[str, Any], last: tuple[float, ...] | None, run_first: float | None) -> bool:
    """Whether a line whose epochs begin again continues the run, as a next stage: unless its loss starts again near
    the run's first loss (nearer it than the last batch's) after the run had moved from there materially
    (STAGE_MOVED_REL of the first loss), as another run appended to the file does. A run that never moved cannot
    show a fresh start: its stages are read as one."""
    new = next((facts[k][0] for k in ("train", "train_mean", "val") if k in facts), None)
    if new is None or last is None or run_first is None:
        return False
    prev = last[1]
    if not all(math.isfinite(x) for x in (new, prev, run_first)):
        return False
    fresh = abs(new - run_first) <= abs(new - prev) and abs(prev - run_first) >= STAGE_MOVED_REL * abs(run_first)
    return not fresh


def _assemble(run: Run, batches: dict[int, tuple[float, float, float, float, float]], evals: dict[tuple[float, float], list[float]]) -> None:
    """The Run's series from the rows read: epochs counted from 0 while training are numbered from 1, and
    an evaluation that names no step is placed at the last batch of its epoch."""
    eps = [v[0] for v in batches.values() if not math.isnan(v[0])] + [r[0] for r in evals.values() if not math.isnan(r[0])]
    if eps and min(eps) == 0 and any(v[0] == 0 for v in batches.values()):
        # epochs counted from 0 while training: epoch 0 means "before any update" here, so number them from 1
        run.warnings.append(ReaderWarning("warn.epochs_from_zero", {}))
        batches = {k: (v[0] + 1, *v[1:]) for k, v in batches.items()}
        evals = {(k[0] + 1, k[1]): [r[0] + 1, *r[1:]] for k, r in evals.items()}
    run.batches = batch_series(batches)
    # evaluation rows: placed at the last batch of their epoch when they name no step
    rows = []
    for (ep, _st), (e_, s_, tr, va) in evals.items():
        if math.isnan(s_) and not math.isnan(ep) and len(run.batches):
            # the last batch of its epoch; with fractional epochs (Hugging Face prints 'epoch': 0.11 on each log line
            # and 1.0 on the evaluation), the last batch logged at or before the evaluation's epoch
            in_ep = run.batches.step[run.batches.epoch == ep]
            if not in_ep.size:
                in_ep = run.batches.step[run.batches.epoch <= ep]
            s_ = float(in_ep.max()) if in_ep.size else NAN
        rows.append((e_, s_, tr, va, NAN))
    run.epochs = epoch_series(rows)
