"""LossdocCallback: a Lightning callback that writes lossdoc's run log (run.jsonl) while a Trainer fits.

    trainer = lightning.pytorch.Trainer(..., callbacks=[LossdocCallback("runs/x", data="random", vocab_size=V)])

The header is written at the first training batch (its shape gives the tokens per step): the vocabulary from
``vocab_size`` or the module's ``hparams`` (vocab_size, vocab, n_vocab, num_tokens), dropout from the module's
``torch.nn.Dropout`` layers (or hparams), pretrained from ``pretrained`` or a Hugging Face model inside the module
loaded with ``from_pretrained``. Each ``on_train_batch_end`` with a loss in ``outputs`` is a batch record, each
validation (not the sanity check) with a loss in ``trainer.callback_metrics`` an evaluation record. Only global rank
0 writes. The callback never stops the user's training by failing: an error warns once.

* Loss: under automatic optimisation Lightning hands ``on_train_batch_end`` the loss divided by
  ``accumulate_grad_batches`` (the closure's normalisation); the callback multiplies it back and writes one batch
  record per optimizer step, the mean of its micro-batches' losses (what ``lossdoc train`` logs).
* Evaluations are numbered by Lightning's epoch, 1-based (Lightning's epoch 0 is lossdoc's evaluation 1); a second
  validation within one epoch (``val_check_interval`` < 1) takes the next number. Each record keeps Lightning's own
  0-based ``current_epoch`` as ``trainer_epoch`` (the ``epoch`` column of Lightning's metrics.csv), and ``explain``
  names an evaluation by it and its step ("Lightning epoch 2, step 340"). The end record's ``epochs_completed`` is
  Lightning's ``current_epoch`` at the end: the epochs Lightning completed, not the number of evaluations.
* ``stop_on`` ("broken", "overfitting", "plateau": expected-plateau or converged at ``patience`` validations in a
  row, or worse; lossdoc.train.stop_on): rank 0 re-diagnoses the log after each validation, at once after a
  non-finite loss and every ``check_every`` optimizer steps; its decision reaches every rank
  (``strategy.reduce_boolean_decision`` at each batch end and validation end), so all processes stop at the same
  step. A stop prints one line that says why, writes a ``stopped`` event and ends the log with status ``stopped``.
* An existing log in ``run_dir`` is refused (RunLogExistsError) unless ``resume=True`` or ``overwrite=True``;
  ``trainer.fit(ckpt_path=...)`` resumes it by itself.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger

from lossdoc.integrations._stop import PLATEAU_PATIENCE, STOP_ON, announce, bind_before_the_group, check_stop_on, pending_stop
from lossdoc.runlog.logger import RunLogExistsError, RunLogger, RunLoggerWarning, log_exists

bind_before_the_group()  # before the trainer's process group exists (see _stop.bind_before_the_group)

__all__ = ["STOP_ON", "LossdocCallback", "LossdocLogger"]
VAL_KEYS = ("val_loss", "val/loss", "validation_loss", "valid_loss", "loss/val", "eval_loss")
# a logged gradient norm (LossdocLogger): the user's own name, or lightning.pytorch.utilities.grad_norm's total (2-norm)
GRAD_KEYS = ("grad_norm", "train/grad_norm", "grad_norm_step", "grad_2.0_norm_total", "grad_2.0_norm_total_step")
VOCAB_KEYS = ("vocab_size", "vocab", "n_vocab", "num_tokens", "num_embeddings")


def _hparams(module: Any) -> dict[str, Any]:
    try:
        return dict(getattr(module, "hparams", {}) or {})
    except Exception:  # noqa: BLE001 - an odd hparams object
        return {}


def _hf_name(module: Any) -> str:
    """name_or_path of a Hugging Face model inside ``module`` (set by from_pretrained), else ''."""
    for sub in module.modules():
        cfg = getattr(sub, "config", None)
        name = getattr(cfg, "_name_or_path", "") or getattr(sub, "name_or_path", "")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return ""


def _dropout(module: Any, hp: dict[str, Any]) -> float | None:
    ps = [float(m.p) for m in module.modules() if isinstance(m, torch.nn.Dropout)]
    if ps:
        return max(ps)
    for key in ("dropout", "resid_pdrop", "hidden_dropout_prob"):
        v = hp.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def _shape(batch: Any) -> tuple[int, int, bool] | None:
    """(rows, ids per row, targets given apart) of a batch: a (B, T) tensor, a dict with input_ids, or (x, y)."""
    if isinstance(batch, torch.Tensor) and batch.dim() == 2:
        return int(batch.shape[0]), int(batch.shape[1]), False
    if isinstance(batch, dict) and isinstance(batch.get("input_ids"), torch.Tensor) and batch["input_ids"].dim() == 2:
        x = batch["input_ids"]
        return int(x.shape[0]), int(x.shape[1]), False
    if isinstance(batch, (list, tuple)) and len(batch) >= 2 and all(isinstance(b, torch.Tensor) for b in batch[:2]):
        x, y = batch[0], batch[1]
        if x.dim() == 2 and y.shape == x.shape:  # inputs and their shifted targets: every position is a target
            return int(x.shape[0]), int(x.shape[1]), True
    return None


def _loss(outputs: Any) -> Any:
    if isinstance(outputs, torch.Tensor):
        return outputs.detach()
    if isinstance(outputs, dict) and outputs.get("loss") is not None:
        loss = outputs["loss"]
        return loss.detach() if isinstance(loss, torch.Tensor) else loss
    return None


class LossdocCallback(Callback):
    def __init__(
        self,
        run_dir: str | Path,
        data: str | None = None,
        stop_on: str | None = None,
        vocab_size: int | None = None,
        *,
        pretrained: bool | None = None,
        val_key: str | None = None,
        check_every: int = 200,
        patience: int = PLATEAU_PATIENCE,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        if data not in (None, "random", "text"):
            raise ValueError(f"data must be None, 'random' or 'text', not {data!r}")
        self.plateau = check_stop_on(stop_on, patience)  # stop_on="plateau": evaluations in a row at the plateau
        if vocab_size is not None and (not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 2):
            raise ValueError(f"vocab_size must be an integer >= 2, not {vocab_size!r}")
        if resume and overwrite:
            raise ValueError("resume=True and overwrite=True exclude each other: continue the log or replace it")
        self.run_dir = Path(run_dir)
        self.data = data or "text"
        self.stop_on = stop_on
        self.vocab_size = vocab_size
        self.pretrained = pretrained
        self.val_key = val_key
        self.check_every = max(1, int(check_every))
        self.resume = resume
        self.overwrite = overwrite
        self.logger: RunLogger | None = None
        self.verdict: str | None = None  # the last verdict stop_on computed
        self.stopped = False
        self.stop_line: str | None = None  # the line printed when stop_on stopped the run (rank 0)
        self._pending: str | None = None  # rank 0 decided to stop (the line to print); every rank learns it at the next sync
        self._warned = False
        self._off = False  # not rank 0, or no vocabulary: write nothing
        self._resuming = False
        self._steps = 0  # optimizer steps logged
        self._micro: list[float] = []  # the undivided losses of the micro-batches of the step under way
        self._last_eval = 0
        # LossdocLogger: a step's batch record waits for the scalars Lightning logs just after on_train_batch_end
        self._hold = False
        self._held: tuple[int, float, Any] | None = None  # (step, mean loss, lr) of the record waiting
        self._eval_metrics: dict[str, Any] = {}  # the scalars logged by the validation under way

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except RunLogExistsError:
            raise
        except Exception as exc:  # noqa: BLE001 - never crash the user's training
            self._warn(f"{type(exc).__name__}: {exc}")

    def _warn(self, detail: str) -> None:
        if not self._warned:
            self._warned = True
            from lossdoc.i18n import detect_lang, t

            warnings.warn(t("warn.lightning_callback_failed", detect_lang(), detail=detail), RunLoggerWarning, stacklevel=3)

    # -- Lightning hooks ---------------------------------------------------------------------------------------

    def on_train_start(self, trainer, pl_module) -> None:
        # rank 0 looks (it writes the log at its first batch, after this hook on every rank); every rank gets its
        # answer, so all refuse together
        self._resuming = self.resume or bool(getattr(trainer, "ckpt_path", None)) or int(getattr(trainer, "global_step", 0) or 0) > 0
        main = int(getattr(trainer, "global_rank", 0) or 0) == 0
        exists = main and not self._resuming and not self.overwrite and log_exists(self.run_dir)
        strategy = getattr(trainer, "strategy", None)
        if strategy is not None:
            exists = bool(strategy.reduce_boolean_decision(exists, all=False))
        if exists:
            raise RunLogExistsError(self.run_dir / "run.jsonl")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._guard(self._batch, trainer, pl_module, outputs, batch)
        self._sync(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        self._guard(self._validation, trainer)
        self._sync(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._guard(self._flush)
        self._guard(self._end, "stopped" if self.stopped else "completed", trainer)

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._guard(self._flush)
        self._guard(self._end, "interrupted" if isinstance(exception, KeyboardInterrupt) else "failed", trainer)

    # -- the work -------------------------------------------------------------------------------------------------

    def _begin(self, trainer, module, batch) -> None:
        if int(getattr(trainer, "global_rank", 0) or 0) != 0:
            self._off = True  # only rank 0 writes
            return
        hp = _hparams(module)
        vocab = self.vocab_size
        if vocab is None:
            vocab = next((hp[k] for k in VOCAB_KEYS if isinstance(hp.get(k), int) and not isinstance(hp.get(k), bool)), None)
        if vocab is None or vocab < 2:
            self._off = True
            self._warn("no vocabulary size: pass vocab_size= or save it in the module's hparams (self.save_hyperparameters())")
            return
        shape = _shape(batch)
        accumulate = int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
        world = int(getattr(trainer, "world_size", 1) or 1)
        seq_len = batch_tokens = None
        if shape is not None:
            rows, ids, apart = shape
            seq_len = ids + 1 if apart else ids  # (x, y) rows: x and y are the two shifted halves of T + 1 ids
            batch_tokens = rows * (seq_len - 1) * accumulate * world
        name = _hf_name(module)
        pretrained = self.pretrained if self.pretrained is not None else bool(name or hp.get("pretrained") is True)
        model = {"type": type(module).__name__, "params": int(sum(p.numel() for p in module.parameters()))}
        if name:
            model["name_or_path"] = name[-200:]
        config = {
            "accumulate_grad_batches": accumulate,
            "world_size": world,
            "max_steps": int(getattr(trainer, "max_steps", -1) or -1),
            "max_epochs": getattr(trainer, "max_epochs", None),
        }
        if batch_tokens:
            config["batch_tokens_source"] = "first training batch"
        self.logger = RunLogger(
            self.run_dir,
            vocab_size=int(vocab),
            data=self.data,
            seq_len=seq_len,
            batch_tokens=batch_tokens,
            pretrained=pretrained,
            dropout=_dropout(module, hp),
            model=model,
            config=config,
            device=str(getattr(module, "device", "unknown")),
            writer="lossdoc.integrations.lightning",
            resume=self._resuming,
            overwrite=self.overwrite and not self._resuming,
        )
        self._last_eval = self.logger._epoch - 1

    def _batch(self, trainer, module, outputs, batch) -> None:
        if self._off:
            return
        self._flush()  # LossdocLogger: the last step's record, when no metrics came for it
        if self.logger is None:
            self._begin(trainer, module, batch)
            if self.logger is None:
                return
        loss = _loss(outputs)
        if loss is None:
            return
        f = float(loss)
        automatic = bool(getattr(module, "automatic_optimization", True))
        if automatic:  # Lightning's closure divided it by accumulate_grad_batches: the loss itself is k times that
            f *= int(getattr(trainer, "accumulate_grad_batches", 1) or 1)
        self._micro.append(f)
        step = int(trainer.global_step)
        if automatic and step <= self.logger.last_step:
            return  # mid-accumulation: the optimizer has not stepped yet
        mean = sum(self._micro) / len(self._micro)
        self._micro = []
        lr = None
        try:
            lr = trainer.optimizers[0].param_groups[0]["lr"]
        except Exception:  # noqa: BLE001 - no optimizer (manual optimisation without one)
            pass
        self._held = (max(1, step), mean, lr)
        if not self._hold:
            self._flush()

    def _flush(self, metrics: dict[str, Any] | None = None) -> None:
        """Writes the batch record held back (with the step's logged ``metrics``: a gradient norm, other scalars)."""
        if self._held is None or self.logger is None:
            return
        (step, mean, lr), self._held = self._held, None
        extra = {k: v for k, v in (metrics or {}).items() if k not in ("epoch", "step")}
        grad = next((extra.pop(k) for k in GRAD_KEYS if k in extra), None)
        self.logger.batch(step, mean, lr=lr, grad_norm=grad, **extra)
        self._steps += 1
        if not math.isfinite(mean) or self._steps % self.check_every == 0:
            self._maybe_stop()

    def _validation(self, trainer) -> None:
        self._flush()
        logged, self._eval_metrics = self._eval_metrics, {}
        if self.logger is None:
            return
        metrics = dict(getattr(trainer, "callback_metrics", {}) or {})
        keys = (self.val_key,) if self.val_key else VAL_KEYS
        key = next((k for k in keys if k in metrics), None)
        if key is None:
            return
        current = int(getattr(trainer, "current_epoch", 0) or 0)
        number = max(current + 1, self._last_eval + 1)  # Lightning's epoch, 1-based; a second validation in it: the next
        self._last_eval = number
        extra = {k: v for k, v in logged.items() if k not in (key, "epoch", "step")}
        self.logger.eval(int(trainer.global_step), metrics[key], epoch=number, extra={"trainer_epoch": current}, **extra)
        self._maybe_stop()

    def _maybe_stop(self) -> None:
        self._pending = self._pending or pending_stop(self)

    def _sync(self, trainer) -> None:
        """Every rank, at the same point: stop when rank 0 decided to (one all-reduce per call under DDP)."""
        if self.stop_on is None or self.stopped:
            return
        local = self._pending is not None
        strategy = getattr(trainer, "strategy", None)
        stop = bool(strategy.reduce_boolean_decision(local, all=False)) if strategy is not None else local
        if not stop:
            return
        self.stopped = True
        trainer.should_stop = True
        if self._pending is not None:
            self.stop_line = self._pending
            announce(self._pending)

    def _end(self, status: str, trainer) -> None:
        if self.logger is not None:
            # epochs_completed: Lightning's own count (current_epoch is the number of epochs it has completed; its
            # metrics.csv numbers them from 0), not the number of evaluations
            done = getattr(trainer, "current_epoch", None)
            self.logger.close(status, steps=int(getattr(trainer, "global_step", 0) or 0), epochs=done if isinstance(done, int) else None)


class LossdocLogger(Logger):
    """A Lightning ``Logger`` that writes lossdoc's run log, beside the user's other loggers:

        trainer = lightning.pytorch.Trainer(..., logger=[CSVLogger("logs"), LossdocLogger("runs/x", data="random")])

    The arguments are LossdocCallback's, and so is the log: a Logger sees only what ``self.log`` logs, every
    ``log_every_n_steps``, so the logger adds its LossdocCallback (``self.callback``) to the Trainer when Lightning
    hands it the module (``log_graph``, at the start of fit; ``Trainer(enable_autolog_hparams=False)`` skips that call,
    and the logger then warns once and writes nothing). The callback writes every optimizer step's undivided loss;
    each step's record waits for the scalars logged at that step (``log_metrics``), so a logged gradient norm
    (``grad_norm``, or the total of ``lightning.pytorch.utilities.grad_norm``) is its ``grad_norm`` and the other
    scalars (accuracy, perplexity) its ``metrics``; the scalars logged in a validation go to its evaluation record.
    A step Lightning logs nothing for is written at the next batch, without them; a stop decided on that record acts
    one step later than the callback's would.
    """

    def __init__(
        self, run_dir: str | Path, data: str | None = None, stop_on: str | None = None, vocab_size: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__()
        self.callback = LossdocCallback(run_dir, data, stop_on, vocab_size, **kwargs)
        self.callback._hold = True
        self._trainer: Any = None

    @property
    def name(self) -> str:
        return "lossdoc"

    @property
    def version(self) -> str:
        return self.callback.run_dir.name

    @property
    def save_dir(self) -> str:
        return str(self.callback.run_dir)

    @property
    def log_dir(self) -> str:
        return str(self.callback.run_dir)

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Nothing: the header reads the module's hparams itself."""

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Called on every process at the start of fit: the logger's callback joins the Trainer's callbacks."""
        trainer = getattr(model, "_trainer", None)
        if trainer is None:
            return
        self._trainer = trainer
        if not any(cb is self.callback for cb in trainer.callbacks):
            trainer.callbacks.append(self.callback)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """A step's logged scalars go into its batch record; a validation's into its evaluation record."""
        self.callback._guard(self._metrics, dict(metrics), step)

    def _metrics(self, metrics: dict[str, Any], step: int | None) -> None:
        cb, trainer = self.callback, self._trainer
        if trainer is None:
            cb._warn("LossdocLogger was never handed the module (Trainer(enable_autolog_hparams=False)?): use LossdocCallback")
            return
        if getattr(trainer, "sanity_checking", False):
            return
        if getattr(trainer, "validating", False):
            cb._eval_metrics.update(metrics)
        elif cb._held is not None and step == cb._held[0] - 1:  # Lightning logs a step's scalars at the steps before it
            cb._flush(metrics)
