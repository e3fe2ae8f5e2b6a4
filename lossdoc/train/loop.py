"""The training loop: data -> model -> loss -> AdamW, with a run log and checkpoints.

Read ``_train`` first: it is the whole algorithm in one screen. ``_setup`` builds the run
(data, model, optimizer, restored from last.pt when resuming), ``train_step`` is one optimizer
step and returns a StepResult, ``_after_step`` logs it, ``_end_epoch`` validates and saves.
Every ``--inject`` fault goes through a FaultPlan (lossdoc.train.faults); the comments marked
"device sync" are where the host waits for the accelerator.

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
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

import lossdoc
from lossdoc import floors
from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.events import event_record
from lossdoc.runlog.files import LEGACY_LOG, RUN_LOG, RUNS_DIR, log_in
from lossdoc.runlog.writer import JsonlLogger, RunLogger
from lossdoc.train import stop_on
from lossdoc.train.checkpoint import load_checkpoint, remove_stale_temps, save_checkpoint
from lossdoc.train.config import TrainConfig, dump_yaml, resolve_config
from lossdoc.train.data import Dataset, TokenRows, load_data, save_run_tokenizer
from lossdoc.train.distributed import Dist, QuietLogger, check_divides, choose_backend, in_launched_process, lost_peer
from lossdoc.train.faults import EXPLODING_LR_FACTOR, LARGE_INIT_SCALE, FaultPlan, nan_loss_step  # noqa: F401 (re-exported)
from lossdoc.train.model import TransformerLM
from lossdoc.train.threads import ThreadPick, pick_threads

INIT_TRAIN_BATCHES = 4  # training batches measured at initialisation (epoch 0)
RUN_FILES = (RUN_LOG, LEGACY_LOG, "config.yaml", ".config.yaml.tmp", "tokenizer.json")  # what --overwrite removes, with checkpoints/*.pt


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
    rank: int = 0  # this process's rank in a distributed run: only rank 0 prints the summary
    steps_saved: int | None = None  # stopped by --stop-on plateau: the planned steps not run (lossdoc.train.stop_on)

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
        if self.requested and signum != signal.SIGTERM:  # SIGTERM (torchrun forwards one after a Ctrl-C) never aborts
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def _sigint(handler: _Interrupt, *, sigterm: bool = False) -> Iterator[None]:
    """Ctrl-C goes to ``handler``; so does SIGTERM in a distributed run (torchrun stops its workers with it)."""
    signums = [signal.SIGINT, signal.SIGTERM] if sigterm else [signal.SIGINT]
    try:
        previous = {s: signal.signal(s, handler) for s in signums}
    except ValueError:  # not the main thread: no signal handling
        yield
        return
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


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

    Started by torchrun (RANK and WORLD_SIZE set), every process calls this: it joins the process group
    and leaves it before returning (lossdoc.train.distributed, docs/distributed.md).
    """
    reporter = reporter or NullReporter()
    dist = Dist.from_env()
    if resume is not None:
        out = Path(resume)
        if not (out / "checkpoints" / "last.pt").is_file():
            raise LossdocError("error.resume_missing", path=str(out))
        cfg = resolve_config(out / "config.yaml", **{**(overrides or {}), "out": str(out)})
        ckpt = load_checkpoint(out / "checkpoints" / "last.pt")
        if dist.is_main:
            for name in ("last.pt", "best.pt"):
                remove_stale_temps(out / "checkpoints" / name)
    else:
        assert cfg is not None, "train() needs a config or a run folder to resume"
        pick_device(cfg.device)  # an unavailable device fails before the run folder is made
        ckpt = None
    _start_process_group(dist, cfg)
    together = False  # every rank returned from _train (ended, stopped or interrupted in step)
    threads_before = torch.get_num_threads()  # _setup sets the run's count (--threads); the process gets its own back
    try:
        if ckpt is None:
            out_existed = cfg.out is not None and bool(cfg.out) and Path(cfg.out).exists()
            out = dist.from_main(lambda: prepare_out_dir(cfg, overwrite=overwrite))  # rank 0 makes it, every rank gets its name
            cfg.out = str(out)
        try:
            result = _train(cfg, out, ckpt, reporter, stop_at_step, dist)
            together = True
            return result
        except BaseException:
            if ckpt is None and dist.is_main:
                _undo_fresh_start(out, out_existed)
            raise
    finally:
        dist.stop(together=together)
        torch.set_num_threads(threads_before)


