"""lossdoc.RunLogger: the run log of `lossdoc train` (run.jsonl, schema lossdoc.run/1) written from any training loop.

    with lossdoc.RunLogger("runs/x", vocab_size=V, data="random", seq_len=T) as log:
        log.batch(step, loss, tokens=n, lr=lr, grad_norm=g)
        log.eval(step, val_loss, tokens=n)

No torch, rich or typer here: importing lossdoc stays light. A failed write (disk full, no permission) warns
once and turns the logger off; the training that called it goes on.
"""

from __future__ import annotations

import math
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lossdoc.runlog import SCHEMA
from lossdoc.runlog.writer import JsonlLogger

DATA_KINDS = ("random", "text")


class RunLoggerWarning(UserWarning):
    """The run log could not be written, or what it was given looks wrong (steps going backwards); training goes on."""


class RunLogExistsError(FileExistsError):
    """RUN_DIR already holds a run log, and neither ``resume=True`` nor ``overwrite=True`` was given (one line)."""

    def __init__(self, path: Path) -> None:
        from lossdoc.i18n import detect_lang, t

        self.path = path
        super().__init__(t("error.runlog_exists", detect_lang(), path=str(path)))

    def __str__(self) -> str:
        return str(self.args[0])


def log_exists(run_dir: str | Path) -> bool:
    """RUN_DIR/run.jsonl holds something: a second run into it must resume it or overwrite it."""
    path = Path(run_dir) / "run.jsonl"
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _version(name: str) -> str:
    mod = sys.modules.get(name)
    if mod is not None and getattr(mod, "__version__", None):
        return str(mod.__version__)
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "unknown"


def _int(value: Any) -> int | None:
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if v >= 0 else None


def _float(value: Any) -> float:
    try:
        return float(value)  # a 0-d tensor or numpy scalar as well
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _measured(value: Any) -> float | None:
    """A learning rate or gradient norm as logged: None when not measured (None, or a value that is no number),
    else its float (a NaN or infinite value that was measured stays one: a real non-finite gradient)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """The user's extra metrics as a record keeps them: name -> float (a 0-d tensor or numpy scalar as well; a
    non-finite value stays one); a value that is no single number is left out."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        number = _measured(value)
        if number is not None:
            out[str(key)] = number
    return out


def _previous_run(path: Path) -> tuple[int, int] | None:
    """(last evaluation number, last step) of a lossdoc log already at ``path``, or None when there is none to continue."""
    import json

    if not path.is_file() or path.stat().st_size == 0:
        return None
    epoch = step = 0
    header = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict):
                continue
            header = header or (rec.get("type") == "run" and rec.get("schema") == SCHEMA)
            if rec.get("type") == "epoch" and isinstance(rec.get("epoch"), int):
                epoch = max(epoch, rec["epoch"])
            if isinstance(rec.get("step"), int):
                step = max(step, rec["step"])
    return (epoch, step) if header else None


