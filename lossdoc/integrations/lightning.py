"""LossdocCallback: a Lightning callback that writes lossdoc's run log (run.jsonl) while a Trainer fits.

    trainer = lightning.pytorch.Trainer(..., callbacks=[LossdocCallback("runs/x", data="random", vocab_size=V)])

The header is written at the first training batch (its shape gives the tokens per step): the vocabulary from
``vocab_size`` or the module's ``hparams`` (vocab_size, vocab, n_vocab, num_tokens), dropout from the module's
``torch.nn.Dropout`` layers (or hparams), pretrained from ``pretrained`` or a Hugging Face model inside the module
loaded with ``from_pretrained``. Each ``on_train_batch_end`` with a loss in ``outputs`` is a batch record, each
validation (not the sanity check) with a loss in ``trainer.callback_metrics`` an evaluation record. Only global rank
0 writes. ``stop_on`` re-diagnoses the log after each validation (and every ``check_every`` batches) and sets
``trainer.should_stop``. The callback never stops the user's training by failing: an error warns once.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import Callback

from lossdoc.runlog.logger import RunLogger, RunLoggerWarning

STOP_ON = (None, "broken", "overfitting")
VAL_KEYS = ("val_loss", "val/loss", "validation_loss", "valid_loss", "loss/val", "eval_loss")
VOCAB_KEYS = ("vocab_size", "vocab", "n_vocab", "num_tokens", "num_embeddings")
SEVERITY = {"broken": 2, "overfitting": 1}


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
    ) -> None:
        if data not in (None, "random", "text"):
            raise ValueError(f"data must be None, 'random' or 'text', not {data!r}")
        if stop_on not in STOP_ON:
            raise ValueError(f"stop_on must be one of {STOP_ON}, not {stop_on!r}")
        if vocab_size is not None and (not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 2):
            raise ValueError(f"vocab_size must be an integer >= 2, not {vocab_size!r}")
        self.run_dir = Path(run_dir)
        self.data = data or "text"
        self.stop_on = stop_on
        self.vocab_size = vocab_size
        self.pretrained = pretrained
        self.val_key = val_key
        self.check_every = max(1, int(check_every))
        self.logger: RunLogger | None = None
        self.verdict: str | None = None  # the last verdict stop_on computed
        self.stopped = False
        self._warned = False
        self._off = False  # not rank 0, or no vocabulary: write nothing
        self._batches = 0

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - never crash the user's training
            self._warn(f"{type(exc).__name__}: {exc}")

    def _warn(self, detail: str) -> None:
        if not self._warned:
            self._warned = True
            from lossdoc.i18n import detect_lang, t

            warnings.warn(t("warn.lightning_callback_failed", detect_lang(), detail=detail), RunLoggerWarning, stacklevel=3)

    # -- Lightning hooks ---------------------------------------------------------------------------------------

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._guard(self._batch, trainer, pl_module, outputs, batch)

    def on_validation_end(self, trainer, pl_module) -> None:
        self._guard(self._validation, trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._guard(self._end, "interrupted" if self.stopped else "completed")

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._guard(self._end, "interrupted" if isinstance(exception, KeyboardInterrupt) else "failed")

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
        )

    def _batch(self, trainer, module, outputs, batch) -> None:
        if self._off:
            return
        if self.logger is None:
            self._begin(trainer, module, batch)
            if self.logger is None:
                return
        loss = _loss(outputs)
        if loss is None:
            return
        lr = None
        try:
            lr = trainer.optimizers[0].param_groups[0]["lr"]
        except Exception:  # noqa: BLE001 - no optimizer (manual optimisation without one)
            pass
        self.logger.batch(max(1, int(trainer.global_step)), loss, lr=lr)
        self._batches += 1
        f = float(loss)
        if not math.isfinite(f) or self._batches % self.check_every == 0:
            self._maybe_stop(trainer)

    def _validation(self, trainer) -> None:
        if self.logger is None or getattr(trainer, "sanity_checking", False):
            return
        metrics = dict(getattr(trainer, "callback_metrics", {}) or {})
        keys = (self.val_key,) if self.val_key else VAL_KEYS
        key = next((k for k in keys if k in metrics), None)
        if key is None:
            return
        self.logger.eval(int(trainer.global_step), metrics[key])
        self._maybe_stop(trainer)

    def _maybe_stop(self, trainer) -> None:
        if self.stop_on is None or self.logger is None or self.logger.failed:
            return
        from lossdoc.analysis import diagnose
        from lossdoc.runlog.readers import read_run

        try:
            self.verdict = str(diagnose(read_run(self.logger.path)).verdict)
        except Exception:  # noqa: BLE001 - too early to diagnose (e.g. no record yet)
            return
        if SEVERITY.get(self.verdict, 0) >= SEVERITY[self.stop_on]:
            self.stopped = True
            trainer.should_stop = True
            self.logger.event("stopped", self.logger._last_step, f"stop_on={self.stop_on}: the verdict is {self.verdict}")

    def _end(self, status: str) -> None:
        if self.logger is not None:
            self.logger.close(status)