def _start_process_group(dist: Dist, cfg: TrainConfig) -> None:
    """Join torchrun's process group: gloo on the CPU, NCCL on CUDA (``--backend auto``). Nothing in a single process."""
    if in_launched_process():
        device = pick_device(cfg.device)
        dist.start(choose_backend(cfg.backend, device.type), dist.device(device))


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


def _train(
    cfg: TrainConfig, out: Path, ckpt: dict[str, Any] | None, reporter: Reporter, stop_at_step: int | None, dist: Dist | None = None
) -> TrainResult:
    """The algorithm: epoch 0 (or the resumed position), then for each epoch one optimizer step
    per batch in the epoch's order, then validation and checkpoints. Every way a run ends
    (completed, interrupted, failed) goes through ``_Run.finish``."""
    run = _setup(cfg, out, ckpt, reporter, dist or Dist())
    state = run.state
    # Ctrl-C (and SIGTERM in a distributed run) go to run.interrupt until the run's end is logged and shown, the except
    # clauses included: torchrun sends SIGTERM to the other ranks as soon as it sees one die, and a rank 0 whose collective
    # failed with the lost peer was killed by it (the default action) before it printed which rank was lost.
    with _sigint(run.interrupt, sigterm=run.dist.enabled):
        try:
            _begin(run, resumed=ckpt is not None)
            if run.compile_unavailable is not None:  # the one warning of a --compile that falls back
                reason = run.compile_unavailable
                run.event("compile_unavailable", f"train.event.compile_unavailable.{reason}", {}, reason=reason)
            run.model.train()
            while state.epoch < cfg.epochs:
                epoch = state.epoch + 1
                order = run.dist.shard(epoch_order(run.num_train, cfg.seed, epoch))  # this rank's rows (all of them in one process)
                while state.batch < run.num_batches:
                    if run.stop_requested(stop_at_step):
                        return _stop_at_boundary(run, epoch)
                    b = state.batch
                    rows = run.data.train[order[b * cfg.batch_size : (b + 1) * cfg.batch_size]].to(run.device)  # host -> device copy
                    step = train_step(
                        run.model if run.step_model is None else run.step_model,
                        run.optimizer,
                        run.scaler,
                        rows,
                        step=state.step + 1,
                        faults=run.faults,
                        autocast=run.autocast,
                        grad_clip=cfg.grad_clip,
                        reduce=run.dist.mean_loss,
                    )
                    if (ended := _after_step(run, epoch, step)) is not None:
                        return ended
                if (ended := _end_epoch(run, epoch)) is not None:
                    return ended
            return run.finish("completed", 0)
        except KeyboardInterrupt:
            # Second Ctrl-C: stop now. Checkpoints are atomic, so last.pt is the previous complete one.
            run.event("interrupted", "train.event.aborted", {}, aborted=True, path=str(out))
            return run.finish("interrupted", 130)
        except RuntimeError as exc:
            # Another rank was lost (SIGKILL, out of memory, a crashed node): the collective this rank waited in
            # fails. One line naming it and a failed end record; last.pt of the last epoch end resumes the run.
            why = lost_peer(exc) if run.dist.enabled else None
            if why is None:
                raise
            world = run.dist.world_size
            args: dict[str, Any] = {"world": world, "detail": why, "path": str(out)}
            if world == 2:  # the only other one
                lost = 1 - run.dist.rank
                run.event("rank_lost", "train.event.rank_lost", {**args, "lost": lost}, lost_rank=lost, world_size=world)
            else:
                run.event("rank_lost", "train.event.rank_lost_unknown", args, world_size=world)
            return run.finish("failed", 1)
        except LossdocError as exc:
            # A write failed (disk full, unwritable folder): checkpoints on disk are the complete
            # ones saved before; end the log as failed if it can still be written, then report.
            end = run.end_record("failed")
            if exc.key == "error.io" and not getattr(run.logger, "failed", False):
                try:
                    run.logger.log(event_record("io_error", state.step, exc.key, {k: str(v) for k, v in exc.args_.items()}))
                    run.logger.log(end)
                except LossdocError:
                    pass
            reporter.end(end)
            raise
        finally:
            run.logger.close()