class RunLogger:
    """Writes RUN_DIR/run.jsonl: a header, one batch record per training step, one epoch record per evaluation, an end record.

    ``data="random"``: uniformly random token ids in [token_low, vocab_size) (the floor ln(V - token_low) is exact);
    ``data="text"``: real text. ``pretrained``: training started from pretrained weights. ``batch_tokens``: tokens
    per optimizer step (default batch_size * (seq_len - 1) when both are given, as lossdoc train). ``model``/``config``: dicts kept in the header.
    ``loss_scale``: ``{"logged_over_true": r, "cause": ...}`` when the losses given are r times the true mean (explain divides by r).
    ``resume``/``overwrite``: what to do with a log already in RUN_DIR. By default a RunLogger refuses it
    (RunLogExistsError, one line), as ``lossdoc train`` does without --overwrite: a second run into the same folder
    would otherwise be read as one run. ``resume=True`` continues it (one header; a ``resumed`` event; evaluations
    numbered on), ``overwrite=True`` replaces it. A step lower than the last one logged warns once (RunLoggerWarning).
    A learning rate or gradient norm not given (None) is left out of the batch record: not measured, never "NaN".
    Extra scalars (``batch(..., accuracy=a)``, ``eval(..., perplexity=p)``) are kept in the record's ``metrics``
    object (name -> number), beside lossdoc's own fields, never in their place.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        vocab_size: int,
        data: str = "text",
        seq_len: int | None = None,
        pretrained: bool = False,
        dropout: float | None = None,
        token_low: int = 0,
        batch_size: int | None = None,
        batch_tokens: int | None = None,
        model: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        device: str = "unknown",
        run_id: str | None = None,
        writer: str = "lossdoc.RunLogger",
        loss_scale: dict[str, Any] | None = None,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        if resume and overwrite:
            raise ValueError("resume=True and overwrite=True exclude each other: continue the log or replace it")
        if data not in DATA_KINDS:
            raise ValueError(f"data must be one of {DATA_KINDS}, not {data!r}")
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, not {vocab_size!r}")
        if not isinstance(token_low, int) or not 0 <= token_low < vocab_size - 1:
            raise ValueError(f"token_low must be an integer in [0, vocab_size - 1), not {token_low!r}")
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "run.jsonl"
        self.failed = False
        self._log: JsonlLogger | None = None
        self._t0 = time.monotonic()
        self._epoch = 1  # evaluations so far + 1: batch records between two evaluations form an "epoch"
        self._batch_in_epoch = 0
        self._losses: list[float] = []
        self._best = math.inf
        self._last_step = 0
        self._steps = 0
        self._closed = False
        self._warned_backwards = False
        if batch_tokens is None and batch_size is not None and seq_len is not None:
            batch_tokens = int(batch_size) * (int(seq_len) - 1)  # rows of seq_len ids predict seq_len - 1 tokens, as lossdoc train
        self.header: dict[str, Any] = _header(
            self.run_dir,
            vocab_size=vocab_size,
            data=data,
            seq_len=seq_len,
            pretrained=pretrained,
            dropout=dropout,
            token_low=token_low,
            batch_tokens=batch_tokens,
            model=model,
            config=config,
            device=device,
            run_id=run_id,
            writer=writer,
            loss_scale=loss_scale,
        )
        if not resume and not overwrite and log_exists(self.run_dir):
            raise RunLogExistsError(self.path)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if overwrite and self.path.is_file():
                self.path.unlink()
            previous = _previous_run(self.path) if resume else None
            self._log = JsonlLogger(self.path)
        except Exception as exc:  # noqa: BLE001 - never stop the user's training
            self._fail(exc)
            return
        if previous is None:
            self._write(self.header)
        else:  # a resumed run: one header per log; evaluations go on numbering after the last one
            last_epoch, last_step = previous
            self._epoch = last_epoch + 1
            self._last_step = last_step
            self.event("resumed", last_step, f"{self.header['writer']} resumed the log after step {last_step}")

    # -- records ----------------------------------------------------------------------------------------------

    def batch(
        self, step: int, loss: Any, *, tokens: int | None = None, lr: Any = None, grad_norm: Any = None, skipped: bool = False, **metrics: Any
    ) -> None:
        """One optimizer step: its training loss (a float or 0-d tensor), learning rate, gradient norm, tokens;
        ``metrics``: more scalars of the step (accuracy=..., perplexity=...), kept in the record's ``metrics``."""
        try:
            loss_f = _float(loss)
            self._batch_in_epoch += 1
            self._steps += 1
            step_i = max(1, int(step))
            if step_i < self._last_step:
                self._backwards(step_i)
            self._last_step = step_i
            if math.isfinite(loss_f):
                self._losses.append(loss_f)
            rec: dict[str, Any] = {
                "type": "batch",
                "epoch": self._epoch,
                "batch": self._batch_in_epoch,
                "num_batches": self._batch_in_epoch,
                "step": self._last_step,
                "loss": loss_f,
            }
            for key, value in (("lr", _measured(lr)), ("grad_norm", _measured(grad_norm))):
                if value is not None:  # not measured: left out (the readers read an absent field as not measured)
                    rec[key] = value
            rec["tokens"] = _int(tokens) if _int(tokens) is not None else self.header.get("batch_tokens", 0)
            rec["elapsed_s"] = self._elapsed()
            if skipped:
                rec["skipped"] = True
            if extra := _scalars(metrics):
                rec["metrics"] = extra
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        self._write(rec)

    def eval(
        self,
        step: int,
        val_loss: Any,
        *,
        tokens: int | None = None,
        epoch: int | None = None,
        extra: dict[str, Any] | None = None,
        **metrics: Any,
    ) -> None:
        """A validation loss at ``step`` (mean over ``tokens`` held-out tokens). ``epoch``: its number (1-based), when
        the trainer numbers them (it must grow; otherwise the next number is used); by default evaluations are
        numbered 1, 2, 3, ... ``extra``: more fields kept in the record (they never replace lossdoc's own);
        ``metrics``: more scalars of the evaluation (val_accuracy=...), kept in the record's ``metrics``."""
        try:
            v = _float(val_loss)
            train = sum(self._losses) / len(self._losses) if self._losses else math.nan
            is_best = math.isfinite(v) and v < self._best
            if is_best:
                self._best = v
            number = self._epoch
            if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch > self._epoch:
                number = epoch
            rec: dict[str, Any] = {"type": "epoch", "epoch": number, "step": max(0, int(step)), "train_loss": train, "val_loss": v}
            if _int(tokens) is not None:
                rec["val_tokens"] = _int(tokens)
            rec.update({"best_val_loss": self._best, "is_best": is_best, "checkpoints": [], "elapsed_s": self._elapsed()})
            for key, value in (extra or {}).items():
                rec.setdefault(str(key), value)
            if scalars := _scalars(metrics):
                rec["metrics"] = scalars
            self._epoch = number + 1
            self._batch_in_epoch = 0
            self._losses = []
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        self._write(rec)

    def event(self, kind: str, step: int, message: str = "") -> None:
        """A note in the log (kind, e.g. "resumed"; step; message)."""
        try:
            rec = {"type": "event", "kind": str(kind) or "event", "step": max(0, int(step)), "message": str(message)}
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return
        self._write(rec)

    @property
    def last_step(self) -> int:
        """The step of the last batch record (after a resume: the resumed log's last step until a new one)."""
        return self._last_step

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, status: str = "completed", *, steps: int | None = None, epochs: int | None = None) -> None:
        """Writes the end record (status completed, interrupted, failed or stopped) and closes the log. Called once;
        later calls do nothing. Its ``steps`` is the trainer's global step when given, else the last step logged,
        as lossdoc train's. Its ``epochs_completed`` is ``epochs`` when given (the trainer's own count of completed
        epochs: the callbacks pass Lightning's and the Trainer's), else the last evaluation's number."""
        if self._closed:
            return
        self._closed = True
        last = _int(steps)
        done = _int(epochs)
        self._write(
            {
                "type": "end",
                "status": status,
                "epochs_completed": done if done is not None else self._epoch - 1,
                "steps": max(last, self._last_step) if last is not None else self._last_step,
                "best_val_loss": self._best if math.isfinite(self._best) else None,
                "elapsed_s": self._elapsed(),
            }
        )
        if self._log is not None and not self.failed:
            try:
                self._log.close()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = "completed" if exc_type is None else ("interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed")
        self.close(status)

    # -- internals ---------------------------------------------------------------------------------------------

    def _backwards(self, step: int) -> None:
        if self._warned_backwards:
            return
        self._warned_backwards = True
        from lossdoc.i18n import detect_lang, t

        warnings.warn(
            t("warn.runlog_steps_backwards", detect_lang(), path=str(self.path), step=step, last=self._last_step), RunLoggerWarning, stacklevel=4
        )

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 3)

    def _write(self, record: dict[str, Any]) -> None:
        if self.failed or self._log is None:
            return
        try:
            self._log.log(record)
        except Exception as exc:  # noqa: BLE001 - disk full, permission, ...: warn once, stop writing
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if self.failed:
            return
        self.failed = True
        from lossdoc.i18n import detect_lang, t

        detail = str(exc) or type(exc).__name__
        warnings.warn(t("warn.runlog_write_failed", detect_lang(), path=str(self.path), detail=detail), RunLoggerWarning, stacklevel=3)


