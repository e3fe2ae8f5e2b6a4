"""Reader for the Hugging Face Trainer's trainer_state.json.

Input: the file, an output folder holding it, a checkpoint-N folder, or an
output folder holding only checkpoint-N folders (the highest N is read: its
state holds the whole history up to N).

log_history entries map as follows:
  {"loss", "learning_rate", "grad_norm", "epoch", "step"}   -> a batch at step: the mean training
        loss over the logging_steps updates up to and including that step (HF averages them)
  {"eval_loss", "epoch", "step"}                           -> an evaluation row (epoch as HF counts
        it, fractional for mid-epoch evaluations; 0 only when step is 0, before any update)
  the final summary {"train_loss", "train_runtime", ...}   -> ignored (a whole-run average); when it is the only
        entry, the Run has no series, and the summary's figures go to run.config["summary"] and the warning
        warn.hf_summary_only (explain: inconclusive)

The vocabulary size comes from config.json beside the state file (or in the
folder above a checkpoint-N); model facts (model_type, layer and width sizes)
go to run.model. HF logs no loss before the first update, so there is no
initial-loss row unless an evaluation ran at step 0.
"""

from __future__ import annotations

import json
import math
import re
import sys
from array import array
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NAN, accuracy_series, batch_columns, epoch_series, file_size_ok, finish, to_float
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


RESULTS_NAMES = ("all_results.json", "train_results.json", "eval_results.json")  # the Trainer's save_metrics files


def detect(path: Path, head: str) -> bool:
    if path.name == "trainer_state.json":
        return True
    if not head.lstrip().startswith("{"):
        return False
    # the Trainer's closing metrics (trainer.save_metrics: all_results.json and its parts), by name: a file of other
    # figures with the same keys (a W&B summary, a script's metrics.json of lists) is another reader's
    return '"log_history"' in head or (path.name in RESULTS_NAMES and ('"train_loss"' in head or '"eval_loss"' in head))


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


class _State(msgspec.Struct, gc=False):
    """The parts of trainer_state.json the reader uses; log_history stays raw bytes until read an entry at a time."""

    log_history: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # the list's JSON text
    global_step: Any = msgspec.UNSET
    max_steps: Any = msgspec.UNSET
    num_train_epochs: Any = msgspec.UNSET
    logging_steps: Any = msgspec.UNSET
    eval_steps: Any = msgspec.UNSET
    save_steps: Any = msgspec.UNSET
    train_batch_size: Any = msgspec.UNSET
    best_metric: Any = msgspec.UNSET
    best_model_checkpoint: Any = msgspec.UNSET


class _Entry(msgspec.Struct, gc=False):
    """The keys of a log_history entry that the reader uses (UNSET: absent); the others are parsed and dropped."""

    step: Any = msgspec.UNSET
    epoch: Any = msgspec.UNSET
    loss: Any = msgspec.UNSET
    eval_loss: Any = msgspec.UNSET
    learning_rate: Any = msgspec.UNSET
    grad_norm: Any = msgspec.UNSET
    eval_accuracy: Any = msgspec.UNSET


_ENTRY_KEYS = tuple(_Entry.__struct_fields__)
_get_entry = attrgetter(*_ENTRY_KEYS)
_decode_state = msgspec.json.Decoder(_State).decode
_decode_history = msgspec.json.Decoder(list[msgspec.Raw]).decode
_decode_entry = msgspec.json.Decoder(_Entry).decode


def _fast_state(raw: bytes) -> tuple[dict[str, Any], Iterator[Any]] | None:
    """(the state's keys the reader uses, its log_history entries one at a time as ``_entry`` gives them) with
    msgspec, or None when msgspec refuses the document (a NaN, a BOM, bytes that are not UTF-8, a top level that is
    not an object, a log_history that is not a list), and when the text holds a run of digits longer than Python
    converts to an int (json.loads refuses such a document; msgspec would read it): then json.loads reads it whole,
    as before."""
    if _long_digit_run(raw):
        return None
    try:
        state = _decode_state(raw)
        if state.log_history is msgspec.UNSET:
            return None
        history = _decode_history(state.log_history)
    except (msgspec.DecodeError, RecursionError):
        return None
    keys = {k: getattr(state, k) for k in _STATE_KEYS if getattr(state, k) is not msgspec.UNSET}
    keys["log_history"] = history
    return keys, map(_entry, history)


_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_DIGIT_RUN = re.compile(rb"[0-9]+")


