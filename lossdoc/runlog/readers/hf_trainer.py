"""Reader for the Hugging Face Trainer's trainer_state.json.

Input: the file, an output folder holding it, a checkpoint-N folder, or an
output folder holding only checkpoint-N folders (the highest N is read: its
state holds the whole history up to N).

log_history entries map as follows:
  {"loss", "learning_rate", "grad_norm", "epoch", "step"}   -> a batch at step: the mean training
        loss over the logging_steps updates up to and including that step (HF averages them)
  {"eval_loss", "epoch", "step"}                           -> an evaluation row (epoch as HF counts
        it, fractional for mid-epoch evaluations; 0 only when step is 0, before any update)
  the final summary {"train_loss", "train_runtime", ...}   -> ignored (a whole-run average)

The vocabulary size comes from config.json beside the state file (or in the
folder above a checkpoint-N); model facts (model_type, layer and width sizes)
go to run.model. HF logs no loss before the first update, so there is no
initial-loss row unless an evaluation ran at step 0.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, batch_series, epoch_series, file_size_ok, finish, to_float
from lossdoc.runlog.run import ReaderWarning, Run

MAX_BYTES = 512 * 2**20
_CKPT_DIR = re.compile(r"^checkpoint-(\d+)$")
_MODEL_KEYS = (
    "model_type",
    "architectures",
    "n_layer",
    "num_hidden_layers",
    "n_embd",
    "hidden_size",
    "n_head",
    "num_attention_heads",
    "n_positions",
    "max_position_embeddings",
    "initializer_range",
    "tie_word_embeddings",
)
_STATE_KEYS = (
    "global_step",
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "train_batch_size",
    "best_metric",
    "best_model_checkpoint",
)


def detect(path: Path, head: str) -> bool:
    if path.name == "trainer_state.json":
        return True
    return head.lstrip().startswith("{") and '"log_history"' in head


def resolve(folder: Path) -> Path | None:
    p = folder / "trainer_state.json"
    if p.is_file():
        return p
    ckpts = []
    try:
        for sub in folder.iterdir():
            m = _CKPT_DIR.match(sub.name)
            if m and (sub / "trainer_state.json").is_file():
                ckpts.append((int(m.group(1)), sub / "trainer_state.json"))
    except OSError:
        return None
    return max(ckpts)[1] if ckpts else None


def read(path: Path, **_: Any) -> Run:
    file_size_ok(path, MAX_BYTES, "error.json_too_big")
    state = _load_json(path)
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise LossdocError("error.hf_not_state", path=str(path))
    run = Run(source=str(path), format="hf-trainer")
    batches: dict[int, tuple[float, float, float, float, float]] = {}
    evals: list[tuple[float, float, float, float, float]] = []
    skipped = 0
    dup = 0
    for entry in state["log_history"]:
        if not isinstance(entry, dict):
            skipped += 1
            continue
        step = to_float(entry.get("step"))
        epoch = to_float(entry.get("epoch"))
        epoch = NAN if epoch is None else epoch
        if "loss" in entry:
            loss = to_float(entry.get("loss"))
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            dup += int(step) in batches
            batches[int(step)] = (epoch, loss, _num(entry.get("learning_rate")), _num(entry.get("grad_norm")), NAN)
        if "eval_loss" in entry:
            loss = to_float(entry.get("eval_loss"))
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            ep = 0.0 if step == 0 else epoch
            evals.append((ep, step, NAN, loss, NAN))
    run.records_read = len(state["log_history"]) - skipped
    run.records_skipped = skipped
    if skipped:
        run.warnings.append(ReaderWarning("warn.missing_fields", {"count": skipped}))
    if dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))
    run.batches = batch_series(batches)
    run.epochs = epoch_series(evals)
    run.config = {k: state[k] for k in _STATE_KEYS if k in state}
    from lossdoc.runlog.neighbours import apply_hf_config  # (neighbours imports the readers' helpers)

    apply_hf_config(run, path)
    run.mark_sources("log", "trainer_state.json")
    return finish(run, path, "error.hf_no_losses")


def _num(value: Any) -> float:
    v = to_float(value)
    return NAN if v is None else v


def _load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    if b"\x00" in raw[:65536]:
        raise LossdocError("error.log_binary", path=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)  # accepts NaN and Infinity, which Python's json (and so HF) writes
    except json.JSONDecodeError as exc:
        raise LossdocError("error.json_invalid", path=str(path), line=exc.lineno, col=exc.colno) from None
    except (ValueError, RecursionError):  # ValueError: an integer beyond Python's 4,300-digit conversion limit
        raise LossdocError("error.json_invalid", path=str(path), line=1, col=1) from None
