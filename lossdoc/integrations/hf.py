"""LossdocCallback: a transformers TrainerCallback that writes lossdoc's run log (run.jsonl) while the Trainer runs.

    trainer = Trainer(..., callbacks=[LossdocCallback("runs/x", data="random", stop_on="broken")])

The header comes from the model and the TrainingArguments at on_train_begin; each on_log with a training
``loss`` becomes a batch record, each on_evaluate with ``eval_loss`` an evaluation (epoch) record, on_train_end
the end record. The callback never stops the user's training by failing: an error warns once.

* ``stop_on`` ("broken", "overfitting", "plateau", as the Lightning callback; ``patience``: evaluations in a row a
  plateau verdict must hold, lossdoc.train.stop_on.Plateau): the main process re-diagnoses the log after
  each log and evaluation; its decision reaches every process (one all-reduce at each ``on_log`` and
  ``on_evaluate``, which the Trainer calls on every process at the same steps), so all stop at the same step. A
  stop prints one line that says why, writes a ``stopped`` event and ends the log with status ``stopped``.
* Each evaluation record keeps the Trainer's fractional ``state.epoch`` as ``trainer_epoch`` (the ``epoch`` of
  its trainer_state.json), so ``explain`` names an evaluation as the Trainer does ("Trainer epoch 1.5, step 300")
  even with ``eval_steps`` inside an epoch; the end record's ``epochs_completed`` is the Trainer's whole epochs done.
* An existing log in ``run_dir`` is refused (RunLogExistsError) unless ``resume=True`` or ``overwrite=True``;
  ``trainer.train(resume_from_checkpoint=...)`` resumes it by itself.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from lossdoc.integrations._stop import PLATEAU_PATIENCE, STOP_ON, announce, bind_before_the_group, check_stop_on, pending_stop, share
from lossdoc.runlog.logger import RunLogExistsError, RunLogger, RunLoggerWarning, log_exists

bind_before_the_group()  # before the trainer's process group exists (see _stop.bind_before_the_group)

__all__ = ["STOP_ON", "LossdocCallback", "loss_scale"]


def _trainer_epoch(state: Any) -> dict[str, float]:
    """{"trainer_epoch": state.epoch} (the Trainer's fractional epoch: 1.5 is half-way through the second), or {}."""
    epoch = getattr(state, "epoch", None)
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) and math.isfinite(epoch) and epoch >= 0:
        return {"trainer_epoch": float(epoch)}
    return {}


def _is_pretrained(model: Any) -> bool:
    cfg = getattr(model, "config", None)
    name = getattr(cfg, "_name_or_path", "") or getattr(model, "name_or_path", "")
    return bool(str(name or "").strip())