def _long_digit_run(raw: bytes) -> bool:
    """Whether ``raw`` holds more digits in a row than int() converts (sys.get_int_max_str_digits). A run of
    limit + 1 digits holds two bytes in a row of every ``step``-th byte (step = (limit + 1) // 2): only where the
    sample shows two digits together is the text between them, and then around them, looked at."""
    limit = sys.get_int_max_str_digits()
    if not limit or len(raw) <= limit:
        return False
    step = (limit + 1) // 2
    sample = raw[::step].translate(_DIGITS)
    i = sample.find(b"00")
    while i >= 0:
        lo, hi = i * step, (i + 1) * step
        if not raw[lo : hi + 1].translate(None, b"0123456789"):  # every byte between the two is a digit
            # the runs of digits around them, each matched once (a search for limit + 1 digits in a row would retry
            # every start inside a shorter run: quadratic in the run's length)
            if any(len(run) > limit for run in _DIGIT_RUN.findall(raw, max(0, lo - limit), hi + limit + 1)):
                return True
        i = sample.find(b"00", i + 1)
    return False


def _entry(raw: msgspec.Raw) -> tuple[Any, ...] | None:
    """One log_history entry: its values of _ENTRY_KEYS (UNSET where absent), or None when it is not an object."""
    try:
        return _get_entry(_decode_entry(raw))
    except (msgspec.DecodeError, RecursionError):  # not an object, a number beyond the float range: json's reading
        try:
            return _from_dict(json.loads(bytes(raw)))
        except (ValueError, RecursionError):
            return None


def _from_dict(entry: Any) -> tuple[Any, ...] | None:
    return tuple(entry.get(k, msgspec.UNSET) for k in _ENTRY_KEYS) if isinstance(entry, dict) else None


def read(path: Path, **_: Any) -> Run:
    """Read trainer_state.json. log_history is decoded an entry at a time (msgspec) and its batches kept as float
    columns, so no Python object per entry outlives its line; a document msgspec refuses is read with json.loads."""
    file_size_ok(path, MAX_BYTES, "error.json_too_big")
    raw = _read_bytes(path)
    fast = _fast_state(raw)
    if fast is not None:
        state, entries = fast
        n_entries = len(state["log_history"])
    else:
        state = _load_json(path, raw)
        if isinstance(state, dict) and "log_history" not in state and ("train_loss" in state or "eval_loss" in state):
            return _results(path, state)
        if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
            raise LossdocError("error.hf_not_state", path=str(path))
        entries, n_entries = map(_from_dict, state["log_history"]), len(state["log_history"])
    del raw
    run = Run(source=str(path), format="hf-trainer")
    b_step, b_ep, b_loss, b_lr, b_gn = (array("d") for _ in range(5))  # batch rows in log order
    evals: list[tuple[float, float, float, float, float]] = []
    accuracy: list[float | None] = []  # eval_accuracy beside each evaluation (None where absent)
    skipped = 0
    unset = msgspec.UNSET
    for entry in entries:
        if entry is None:
            skipped += 1
            continue
        step_v, epoch_v, loss_v, eval_v, lr_v, gn_v, acc_v = entry  # to_float(UNSET) is None, as for an absent key
        step = step_v if step_v.__class__ is float else to_float(step_v)
        epoch = epoch_v if epoch_v.__class__ is float else to_float(epoch_v)
        epoch = NAN if epoch is None else epoch
        if loss_v is not unset:
            loss = loss_v if loss_v.__class__ is float else to_float(loss_v)
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            b_step.append(float(int(step)))
            b_ep.append(epoch)
            b_loss.append(loss)
            b_lr.append(lr_v if lr_v.__class__ is float else _num(lr_v))
            b_gn.append(gn_v if gn_v.__class__ is float and gn_v == gn_v else _grad(gn_v))  # a finite float: as it is
        if eval_v is not unset:
            loss = eval_v if eval_v.__class__ is float else to_float(eval_v)
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            ep = 0.0 if step == 0 else epoch
            evals.append((ep, step, NAN, loss, NAN))
            accuracy.append(to_float(acc_v))
    run.records_read = n_entries - skipped
    run.records_skipped = skipped
    if skipped:
        run.warnings.append(ReaderWarning("warn.missing_fields", {"count": skipped}))
    run.batches, dup = batch_columns(b_step, b_ep, b_loss, b_lr, b_gn)
    if dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))
    run.epochs = epoch_series(evals)
    run.val_accuracy = accuracy_series(accuracy, len(run.epochs))
    run.config = {k: state[k] for k in _STATE_KEYS if k in state}
    from lossdoc.runlog.neighbours import apply_hf_config  # (neighbours imports the readers' helpers)

    apply_hf_config(run, path)
    run.mark_sources("log", "trainer_state.json")
    if not len(run.batches) and not len(run.epochs):
        _nothing_per_step(run, path, state)
        return run
    return finish(run, path, "error.hf_no_losses")