@dataclass
class StepResult:
    """What one optimizer step did, for the log and for the loop's bookkeeping."""

    loss: float  # the batch's mean loss per token (NaN or inf when non-finite)
    grad_norm: float  # total gradient norm before clipping; NaN when no backward pass ran
    tokens: int  # labels in the batch
    skipped: bool  # the update was not applied: a non-finite loss or gradient norm

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss)


def build_optimizer(model: torch.nn.Module, *, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, with PyTorch's fused kernel (one pass over every parameter) where this torch has one for the
    parameters' device, else its default multi-tensor (foreach) kernel. Same update to rounding: the loss curve
    of a seeded run stays within 1e-4 of the single-tensor kernel's (tests/train/test_speed.py); speed in docs/performance.md."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused AdamW for this device or torch
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


COMPILE_UNAVAILABLE = ("no-torch-compile", "no-cxx", "no-triton")  # why --compile falls back (train.event.compile_unavailable.*)


def compile_unavailable(device: torch.device) -> str | None:
    """Why torch.compile cannot work here, as a COMPILE_UNAVAILABLE code (no C++ compiler for the CPU,
    no Triton for CUDA), or None."""
    if not hasattr(torch, "compile"):
        return "no-torch-compile"
    if device.type == "cpu":
        names = [os.environ.get("CXX"), "g++", "c++", "clang++"]
        if not any(shutil.which(n) for n in names if n):
            return "no-cxx"
    if device.type == "cuda":
        import importlib.util

        if importlib.util.find_spec("triton") is None:
            return "no-triton"
    return None


def compile_model(model: torch.nn.Module, device: torch.device) -> tuple[torch.nn.Module, str | None]:
    """``torch.compile(model)`` for the training step, or ``(model, reason code)`` where no compiler exists.

    The compiled model shares the eager model's parameters; evaluation and checkpoints keep using the eager
    one. Dropout draws from torch's own generator as in eager mode (``fallback_random``), so a compiled run
    uses the eager run's masks and its loss curve stays within 1e-4 of it (a slow test); a graph that fails to compile runs eagerly (``suppress_errors``)."""
    reason = compile_unavailable(device)
    if reason is not None:
        return model, reason
    import torch._dynamo
    import torch._inductor.config

    torch._inductor.config.fallback_random = True
    torch._dynamo.config.suppress_errors = True
    compiled: torch.nn.Module = torch.compile(model)  # type: ignore[assignment]  # an OptimizedModule around model
    return compiled, None


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    rows: torch.Tensor,
    *,
    step: int,
    faults: FaultPlan,
    autocast,
    grad_clip: float,
    reduce=None,
) -> StepResult:
    """One optimizer step on one batch of sequences (already on the device); ``step`` is its 1-based number.
    ``reduce(loss, tokens)``: the global batch's loss and tokens in a distributed run (Dist.mean_loss)."""
    inputs, labels = split_batch(rows, shifted=faults.shifted_labels)
    with autocast():
        loss = model(inputs, labels)  # the mean next-token cross-entropy, fused with the head on a CPU
    loss = faults.loss(loss, step)
    # device sync: the host decides on the loss whether to update (every rank on the same, all-reduced loss)
    loss_value, tokens = reduce(loss, labels.numel()) if reduce is not None else (loss.item(), labels.numel())
    if not math.isfinite(loss_value):
        return StepResult(loss_value, math.nan, tokens, skipped=True)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    max_norm = grad_clip if grad_clip > 0 else math.inf
    grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm))  # device sync: the norm is logged and checked
    if math.isfinite(grad_norm) or scaler.is_enabled():
        scaler.step(optimizer)  # the scaler skips non-finite steps itself
        scaler.update()
        return StepResult(loss_value, grad_norm, tokens, skipped=False)
    return StepResult(loss_value, grad_norm, tokens, skipped=True)