def _header(
    run_dir: Path,
    *,
    vocab_size: int,
    data: str,
    seq_len: int | None,
    pretrained: bool,
    dropout: float | None,
    token_low: int,
    batch_tokens: int | None,
    model: dict[str, Any] | None,
    config: dict[str, Any] | None,
    device: str,
    run_id: str | None,
    writer: str,
    loss_scale: dict[str, Any] | None,
) -> dict[str, Any]:
    """The run header: the facts explain reads, in the schema lossdoc train writes (docs/run-log.md)."""
    data_rec: dict[str, Any] = {"kind": "dummy" if data == "random" else "text"}
    if seq_len is not None:
        data_rec["seq_len"] = int(seq_len)
    if data == "random":
        data_rec.update(
            {
                "token_low": token_low,
                "token_high": vocab_size,
                "entropy_floor": math.log(vocab_size - token_low),
                "floor_kind": "exact",
                "unigram_entropy": math.log(vocab_size - token_low),
            }
        )
    model_rec = dict(model or {})
    if dropout is not None:
        model_rec["dropout"] = float(dropout)
    import lossdoc

    header: dict[str, Any] = {
        "type": "run",
        "schema": SCHEMA,
        "writer": writer,
        "run_id": run_id or run_dir.name or "run",
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "vocab_size": vocab_size,
        "pretrained": bool(pretrained),
        "data": data_rec,
        "model": model_rec,
        "config": dict(config or {}),
        "env": {
            "lossdoc": lossdoc.__version__,
            "torch": _version("torch"),
            "python": platform.python_version(),
            "device": str(device),
            "amp": None,
        },
    }
    if batch_tokens is not None and _int(batch_tokens):
        header["batch_tokens"] = _int(batch_tokens)
    if loss_scale is not None:  # {"logged_over_true": r, ...}: every loss logged is r x the true mean (runlog/corrections.py)
        header["loss_scale"] = dict(loss_scale)
    return header