def _dropout(cfg: Any) -> float | None:
    for key in ("resid_pdrop", "hidden_dropout_prob", "dropout", "hidden_dropout", "attention_dropout", "attn_pdrop"):
        v = getattr(cfg, key, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def _first_length(loader: Any) -> int | None:
    """The length of the first training example's input_ids (the sequence length of fixed-length rows), else None."""
    try:
        first = loader.dataset[0]
        ids = first["input_ids"] if isinstance(first, dict) else None
        return int(len(ids)) if ids is not None else None
    except Exception:  # noqa: BLE001 - an iterable dataset, another layout: unknown
        return None


def _accepts_loss_kwargs(model: Any) -> bool:
    """What the Trainer reads as model_accepts_loss_kwargs: the model's own attribute, else a **kwargs in forward."""
    if hasattr(model, "accepts_loss_kwargs"):
        return bool(model.accepts_loss_kwargs)
    import inspect

    try:
        return any(p.kind == inspect.Parameter.VAR_KEYWORD for p in inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return False


def loss_scale(model: Any, first: Any) -> dict[str, Any] | None:
    """The Trainer's token-count mismatch, measured on the first training example, or None where it does not apply.

    The Trainer divides a batch's summed loss by ``num_items_in_batch``, the label tokens it counts. It counts
    ``labels[..., 1:]`` only when LOSS_MAPPING maps ``model.loss_type`` to ForCausalLMLoss (``_loss_shifts_labels``);
    a model whose class name matches no LOSS_MAPPING key (GPT2LMHeadModel: ``loss_type`` None) still shifts in its
    loss (``loss_function`` falls back to ForCausalLMLoss), so the Trainer counts position 0 too and every logged
    loss is (label tokens after the shift) / (label tokens) of the true mean: (T - 1)/T for rows of T labels.
    """
    try:
        from transformers.loss.loss_utils import LOSS_MAPPING, ForCausalLMLoss
    except ImportError:  # another transformers: nothing known to correct
        return None
    cfg = getattr(model, "config", None)
    if getattr(cfg, "is_encoder_decoder", False) or not _accepts_loss_kwargs(model):
        return None
    loss_type = getattr(model, "loss_type", None)
    if isinstance(loss_type, str) and LOSS_MAPPING.get(loss_type) is ForCausalLMLoss:
        return None  # the Trainer counts after the shift: right
    if getattr(model, "_loss_function", None) is not None or getattr(model, "loss_type", None) in LOSS_MAPPING:
        return None  # a loss of the user's or a non-causal one: not this mismatch
    if not isinstance(first, dict):
        return None
    labels = first.get("labels", first.get("input_ids"))
    if labels is None:
        return None
    try:
        flat = [int(v) for v in (labels.tolist() if hasattr(labels, "tolist") else labels)]
    except (TypeError, ValueError):
        return None
    full = sum(v != -100 for v in flat)
    shifted = sum(v != -100 for v in flat[1:])
    if full < 2 or shifted == full:
        return None
    return {
        "logged_over_true": shifted / full,
        "label_tokens": full,
        "targets": shifted,
        "cause": "transformers Trainer: num_items_in_batch counts labels before the causal shift (model.loss_type is None)",
        "transformers": _transformers_version(),
    }


def _transformers_version() -> str:
    import transformers

    return str(getattr(transformers, "__version__", "unknown"))


def _first(loader: Any) -> Any:
    try:
        return loader.dataset[0]
    except Exception:  # noqa: BLE001 - an iterable dataset, another layout: unknown
        return None


class LossdocCallback(TrainerCallback):
    def __init__(
        self,
        run_dir: str | Path,
        data: str | None = None,
        stop_on: str | None = None,
        *,
        patience: int = PLATEAU_PATIENCE,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        if data not in (None, "random", "text"):
            raise ValueError(f"data must be None, 'random' or 'text', not {data!r}")
        self.plateau = check_stop_on(stop_on, patience)  # stop_on="plateau": evaluations in a row at the plateau
        if resume and overwrite:
            raise ValueError("resume=True and overwrite=True exclude each other: continue the log or replace it")
        self.run_dir = Path(run_dir)
        self.data = data or "text"
        self.stop_on = stop_on
        self.resume = resume
        self.overwrite = overwrite
        self.logger: RunLogger | None = None
        self.verdict: str | None = None  # the last verdict stop_on computed
        self.stopped = False
        self.stop_line: str | None = None  # the line printed when stop_on stopped the run (main process)
        self._pending: str | None = None  # the main process decided to stop; every process learns it at the next sync
        self._warned = False
        self._tokens_seen = 0
        self._last_step = 0

    # never crash the user's training
    def _guard(self, fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except RunLogExistsError:
            raise
        except Exception as exc:  # noqa: BLE001
            if not self._warned:
                self._warned = True
                from lossdoc.i18n import detect_lang, t

                warnings.warn(t("warn.hf_callback_failed", detect_lang(), detail=f"{type(exc).__name__}: {exc}"), RunLoggerWarning, stacklevel=2)

    def on_train_begin(self, args, state, control, model=None, train_dataloader=None, **kwargs):
        # the main process looks, before it writes; every process gets its answer (one all-reduce), so all refuse
        # together and none sees the log the main process has just begun. A resumed Trainer starts past step 0.
        resuming = self.resume or int(state.global_step or 0) > 0
        main = bool(getattr(state, "is_world_process_zero", True))
        exists = main and not resuming and not self.overwrite and log_exists(self.run_dir)
        if share(exists, getattr(args, "device", None)):
            raise RunLogExistsError(self.run_dir / "run.jsonl")
        self._guard(self._begin, args, state, model, train_dataloader, resuming)

    def on_log(self, args, state, control, logs=None, **kwargs):
        self._guard(self._log, args, state, control, logs or {})
        self._sync(args, state, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._guard(self._evaluate, args, state, control, metrics or {})
        self._sync(args, state, control)

    def on_train_end(self, args, state, control, **kwargs):
        self._guard(self._end, state)

    # -- bodies ---------------------------------------------------------------------------------------------------

    def _begin(self, args, state, model, loader=None, resuming: bool = False) -> None:
        if not getattr(state, "is_world_process_zero", True):
            return  # one log per run: only the main process writes (and only it can stop on a broken verdict)
        cfg = getattr(model, "config", None)
        if cfg is None:  # _guard turns this into the one warning; training goes on
            raise AttributeError("the model has no config to read vocab_size from")
        vocab = int(cfg.vocab_size)
        positions = getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None)
        world = int(getattr(args, "world_size", 1) or 1)
        per_step = int(args.per_device_train_batch_size) * int(args.gradient_accumulation_steps) * world
        model_rec: dict[str, Any] = {"type": str(getattr(cfg, "model_type", "") or "")}
        try:
            model_rec["params"] = int(sum(p.numel() for p in model.parameters()))
        except Exception:  # noqa: BLE001
            pass
        for key, names in (
            ("d_model", ("n_embd", "hidden_size", "d_model")),
            ("num_layers", ("n_layer", "num_hidden_layers")),
            ("num_heads", ("n_head", "num_attention_heads")),
        ):
            for n in names:
                v = getattr(cfg, n, None)
                if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                    model_rec[key] = v
                    break
        if positions:
            model_rec["max_positions"] = int(positions)
        name = getattr(cfg, "_name_or_path", "") or getattr(model, "name_or_path", "")
        if name:
            model_rec["name_or_path"] = str(name)[-200:]
        config = {
            "per_device_train_batch_size": int(args.per_device_train_batch_size),
            "gradient_accumulation_steps": int(args.gradient_accumulation_steps),
            "world_size": world,
            "sequences_per_step": per_step,
            "learning_rate": float(args.learning_rate),
            "max_steps": int(state.max_steps or 0),
            "logging_steps": float(args.logging_steps),
            "logging_nan_inf_filter": bool(getattr(args, "logging_nan_inf_filter", False)),
            "include_num_input_tokens_seen": str(getattr(args, "include_num_input_tokens_seen", "no")),
        }
        seq_len = _first_length(loader)
        seq_len = seq_len if seq_len and seq_len >= 2 else None
        batch_tokens = per_step * (seq_len - 1) if seq_len else None
        if batch_tokens:
            config["batch_tokens_source"] = "first training example"  # exact for fixed-length rows
        self._last_step = int(state.global_step or 0)  # a resumed Trainer starts past 0
        seen = getattr(state, "num_input_tokens_seen", 0)
        self._tokens_seen = int(seen) if isinstance(seen, (int, float)) and not isinstance(seen, bool) and seen > 0 else 0
        self.logger = RunLogger(
            self.run_dir,
            vocab_size=vocab,
            data=self.data,
            seq_len=seq_len,
            batch_tokens=batch_tokens,
            pretrained=_is_pretrained(model),
            dropout=_dropout(cfg),
            model=model_rec,
            config=config,
            loss_scale=loss_scale(model, _first(loader)),
            device=str(getattr(args, "device", "unknown")),
            writer="lossdoc.integrations.hf",
            resume=resuming,
            overwrite=self.overwrite and not resuming,
        )

    def _tokens(self, state) -> int | None:
        """Input tokens per optimizer step since the last log, from state.num_input_tokens_seen (include_num_input_tokens_seen)."""
        seen = getattr(state, "num_input_tokens_seen", None)
        steps = int(state.global_step) - self._last_step
        self._last_step = int(state.global_step)
        if isinstance(seen, (int, float)) and not isinstance(seen, bool) and seen > self._tokens_seen and steps > 0:
            n, self._tokens_seen = int(seen) - self._tokens_seen, int(seen)
            return n // steps
        return None

    def _log(self, args, state, control, logs: dict) -> None:
        if self.logger is None or "loss" not in logs:
            return
        self.logger.batch(
            max(1, state.global_step), logs["loss"], tokens=self._tokens(state), lr=logs.get("learning_rate"), grad_norm=logs.get("grad_norm")
        )
        self._maybe_stop(control)

    def _evaluate(self, args, state, control, metrics: dict) -> None:
        if self.logger is None or "eval_loss" not in metrics:
            return
        # the Trainer's own (fractional) epoch, as its trainer_state.json says: explain names the evaluation by it
        self.logger.eval(state.global_step, metrics["eval_loss"], extra=_trainer_epoch(state))
        self._maybe_stop(control)

    def _maybe_stop(self, control) -> None:
        self._pending = self._pending or pending_stop(self)

    def _sync(self, args, state, control) -> None:
        """Every process, at the same step: stop when the main process decided to (one all-reduce when distributed)."""
        if self.stop_on is None or self.stopped:
            return
        if not share(self._pending is not None, getattr(args, "device", None)):
            return
        self.stopped = True
        control.should_training_stop = True
        if self._pending is not None:
            self.stop_line = self._pending
            announce(self._pending)

    def _end(self, state) -> None:
        if self.logger is not None:
            epoch = _trainer_epoch(state).get("trainer_epoch")  # epochs_completed: the Trainer's whole epochs done
            done = int(math.floor(epoch + 1e-9)) if epoch is not None else None
            self.logger.close("stopped" if self.stopped else "completed", steps=int(state.global_step or 0), epochs=done)
