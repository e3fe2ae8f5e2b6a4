"""The training loop: data -> model -> loss -> AdamW, with a run log and checkpoints.

Records go to a RunLogger (run.jsonl); progress goes to a Reporter (the
CLI's rich console, or nothing). Everything needed to continue a run exactly
(model, optimizer, scaler, RNG states, position inside the epoch, running
epoch loss) is in checkpoints/last.pt, written after every epoch and when the
run is interrupted. docs/reliability.md lists what survives a Ctrl-C, a kill,
a non-finite loss and a full disk, and the tests that show it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import secrets
import signal
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol

import torch

import lossdoc
from lossdoc import floors
from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.files import LEGACY_LOG, RUN_LOG, RUNS_DIR, log_in
from lossdoc.runlog.writer import JsonlLogger, RunLogger
from lossdoc.train.checkpoint import load_checkpoint, remove_stale_temps, save_checkpoint
from lossdoc.train.config import TrainConfig, dump_yaml, resolve_config
from lossdoc.train.data import Dataset, load_data, save_run_tokenizer
from lossdoc.train.model import ModelConfig, TransformerLM, lm_loss

INIT_TRAIN_BATCHES = 4  # training batches measured at initialisation (epoch 0)
EXPLODING_LR_FACTOR = 3e3  # --inject exploding-lr multiplies the lr by this
LARGE_INIT_SCALE = 30.0  # --inject large-init-logits scales the LM head by this
RUN_FILES = (RUN_LOG, LEGACY_LOG, "config.yaml", ".config.yaml.tmp", "tokenizer.json")  # what --overwrite removes, with checkpoints/*.pt


def nan_loss_step(epochs: int, num_batches: int) -> int:
    """--inject nan-loss: the step whose loss is NaN, the middle batch of the last epoch
    (so that earlier epochs have left checkpoints that a stopped run keeps)."""
    return (epochs - 1) * num_batches + num_batches // 2 + 1


class Reporter(Protocol):
    """Receives progress as the run goes; the CLI shows it with rich."""

    def start(self, header: dict[str, Any], total_steps: int, done_steps: int) -> None: ...

    def batch(self, record: dict[str, Any]) -> None: ...

    def epoch(self, record: dict[str, Any]) -> None: ...

    def event(self, record: dict[str, Any]) -> None: ...

    def end(self, record: dict[str, Any]) -> None: ...


class NullReporter:
    def start(self, header, total_steps, done_steps): ...
    def batch(self, record): ...
    def epoch(self, record): ...
    def event(self, record): ...
    def end(self, record): ...


@dataclass
class TrainResult:
    out_dir: Path
    status: str  # completed | interrupted | failed
    epochs_completed: int
    best_val_loss: float
    entropy_floor: float | None
    vocab_size: int
    exit_code: int = 0
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics_path(self) -> Path:
        """The run log (run.jsonl; metrics.jsonl in a resumed run made before the rename)."""
        return log_in(self.out_dir)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LossdocError("error.device_unavailable", device=name)
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise LossdocError("error.device_unavailable", device=name)
    return torch.device(name)


def split_batch(ids: torch.Tensor, *, shifted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences (B, L) -> inputs (B, L-1) and labels (B, L-1): labels are the next tokens.

    ``shifted=False`` is the teaching fault --inject unshifted-labels: labels
    equal to the inputs, so the model only has to copy.
    """
    inputs = ids[:, :-1]
    labels = ids[:, 1:] if shifted else ids[:, :-1]
    return inputs, labels