SUMMARY_KEYS = ("train_loss", "train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "epoch", "step")


def _nothing_per_step(run: Run, path: Path, state: dict[str, Any]) -> None:
    """A log_history without a loss per step. Holding the closing summary (the run took fewer steps than
    logging_steps, with no evaluation): a Run with no series, the summary's figures in ``run.config["summary"]``
    and in the warning warn.hf_summary_only, so that explain says inconclusive and shows them. Empty: one line
    that says why (global_step below logging_steps) when the state tells it, else error.hf_no_losses."""
    summary: dict[str, float] | None = None
    for item in state["log_history"]:
        entry = item if isinstance(item, dict) else _loads(item)
        if isinstance(entry, dict) and ("train_loss" in entry or "train_runtime" in entry):
            figures = {k: to_float(entry.get(k)) for k in SUMMARY_KEYS}
            summary = {k: v for k, v in figures.items() if v is not None}
    steps, every = to_float(state.get("global_step")), to_float(state.get("logging_steps"))
    if summary is None:
        if not state["log_history"] and steps is not None and every is not None and 0 <= steps < every:
            raise LossdocError("error.hf_nothing_logged", path=str(path), global_step=_shown(steps), logging_steps=_shown(every))
        raise LossdocError("error.hf_no_losses", path=str(path))
    run.config["summary"] = summary
    mean = summary.get("train_loss")
    run.warnings.append(
        ReaderWarning(
            "warn.hf_summary_only",
            {
                "train_loss": "?" if mean is None else f"{mean:.4f}",
                "global_step": _shown(summary.get("step", steps)),
                "epoch": _shown(summary.get("epoch", to_float(state.get("num_train_epochs")))),
            },
        )
    )


def _results(path: Path, metrics: dict[str, Any]) -> Run:
    """The Trainer's closing metrics (``all_results.json``: the run's average training loss, the last evaluation's
    loss, runtimes): a Run with no series, the figures in ``run.config["summary"]`` and the warning
    warn.hf_results_only, as a state holding only its summary (explain: inconclusive, showing them)."""
    keys = (*SUMMARY_KEYS, "eval_loss")
    if any(isinstance(metrics.get(k), (list, dict)) for k in ("train_loss", "eval_loss")):
        raise LossdocError("error.hf_not_state", path=str(path))  # series, not the Trainer's closing figures
    figures = {k: to_float(metrics.get(k)) for k in keys if not isinstance(metrics.get(k), bool)}
    summary = {k: v for k, v in figures.items() if v is not None}
    if "train_loss" not in summary and "eval_loss" not in summary:
        raise LossdocError("error.hf_not_state", path=str(path))
    run = Run(source=str(path), format="hf-trainer")
    run.config["summary"] = summary
    shown: dict[str, str] = {k: f"{summary[k]:.4f}" for k in ("train_loss", "eval_loss") if k in summary}
    key = "warn.hf_results_only" if len(shown) == 2 else "warn.hf_results_train_only" if "train_loss" in shown else "warn.hf_results_eval_only"
    run.warnings.append(ReaderWarning(key, {"file": path.name, **shown}))
    return run  # no series: the rule no-curve reads the summary


def _loads(raw: Any) -> Any:
    try:
        return json.loads(bytes(raw))
    except (ValueError, RecursionError, TypeError):
        return None


def _shown(value: float | None) -> str:
    """A count as the state holds it: 3 for 3.0, 2.5 for 2.5, ? when absent or not finite."""
    if value is None or not math.isfinite(value):
        return "?"
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _grad(value: Any) -> float:
    """A logged gradient norm: NaN when absent, +inf when logged as NaN (the gradients were not finite: kept apart from
    an absent one, for the check that every logged norm was non-finite, lossdoc/runlog/sanitize.py)."""
    if value is msgspec.UNSET or value is None:
        return NAN
    v = value if value.__class__ is float else to_float(value)
    return NAN if v is None else math.inf if math.isnan(v) else v


def _num(value: Any) -> float:
    v = to_float(value)
    return NAN if v is None else v


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None


def _load_json(path: Path, raw: bytes) -> Any:
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