@dataclass
class _Run:
    """A run in progress: what setup built, and what every phase shares (time, log, checkpoints, the end)."""

    cfg: TrainConfig
    out: Path
    reporter: Reporter
    device: torch.device
    amp_dtype: torch.dtype | None
    data: Dataset
    faults: FaultPlan
    model: torch.nn.Module  # the TransformerLM, or the DistributedDataParallel around it
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    state: _State
    header: dict[str, Any]
    log_path: Path
    logger: RunLogger
    log_was_empty: bool
    last_epoch_record: dict[str, Any] | None
    interrupt: _Interrupt = field(default_factory=_Interrupt)
    t0: float = field(default_factory=time.perf_counter)
    dist: Dist = field(default_factory=Dist)
    step_model: torch.nn.Module | None = None  # what train_step calls: the torch.compile'd model with --compile
    compile_unavailable: str | None = None  # why --compile fell back to eager mode (logged as an event by _train)
    threads: ThreadPick | None = None  # this process's CPU thread count (a resumed run keeps its first count unless --threads is given)
    stop_watch: Any = None  # --stop-on's follower of this run's log (lossdoc.train.stop_on), made at its first check

    @property
    def num_train(self) -> int:
        return self.data.train.shape[0]

    @property
    def global_batch(self) -> int:
        """Sequences per optimizer step over all ranks: the per-rank batch_size x world size."""
        return self.cfg.batch_size * self.dist.world_size

    @property
    def num_batches(self) -> int:
        return math.ceil(self.num_train / self.global_batch)

    @property
    def module(self) -> TransformerLM:
        """The model itself (inside DistributedDataParallel in a distributed run)."""
        inner = getattr(self.model, "module", self.model)
        assert isinstance(inner, TransformerLM)
        return inner

    def stop_requested(self, stop_at_step: int | None) -> bool:
        """Ctrl-C (or SIGTERM, or ``stop_at_step``) on any rank: every rank stops at this step boundary."""
        flag = self.interrupt.requested or (stop_at_step is not None and self.state.step >= stop_at_step)
        return self.dist.any_rank(flag, self.device)

    def elapsed(self) -> float:
        """Training time of the whole run, this process and the ones before it."""
        return round(self.state.elapsed_s + time.perf_counter() - self.t0, 3)

    def autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def evaluate(self, rows: torch.Tensor | TokenRows) -> tuple[float, int]:
        """Mean loss per token over ``rows`` without gradients (dropout off), and the token count.
        Distributed: each rank evaluates rows[rank::world] and (loss sum, tokens) are all-reduced."""
        self.model.eval()
        total, count = 0.0, 0
        rows = self.dist.shard(rows)
        with torch.no_grad():
            for i in range(0, rows.shape[0], self.cfg.batch_size):
                inputs, labels = split_batch(rows[i : i + self.cfg.batch_size].to(self.device), shifted=self.faults.shifted_labels)
                with self.autocast():
                    loss = self.module(inputs, labels)  # not the DDP wrapper: ranks may evaluate different numbers of batches
                total += loss.item() * labels.numel()  # device sync per batch
                count += labels.numel()
        total, count = self.dist.sum_pair(total, count, self.device)
        self.model.train()
        return total / count, count

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a resume needs (state_dict() and the RNG states are copied to the host: a device sync).
        Distributed: every rank calls it (the RNG states of all ranks are gathered); rank 0 saves it."""
        rng = {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else []}
        ranks = self.dist.gather(rng)
        extra = {"distributed": {"world_size": self.dist.world_size, "rng_ranks": ranks}} if self.dist.enabled else {}
        return {
            "epoch_record": self.last_epoch_record,
            "format": "lossdoc.checkpoint/1",
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            "config": self.cfg.to_dict(),
            "header": self.header,
            "tokenizer": self.data.tokenizer,
            "progress": {**self.state.__dict__, "elapsed_s": self.elapsed()},
            "rng": rng,
            **extra,
        }

    def event(self, kind: str, key: str, args: dict[str, Any], **fields: Any) -> None:
        """Log and show an event: its message key and arguments (lossdoc.runlog.events), and its own fields."""
        rec = event_record(kind, self.state.step, key, {"step": self.state.step, **args}, **fields)
        self.logger.log(rec)
        self.reporter.event(rec)

    def end_record(self, status: str) -> dict[str, Any]:
        state = self.state
        return {
            "type": "end",
            "status": status,
            "epochs_completed": state.epoch,
            "steps": state.step,
            "best_val_loss": state.best_val_loss if math.isfinite(state.best_val_loss) else None,
            "skipped_steps": state.skipped_steps,
            "elapsed_s": self.elapsed(),
        }

    def finish(self, status: str, exit_code: int) -> TrainResult:
        end = self.end_record(status)
        self.logger.log(end)
        self.logger.close()
        self.reporter.end(end)
        return TrainResult(
            self.out,
            status,
            self.state.epoch,
            self.state.best_val_loss,
            self.header["data"].get("entropy_floor"),
            int(self.header["vocab_size"]),
            exit_code,
            self.header,
            self.dist.rank,
        )


def _setup(cfg: TrainConfig, out: Path, ckpt: dict[str, Any] | None, reporter: Reporter, dist: Dist | None = None) -> _Run:
    """Data, model, optimizer (restored from ``ckpt`` when resuming), the header and the open log.
    Distributed: the model is wrapped in DistributedDataParallel, and rank 0 alone writes files and reports."""
    dist = dist or Dist()
    device = dist.device(pick_device(cfg.device))
    amp_dtype = None
    if cfg.use_amp:
        amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    started_with = ((ckpt or {}).get("header") or {}).get("env", {}).get("threads")  # a resumed run keeps its count
    threads = pick_threads(cfg.threads, ceiling=torch.get_num_threads(), resumed=started_with if isinstance(started_with, int) else None)
    torch.set_num_threads(threads.threads)
    torch.manual_seed(cfg.seed)
    with dist.main_first():  # rank 0 fills the tokenised-text cache, then the others read it
        data = load_data(cfg)
    check_divides(data.train.shape[0], dist.world_size)
    if dist.is_main:
        try:
            save_run_tokenizer(out, data)
        except OSError as exc:
            raise LossdocError("error.io", path=str(out / "tokenizer.json"), detail=exc.strerror or str(exc)) from None
    faults = FaultPlan.for_run(cfg.inject, epochs=cfg.epochs, num_batches=math.ceil(data.train.shape[0] / (cfg.batch_size * dist.world_size)))
    faults.leak_validation(data)

    lm = TransformerLM(cfg.model_config()).to(device)
    if dist.rank:  # dropout masks of their own on ranks 1..N-1 (rank 0 draws what a single process draws)
        torch.manual_seed(cfg.seed + 1_000_003 * dist.rank)
    optimizer = build_optimizer(lm, lr=faults.lr(cfg.lr), weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    state = _State()
    if ckpt is not None:
        _restore(ckpt, out, device, lm, optimizer, scaler, state, dist)

    header = _run_header(cfg, data, lm, device, amp_dtype)
    header["env"].update(threads=threads.threads, threads_pick=threads.header())
    model: torch.nn.Module = lm  # inside DistributedDataParallel in a distributed run
    if dist.enabled:
        header["batch_tokens"] = cfg.batch_size * dist.world_size * (cfg.seq_len - 1)  # the global batch
        header["distributed"] = dist.header(cfg.batch_size)
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if ckpt is not None:
        header = ckpt.get("header", header)
    elif dist.is_main:
        _write_text_atomic(out / "config.yaml", dump_yaml(cfg))
    log_path = log_in(out)
    log_was_empty = not log_path.is_file() or log_path.stat().st_size == 0
    run = _Run(
        cfg,
        out,
        reporter if dist.is_main else NullReporter(),
        device,
        amp_dtype,
        data,
        faults,
        model,
        optimizer,
        scaler,
        state,
        header,
        log_path=log_path,
        logger=JsonlLogger(log_path) if dist.is_main else QuietLogger(),
        log_was_empty=log_was_empty,
        last_epoch_record=ckpt.get("epoch_record") if ckpt is not None else None,
        dist=dist,
        threads=threads,
    )
    if cfg.compile:  # the step calls the compiled model (the DDP wrapper in a distributed run); evaluation the eager one
        run.step_model, run.compile_unavailable = compile_model(model, device)
    return run


def _restore(
    ckpt: dict[str, Any],
    out: Path,
    device: torch.device,
    model: TransformerLM,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    state: _State,
    dist: Dist | None = None,
) -> None:
    """Weights, optimizer, scaler, progress and RNG states from last.pt, so the run continues exactly.
    Distributed: the same world size, and each rank its own RNG state."""
    dist = dist or Dist()
    saved_world = (ckpt.get("distributed") or {}).get("world_size", 1)
    if saved_world != dist.world_size:
        raise LossdocError("error.resume_world_size", path=str(out), saved=saved_world, world=dist.world_size)
    try:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise LossdocError("error.checkpoint_bad", path=str(out / "checkpoints" / "last.pt"), detail=str(exc).splitlines()[0][:200]) from None
    for k, v in ckpt["progress"].items():
        setattr(state, k, v)
    rng = ckpt["distributed"]["rng_ranks"][dist.rank] if dist.world_size > 1 else ckpt["rng"]
    torch.set_rng_state(rng["torch"])
    if device.type == "cuda" and rng.get("cuda"):
        torch.cuda.set_rng_state_all(rng["cuda"])


def _begin(run: _Run, *, resumed: bool) -> None:
    """A new run logs its header and epoch 0 (losses before any update); a resumed one repairs its log and says where it resumed."""
    cfg, state, header = run.cfg, run.state, run.header
    if not resumed:
        run.logger.log(header)
        val_loss, val_tokens = run.evaluate(run.data.val)
        train_loss, _ = run.evaluate(run.data.train[: INIT_TRAIN_BATCHES * run.global_batch])
        rec0 = {
            "type": "epoch",
            "epoch": 0,
            "step": 0,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_tokens": val_tokens,
            "elapsed_s": run.elapsed(),
        }
        run.logger.log(rec0)
        run.reporter.start(header, cfg.epochs * run.num_batches, 0)
        run.reporter.epoch(rec0)
        return
    if run.log_was_empty:  # the log was deleted: start it again from the checkpoint's header
        run.logger.log(header)
    last = run.last_epoch_record
    if last is not None and not _has_epoch_record(run.log_path, last["epoch"]):
        # killed after last.pt was saved and before its epoch record was logged
        run.logger.log(last)
    # the reporter counts epochs against this run's --epochs, which --resume may have raised
    env = {**header.get("env", {})}
    if run.threads is not None:  # the count this process trains with, not the first run's
        env.update(threads=run.threads.threads, threads_pick=run.threads.header())
    run.reporter.start(
        {**header, "config": {**header.get("config", {}), "epochs": cfg.epochs}, "env": env},
        cfg.epochs * run.num_batches,
        state.epoch * run.num_batches + state.batch,
    )
    run.event("resumed", "train.event.resumed", {"epoch": state.epoch, "batch": state.batch}, epoch=state.epoch, batch=state.batch)


def _stop_at_boundary(run: _Run, epoch: int) -> TrainResult:
    """Ctrl-C (or ``stop_at_step``) between two steps: save the exact position in last.pt and end as interrupted."""
    ck = run.checkpoint_state()  # every rank: the RNG states are gathered
    if run.dist.is_main:
        save_checkpoint(ck, run.out / "checkpoints" / "last.pt")
    batch, out = run.state.batch, run.out
    run.event("interrupted", "train.event.interrupted", {"epoch": epoch, "batch": batch}, epoch=epoch, batch=batch, path=str(out))
    return run.finish("interrupted", 130)


def _after_step(run: _Run, epoch: int, step: StepResult) -> TrainResult | None:
    """Count the step, log its batch record, and handle a non-finite loss or gradient; a TrainResult when the run stops."""
    state = run.state
    state.batch += 1
    state.step += 1
    rec = {
        "type": "batch",
        "epoch": epoch,
        "batch": state.batch,
        "num_batches": run.num_batches,
        "step": state.step,
        "loss": step.loss,
        "lr": run.optimizer.param_groups[0]["lr"],
        "grad_norm": step.grad_norm,
        "tokens": step.tokens,
        "elapsed_s": run.elapsed(),
    }
    if step.skipped:
        rec["skipped"] = True
    run.logger.log(rec)
    run.reporter.batch(rec)
    if not step.finite:
        run.event(
            "nonfinite_loss",
            "train.event.nonfinite_loss",
            {"value": step.loss, "epoch": epoch, "batch": state.batch},
            epoch=epoch,
            batch=state.batch,
            value=step.loss,
        )
        if run.cfg.on_nonfinite == "stop":
            return run.finish("failed", 1)
        state.skipped_steps += 1
    elif step.skipped:
        state.skipped_steps += 1
        run.event("nonfinite_grad", "train.event.nonfinite_grad", {"value": step.grad_norm}, epoch=epoch, batch=state.batch, value=step.grad_norm)
    else:
        state.epoch_loss_sum += step.loss
        state.epoch_loss_count += 1
    return stop_on.check(run, epoch_end=False, nonfinite=not step.finite, loss=step.loss, skipped=step.skipped)  # --stop-on (None unless it stops)


def _end_epoch(run: _Run, epoch: int) -> TrainResult | None:
    """Validate, keep the best, save last.pt (and best.pt), log the epoch record; a TrainResult when the run stops."""
    state = run.state
    val_loss, val_tokens = run.evaluate(run.data.val)
    train_loss = state.epoch_loss_sum / state.epoch_loss_count if state.epoch_loss_count else math.nan
    if not math.isfinite(val_loss) and run.cfg.on_nonfinite == "stop":
        # the weights are no longer finite: keep the last good checkpoints as they are
        run.event(
            "nonfinite_loss",
            "train.event.nonfinite_val",
            {"value": val_loss, "epoch": epoch},
            epoch=epoch,
            batch=state.batch,
            value=val_loss,
            split="val",
        )
        return run.finish("failed", 1)
    is_best = math.isfinite(val_loss) and val_loss < state.best_val_loss
    if is_best:
        state.best_val_loss = val_loss
    state.epoch, state.batch = epoch, 0
    state.epoch_loss_sum, state.epoch_loss_count = 0.0, 0
    rec = {
        "type": "epoch",
        "epoch": epoch,
        "step": state.step,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "val_tokens": val_tokens,
        "best_val_loss": state.best_val_loss,
        "is_best": is_best,
        "checkpoints": ["last.pt", "best.pt"] if is_best else ["last.pt"],
        "elapsed_s": run.elapsed(),
    }
    run.last_epoch_record = rec
    # best.pt first: a kill between the two saves replays this epoch, which saves best.pt again.
    # The epoch record travels in last.pt, so a kill before it is logged loses nothing.
    ck = run.checkpoint_state()  # every rank: the RNG states are gathered; rank 0 saves
    if is_best and run.dist.is_main:
        save_checkpoint(ck, run.out / "checkpoints" / "best.pt")
    if run.dist.is_main:
        save_checkpoint(ck, run.out / "checkpoints" / "last.pt")
    run.logger.log(rec)
    run.reporter.epoch(rec)
    return stop_on.check(run, epoch_end=True)  # --stop-on (None unless it stops the run)


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