def epoch_order(num_rows: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled row order of one epoch: a function of (seed, epoch) only,
    so a resumed run visits exactly the rows the uninterrupted run would."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_rows, generator=g)


def make_run_id() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class _State:
    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed inside the current epoch
    step: int = 0  # optimizer steps (global)
    best_val_loss: float = math.inf
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0
    skipped_steps: int = 0
    elapsed_s: float = 0.0  # training time before this process started


class _Interrupt:
    """First Ctrl-C asks the loop to stop at the next step boundary; a second aborts."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def _sigint(handler: _Interrupt) -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: no signal handling
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def prepare_out_dir(cfg: TrainConfig, *, overwrite: bool) -> Path:
    """The run folder, made if needed. A folder that already holds a run is refused unless
    ``overwrite``; then only the files lossdoc writes are removed (RUN_FILES and
    checkpoints/*.pt with their temporary files), nothing else in the folder."""
    out = Path(cfg.out) if cfg.out else Path(RUNS_DIR) / make_run_id()
    ckdir = out / "checkpoints"
    try:
        if (out / RUN_LOG).exists() or (out / LEGACY_LOG).exists() or ckdir.exists():
            if not overwrite:
                raise LossdocError("error.out_exists", path=str(out))
            # checkpoints first: a kill in between leaves no last.pt, so nothing looks resumable
            if ckdir.is_dir() and not ckdir.is_symlink():
                for f in [*ckdir.glob("*.pt"), *ckdir.glob(".*.pt.*.tmp")]:
                    f.unlink()
                if not any(ckdir.iterdir()):
                    ckdir.rmdir()
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        ckdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LossdocError("error.io", path=str(getattr(exc, "filename", None) or out), detail=exc.strerror or str(exc)) from None
    return out


def _write_text_atomic(path: Path, text: str) -> None:
    """Write a small text file so that a kill leaves the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LossdocError("error.io", path=str(path), detail=exc.strerror or str(exc)) from None


def _has_epoch_record(log: Path, epoch: int) -> bool:
    """Whether the run log holds the epoch record of ``epoch`` (a scan of the lines that mention one)."""
    try:
        with open(log, "rb") as fh:
            for line in fh:
                if b'"type":"epoch"' not in line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("type") == "epoch" and rec.get("epoch") == epoch:
                    return True
    except OSError:
        return False
    return False


def train(
    cfg: TrainConfig | None = None,
    *,
    resume: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    overwrite: bool = False,
    reporter: Reporter | None = None,
    stop_at_step: int | None = None,
) -> TrainResult:
    """Run (or resume) a training run and return where it ended.

    ``stop_at_step`` behaves exactly like a Ctrl-C after that optimizer step
    (used by tests to interrupt a run deterministically).
    """
    reporter = reporter or NullReporter()
    if resume is not None:
        out = Path(resume)
        if not (out / "checkpoints" / "last.pt").is_file():
            raise LossdocError("error.resume_missing", path=str(out))
        cfg = resolve_config(out / "config.yaml", **{**(overrides or {}), "out": str(out)})
        ckpt = load_checkpoint(out / "checkpoints" / "last.pt")
        for name in ("last.pt", "best.pt"):
            remove_stale_temps(out / "checkpoints" / name)
    else:
        assert cfg is not None, "train() needs a config or a run folder to resume"
        pick_device(cfg.device)  # an unavailable device fails before the run folder is made
        out_existed = bool(cfg.out) and Path(cfg.out).exists()
        out = prepare_out_dir(cfg, overwrite=overwrite)
        cfg.out = str(out)
        ckpt = None
    try:
        return _train(cfg, out, ckpt, reporter, stop_at_step)
    except BaseException:
        if ckpt is None:
            _undo_fresh_start(out, out_existed)
        raise


def _undo_fresh_start(out: Path, out_existed: bool) -> None:
    """A new run that failed before it logged anything (no data, no device, a bad tokenizer) leaves
    no folder behind: a checkpoints/ folder would block the next run with the same --out."""
    log = out / RUN_LOG
    if log.exists() and log.stat().st_size > 0:
        return
    try:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        ckdir = out / "checkpoints"
        if ckdir.is_dir() and not any(ckdir.iterdir()):
            ckdir.rmdir()
        if not out_existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
    except OSError:
        pass


def _train(cfg: TrainConfig, out: Path, ckpt: dict[str, Any] | None, reporter: Reporter, stop_at_step: int | None) -> TrainResult:
    device = pick_device(cfg.device)
    amp_dtype = None
    if cfg.use_amp:
        amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    torch.manual_seed(cfg.seed)
    data = load_data(cfg)
    try:
        save_run_tokenizer(out, data)
    except OSError as exc:
        raise LossdocError("error.io", path=str(out / "tokenizer.json"), detail=exc.strerror or str(exc)) from None
    if cfg.inject == "val-leak":
        data.val = data.train[: data.val.shape[0]].clone()

    model_cfg = ModelConfig(
        vocab_size=cfg.vocab_size,
        max_len=cfg.seq_len,
        d_model=cfg.d_model,
        num_layers=cfg.num_layers,
        num_heads=cfg.num_heads,
        d_ff=cfg.d_ff,
        dropout=cfg.dropout,
        causal=cfg.inject != "no-causal-mask",
        init_logit_scale=LARGE_INIT_SCALE if cfg.inject == "large-init-logits" else 1.0,
    )
    model = TransformerLM(model_cfg).to(device)
    lr = 0.0 if cfg.inject == "zero-lr" else cfg.lr * (EXPLODING_LR_FACTOR if cfg.inject == "exploding-lr" else 1.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    shifted = cfg.inject != "unshifted-labels"

    state = _State()
    if ckpt is not None:
        try:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            if ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise LossdocError("error.checkpoint_bad", path=str(out / "checkpoints" / "last.pt"), detail=str(exc).splitlines()[0][:200]) from None
        for k, v in ckpt["progress"].items():
            setattr(state, k, v)
        torch.set_rng_state(ckpt["rng"]["torch"])
        if device.type == "cuda" and ckpt["rng"].get("cuda"):
            torch.cuda.set_rng_state_all(ckpt["rng"]["cuda"])

    num_train = data.train.shape[0]
    num_batches = math.ceil(num_train / cfg.batch_size)
    nan_step = nan_loss_step(cfg.epochs, num_batches) if cfg.inject == "nan-loss" else None
    header = _run_header(cfg, data, model, device, amp_dtype)
    if ckpt is not None:
        header = ckpt.get("header", header)
    else:
        _write_text_atomic(out / "config.yaml", dump_yaml(cfg))

    log_path = log_in(out)
    log_was_empty = not log_path.is_file() or log_path.stat().st_size == 0
    logger: RunLogger = JsonlLogger(log_path)
    interrupt = _Interrupt()
    t0 = time.perf_counter()

    def elapsed() -> float:
        return round(state.elapsed_s + time.perf_counter() - t0, 3)

    def amp_ctx():
        return torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()

    def evaluate(rows: torch.Tensor) -> tuple[float, int]:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, rows.shape[0], cfg.batch_size):
                inputs, labels = split_batch(rows[i : i + cfg.batch_size].to(device), shifted=shifted)
                with amp_ctx():
                    logits = model(inputs)
                loss = lm_loss(logits, labels)
                total += loss.item() * labels.numel()
                count += labels.numel()
        model.train()
        return total / count, count

    last_epoch_record: dict[str, Any] | None = ckpt.get("epoch_record") if ckpt is not None else None

    def checkpoint_state() -> dict[str, Any]:
        return {
            "epoch_record": last_epoch_record,
            "format": "lossdoc.checkpoint/1",
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler.is_enabled() else {},
            "config": cfg.to_dict(),
            "header": header,
            "tokenizer": data.tokenizer,
            "progress": {**state.__dict__, "elapsed_s": elapsed()},
            "rng": {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else []},
        }

    def end_record(status: str) -> dict[str, Any]:
        return {
            "type": "end",
            "status": status,
            "epochs_completed": state.epoch,
            "steps": state.step,
            "best_val_loss": state.best_val_loss if math.isfinite(state.best_val_loss) else None,
            "skipped_steps": state.skipped_steps,
            "elapsed_s": elapsed(),
        }

    def finish(status: str, exit_code: int) -> TrainResult:
        end = end_record(status)
        logger.log(end)
        logger.close()
        reporter.end(end)
        return TrainResult(out, status, state.epoch, state.best_val_loss, header["data"].get("entropy_floor"), cfg.vocab_size, exit_code, header)

    def event(kind: str, message: str, **extra: Any) -> None:
        rec = {"type": "event", "kind": kind, "step": state.step, "message": message, **extra}
        logger.log(rec)
        reporter.event(rec)

    try:
        with _sigint(interrupt):
            if ckpt is None:
                logger.log(header)
                val_loss, val_tokens = evaluate(data.val)
                train_loss, _ = evaluate(data.train[: INIT_TRAIN_BATCHES * cfg.batch_size])
                rec0 = {"type": "epoch", "epoch": 0, "step": 0, "train_loss": train_loss, "val_loss": val_loss, "val_tokens": val_tokens, "elapsed_s": elapsed()}
                logger.log(rec0)
                reporter.start(header, cfg.epochs * num_batches, 0)
                reporter.epoch(rec0)
            else:
                if log_was_empty:  # the log was deleted: start it again from the checkpoint's header
                    logger.log(header)
                if last_epoch_record is not None and not _has_epoch_record(log_path, last_epoch_record["epoch"]):
                    # killed after last.pt was saved and before its epoch record was logged
                    logger.log(last_epoch_record)
                # the reporter counts epochs against this run's --epochs, which --resume may have raised
                reporter.start({**header, "config": {**header.get("config", {}), "epochs": cfg.epochs}}, cfg.epochs * num_batches,
                               state.epoch * num_batches + state.batch)
                event("resumed", f"resumed from checkpoints/last.pt at epoch {state.epoch}, batch {state.batch}, step {state.step}", epoch=state.epoch, batch=state.batch)

            model.train()
            while state.epoch < cfg.epochs:
                epoch = state.epoch + 1
                order = epoch_order(num_train, cfg.seed, epoch)
                while state.batch < num_batches:
                    if interrupt.requested or (stop_at_step is not None and state.step >= stop_at_step):
                        save_checkpoint(checkpoint_state(), out / "checkpoints" / "last.pt")
                        event("interrupted", f"interrupted at epoch {epoch}, batch {state.batch}; resume with: lossdoc train --resume {out}", epoch=epoch, batch=state.batch, path=str(out))
                        return finish("interrupted", 130)
                    b = state.batch
                    rows = data.train[order[b * cfg.batch_size : (b + 1) * cfg.batch_size]].to(device)
                    inputs, labels = split_batch(rows, shifted=shifted)
                    with amp_ctx():
                        logits = model(inputs)
                    loss = lm_loss(logits, labels)
                    if nan_step is not None and state.step + 1 == nan_step:
                        loss = loss * math.nan  # --inject nan-loss
                    loss_value = loss.item()
                    grad_norm = math.nan
                    skipped = False
                    if math.isfinite(loss_value):
                        optimizer.zero_grad(set_to_none=True)
                        scaler.scale(loss).backward()
                        scaler.unscale_(optimizer)
                        max_norm = cfg.grad_clip if cfg.grad_clip > 0 else math.inf
                        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm))
                        if math.isfinite(grad_norm) or scaler.is_enabled():
                            scaler.step(optimizer)  # the scaler skips non-finite steps itself
                            scaler.update()
                        else:
                            skipped = True
                    state.batch += 1
                    state.step += 1
                    rec = {
                        "type": "batch",
                        "epoch": epoch,
                        "batch": state.batch,
                        "num_batches": num_batches,
                        "step": state.step,
                        "loss": loss_value,
                        "lr": optimizer.param_groups[0]["lr"],
                        "grad_norm": grad_norm,
                        "tokens": labels.numel(),
                        "elapsed_s": elapsed(),
                    }
                    if not math.isfinite(loss_value) or skipped:
                        rec["skipped"] = True
                    logger.log(rec)
                    reporter.batch(rec)
                    if not math.isfinite(loss_value):
                        event("nonfinite_loss", f"loss is {loss_value} at epoch {epoch}, batch {state.batch}", epoch=epoch, batch=state.batch, value=loss_value)
                        if cfg.on_nonfinite == "stop":
                            return finish("failed", 1)
                        state.skipped_steps += 1
                        continue
                    if skipped:
                        state.skipped_steps += 1
                        event("nonfinite_grad", f"gradient norm is {grad_norm} at step {state.step}; update skipped", epoch=epoch, batch=state.batch, value=grad_norm)
                        continue
                    state.epoch_loss_sum += loss_value
                    state.epoch_loss_count += 1

                val_loss, val_tokens = evaluate(data.val)
                train_loss = state.epoch_loss_sum / state.epoch_loss_count if state.epoch_loss_count else math.nan
                if not math.isfinite(val_loss) and cfg.on_nonfinite == "stop":
                    # the weights are no longer finite: keep the last good checkpoints as they are
                    event("nonfinite_loss", f"validation loss is {val_loss} after epoch {epoch}", epoch=epoch, batch=state.batch, value=val_loss, split="val")
                    return finish("failed", 1)
                is_best = math.isfinite(val_loss) and val_loss < state.best_val_loss
                if is_best:
                    state.best_val_loss = val_loss
                state.epoch, state.batch = epoch, 0
                state.epoch_loss_sum, state.epoch_loss_count = 0.0, 0
                saved = ["last.pt", "best.pt"] if is_best else ["last.pt"]
                rec = {
                    "type": "epoch",
                    "epoch": epoch,
                    "step": state.step,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "val_tokens": val_tokens,
                    "best_val_loss": state.best_val_loss,
                    "is_best": is_best,
                    "checkpoints": saved,
                    "elapsed_s": elapsed(),
                }
                last_epoch_record = rec
                # best.pt first: a kill between the two saves replays this epoch, which saves best.pt again.
                # The epoch record travels in last.pt, so a kill before it is logged loses nothing.
                ck = checkpoint_state()
                if is_best:
                    save_checkpoint(ck, out / "checkpoints" / "best.pt")
                save_checkpoint(ck, out / "checkpoints" / "last.pt")
                logger.log(rec)
                reporter.epoch(rec)
            return finish("completed", 0)
    except KeyboardInterrupt:
        # Second Ctrl-C: stop now. Checkpoints are atomic, so last.pt is the previous complete one.
        event("interrupted", "aborted by a second Ctrl-C; the last complete checkpoint is kept", aborted=True, path=str(out))
        return finish("interrupted", 130)
    except LossdocError as exc:
        # A write failed (disk full, unwritable folder): checkpoints on disk are the complete
        # ones saved before; end the log as failed if it can still be written, then report.
        end = end_record("failed")
        if exc.key == "error.io" and not getattr(logger, "failed", False):
            try:
                logger.log({"type": "event", "kind": "io_error", "step": state.step, "message": exc.render("en")})
                logger.log(end)
            except LossdocError:
                pass
        reporter.end(end)
        raise
    finally:
        logger.close()


def _run_header(cfg: TrainConfig, data: Dataset, model: TransformerLM, device: torch.device, amp_dtype) -> dict[str, Any]:
    return {
        "type": "run",
        "schema": SCHEMA,
        "run_id": Path(cfg.out).name if cfg.out else make_run_id(),
        "started_at": utc_now(),
        "vocab_size": cfg.vocab_size,
        "data": data.header,
        "model": {
            "d_model": cfg.d_model,
            "num_layers": cfg.num_layers,
            "num_heads": cfg.num_heads,
            "d_ff": cfg.d_ff,
            "dropout": cfg.dropout,
            "params": model.num_params(),
            "init_logit_std": floors.default_init_logit_std(cfg.d_model),  # by design; an injected fault does not change the healthy reference
        },
        "batch_tokens": cfg.batch_size * (cfg.seq_len - 1),
        "config": cfg.to_dict(),
        "env": {
            "lossdoc": lossdoc.__version__,
            "torch": str(torch.__version__),
            "python": platform.python_version(),
            "device": str(device),
            "amp": str(amp_dtype).replace("torch.", "") if amp_dtype is not None else None,
        },
    }
