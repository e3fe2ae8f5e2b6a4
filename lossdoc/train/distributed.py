"""Data-parallel training on torch.distributed: the process group, ranks, and the few collectives the loop needs.

``torchrun --nproc-per-node N -m lossdoc train ...`` (or ``lossdoc train --nproc N``, which launches torchrun)
starts N processes with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT in their environment.
``Dist.from_env`` reads them; ``Dist.start`` joins the process group (gloo on the CPU, NCCL on CUDA:
``choose_backend``) and ``Dist.stop`` leaves it. Without those variables the run is one process and every
helper here does nothing, so a single-process run is unchanged.

What the loop asks of this module (docs/distributed.md):

* ``shard``: this rank's rows of an epoch's order, ``order[rank::world]`` as torch's DistributedSampler
  splits them (the order itself is the loop's ``epoch_order(seed, epoch)``, seeded per epoch). The world
  size must divide the training rows, so every rank takes the same number of rows at every step
  (``check_divides``); then DDP's averaged gradient is the gradient of the global batch.
* ``mean_loss``: a loss summed over tokens and the token count, all-reduced: the token-weighted mean of
  the global batch, the same number a single process computes on the same rows.
* ``any_rank``: a flag set on any rank (Ctrl-C, SIGTERM) seen by every rank at the same step.
* ``gather``: one Python object from every rank (the per-rank RNG states of a checkpoint).
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from lossdoc.errors import LossdocError
from lossdoc.train.config import BACKENDS  # noqa: F401 (the choices live in the config)

if TYPE_CHECKING:
    from lossdoc.train.data import TokenRows

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
TIMEOUT_S = 600  # a collective that waits longer than this fails instead of hanging (LOSSDOC_DIST_TIMEOUT_S)


def in_launched_process() -> bool:
    """Whether this process was started by torchrun (or anything that sets RANK and WORLD_SIZE)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def choose_backend(requested: str, device_type: str) -> str:
    """gloo for CPU tensors, NCCL for CUDA ones (``auto``); a backend that cannot run here is one line, exit 2."""
    import torch.distributed as dist

    if requested == "auto":
        return "nccl" if device_type == "cuda" and dist.is_nccl_available() else "gloo"
    if requested == "nccl" and not (torch.cuda.is_available() and dist.is_nccl_available()):
        raise LossdocError("error.nccl_unavailable")
    if requested == "nccl" and device_type != "cuda":
        raise LossdocError("error.nccl_needs_cuda", device=device_type)
    if requested == "gloo" and not dist.is_gloo_available():
        raise LossdocError("error.gloo_unavailable")
    return requested


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP server could listen on ``port`` now (torchrun's rendezvous store needs one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port that is free now, chosen by the OS."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_divides(num_train: int, world_size: int) -> None:
    """The world size must divide the training rows: then each rank takes num_train / world rows per epoch, and
    at every step (the last, partial one too) every rank has the same number of rows and tokens."""
    if world_size > 1 and num_train % world_size:
        fits = [w for w in range(1, min(num_train, 64) + 1) if num_train % w == 0]
        raise LossdocError("error.world_not_dividing", world=world_size, rows=num_train, allowed=", ".join(map(str, fits[:8])))


def _import_before_the_group() -> None:
    """Import torch.distributed.nn before the process group exists. Its functions take ``group=group.WORLD`` as a
    default argument, evaluated at import: imported after init_process_group (DistributedDataParallel's constructor
    imports torch._dynamo, which imports it), they hold the live default group for the life of the process, and
    destroy_process_group left gloo's threads (gloo_tcp_loop, pt_gloo_runloop, and rank 0's store) running until
    interpreter exit, torn down there while the peer exits too: the likely cause of a rank that aborted once in CI
    (SIGABRT, "terminate called without an active exception"; not reproduced here). Imported first, the defaults
    hold None and leaving the group joins those threads at once (tests/train/test_distributed.py counts them)."""
    import torch.distributed.nn  # noqa: F401 (imported for its side effect on the defaults, 20 ms)


@dataclass
class Dist:
    """This process's place in the run: rank, world size, backend. ``Dist()`` is a single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: no process group
    started: bool = False  # this object joined the group (and leaves it in stop())

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Dist:
        """The rank and world size torchrun set; a single process when they are absent."""
        if not in_launched_process():
            return cls()
        try:
            rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
            local = int(os.environ.get("LOCAL_RANK", rank))
        except ValueError:
            raise LossdocError("error.dist_env", detail=f"RANK={os.environ['RANK']!r} WORLD_SIZE={os.environ['WORLD_SIZE']!r}") from None
        if not (world >= 1 and 0 <= rank < world):
            raise LossdocError("error.dist_env", detail=f"RANK={rank} WORLD_SIZE={world}")
        return cls(rank=rank, world_size=world, local_rank=local)

    def device(self, device: torch.device) -> torch.device:
        """Each rank its own GPU (cuda:LOCAL_RANK); CPU and MPS stay as they are."""
        if self.enabled and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def start(self, backend: str, device: torch.device) -> None:
        """Join the process group (env:// rendezvous: MASTER_ADDR and MASTER_PORT from torchrun)."""
        import torch.distributed as dist

        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise LossdocError("error.dist_env", detail=f"{name} is not set (start the run with torchrun or lossdoc train --nproc)")
        timeout = _dt.timedelta(seconds=float(os.environ.get("LOSSDOC_DIST_TIMEOUT_S", TIMEOUT_S)))
        kwargs: dict[str, Any] = {"backend": backend, "rank": self.rank, "world_size": self.world_size, "timeout": timeout}
        if backend == "nccl":
            kwargs["device_id"] = device
        _import_before_the_group()
        try:
            dist.init_process_group(**kwargs)
        except (RuntimeError, ValueError, OSError) as exc:  # DistNetworkError (a taken port, no master) is a RuntimeError
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise LossdocError(
                "error.dist_init", backend=backend, addr=os.environ["MASTER_ADDR"], port=os.environ["MASTER_PORT"], detail=detail
            ) from None
        self.backend, self.started = backend, True

    def stop(self, *, together: bool = False) -> None:
        """Leave the process group (every rank; idempotent). ``together``: the ranks ended the run in step, so they
        meet at a barrier first; no rank then tears its connections down while a peer still reads from them (gloo
        aborts the reading process with "Connection closed by peer"). After an error on one rank the barrier is
        skipped: the others may never reach it."""
        import torch.distributed as dist

        if self.started and dist.is_initialized():
            if together:  # (after an error the group may be broken: leave it at once)
                try:
                    dist.barrier()
                except (RuntimeError, OSError):  # a peer already gone: leave anyway
                    pass
            # nothing else holds the group once the run's model is freed (see _import_before_the_group): its gloo threads
            # are joined here, not left to interpreter exit
            dist.destroy_process_group()
        self.started = False

    # ---- collectives (no-ops in a single process)
    def mean_loss(self, loss: torch.Tensor, tokens: int) -> tuple[float, int]:
        """The token-weighted mean of ``loss`` (a mean per token over ``tokens`` labels) over all ranks, and the
        tokens of all ranks. One all-reduce of (loss x tokens, tokens) in float64."""
        if not self.enabled:
            return loss.item(), tokens  # device sync
        import torch.distributed as dist

        t = torch.stack([loss.detach().double() * tokens, torch.tensor(float(tokens), dtype=torch.float64, device=loss.device)])
        dist.all_reduce(t)
        total, count = t.tolist()  # device sync
        return total / count, int(count)

    def sum_pair(self, total: float, count: int, device: torch.device) -> tuple[float, int]:
        """(sum, count) added over all ranks: sharded evaluation."""
        if not self.enabled:
            return total, count
        import torch.distributed as dist

        t = torch.tensor([total, float(count)], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        s, c = t.tolist()
        return s, int(c)

    def any_rank(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        if not self.enabled:
            return flag
        import torch.distributed as dist

        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order (on every rank)."""
        if not self.enabled:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def from_main(self, fn) -> Any:
        """Run ``fn`` on rank 0 only and give its result (or its LossdocError) to every rank."""
        if not self.enabled:
            return fn()
        import torch.distributed as dist

        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except LossdocError as exc:
                box[0] = ("error", exc.key, exc.args_)
        dist.broadcast_object_list(box, src=0)
        if box[0][0] == "error":
            raise LossdocError(box[0][1], **box[0][2])
        return box[0][1]

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it may fill a cache), then the other ranks."""
        if not self.enabled:
            yield
            return
        import torch.distributed as dist

        if not self.is_main:
            dist.barrier()
        try:
            yield
        finally:
            if self.is_main:
                dist.barrier()

    def shard(self, order: torch.Tensor | TokenRows) -> torch.Tensor | TokenRows:
        """This rank's rows of an epoch order (or of the rows themselves): ``order[rank::world]`` (torch's
        DistributedSampler split)."""
        return order[self.rank :: self.world_size] if self.world_size > 1 else order

    def header(self, per_rank_batch: int) -> dict[str, Any]:
        """The run header's ``distributed`` object (docs/run-log.md)."""
        return {
            "world_size": self.world_size,
            "backend": self.backend,
            "per_rank_batch": per_rank_batch,
            "global_batch": per_rank_batch * self.world_size,
            "sampler": "epoch_order(seed, epoch)[rank::world_size]",
            "loss": "token-weighted all-reduce of (loss x tokens, tokens): the global batch's mean per token",
        }


class QuietLogger:
    """The run log of a rank other than 0: rank 0 alone writes."""

    failed = False

    def log(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------- lossdoc train --nproc N


def precheck(cfg, nproc: int) -> None:
    """What `lossdoc train --nproc N` can refuse before it starts N processes: the backend, the GPUs it needs,
    and (for dummy, zipf and markov data, whose sizes the config fixes) a world size that does not divide
    the training rows. The workers check the same again (text data, a resumed run's world size)."""
    from lossdoc.data.sources import parse_spec
    from lossdoc.train.loop import pick_device

    device = pick_device(cfg.device)
    backend = choose_backend(cfg.backend, device.type)
    if backend == "nccl" and torch.cuda.device_count() < nproc:
        raise LossdocError("error.nproc_devices", nproc=nproc, gpus=torch.cuda.device_count())
    if parse_spec(cfg.data).kind in ("dummy", "zipf", "markov"):
        check_divides(cfg.num_samples - cfg.num_val_samples, nproc)


_PEER_LOST = ("Connection closed by peer", "Connection reset by peer", "Broken pipe", "Connection refused", "NCCL communicator was aborted")


def lost_peer(exc: BaseException) -> str | None:
    """What a failed collective says when another rank is gone (its connection closed or reset: SIGKILL, out of
    memory), in a few words; None for any other error (a bug, which must not be mistaken for a lost rank)."""
    import torch.distributed as dist

    text = str(exc)
    for phrase in _PEER_LOST:
        if phrase in text:
            return phrase
    if isinstance(exc, getattr(dist, "DistNetworkError", ())):
        return text.splitlines()[0][:120] if text else type(exc).__name__
    return None


def _failures(text: str) -> list[tuple[int, int]]:
    """(rank, exit code) of each failed worker in torchrun's report ("rank : 1 (local_rank: 1)" then "exitcode : -9")."""
    import re

    return [(int(r), int(c)) for r, c in re.findall(r"rank\s*:\s*(\d+)[^\n]*\n\s*exitcode\s*:\s*(-?\d+)", text)]


def launch(nproc: int, argv: list[str], *, port: int | None = None, addr: str = "127.0.0.1") -> tuple[int, str | None]:
    """Run ``torchrun --nproc-per-node nproc -m lossdoc train *argv`` on this machine and wait for it.

    Returns (exit code, the workers' one-line error or None). The workers' stdout (rank 0's console) goes
    straight through; their stderr is held until torchrun ends: on success it is passed on, on failure the
    workers' ``lossdoc: error:`` line (every rank prints the same one) replaces torchrun's report. A Ctrl-C
    reaches every worker (they stop at the next step boundary and save) and the launcher waits for them.
    """
    import signal
    import subprocess
    import sys
    import threading

    if in_launched_process():
        raise LossdocError("error.nproc_inside_torchrun")
    if port is None:
        port = free_port()
    elif not port_is_free(port, addr):
        raise LossdocError("error.port_busy", port=port, addr=addr)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))  # torchrun's own default, without its warning
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc-per-node",
        str(nproc),
        "--master-addr",
        addr,
        "--master-port",
        str(port),
        "-m",
        "lossdoc",
        "train",
        *argv,
    ]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    stderr = proc.stderr
    assert stderr is not None  # stderr=PIPE
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: stderr.read(65536), b"")), daemon=True)
    reader.start()
    interrupted = False
    while True:
        try:
            rc = proc.wait()
            break
        except KeyboardInterrupt:  # the workers got the same Ctrl-C: wait for them to save and stop
            interrupted = True
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C is theirs to handle
            except ValueError:
                pass
    reader.join(timeout=10)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    if rc == 0:
        sys.stderr.write(text)
        return 0, None
    import re

    # Ctrl-C in a terminal reaches torchrun even where it does not reach this process (a wrapper, another process
    # group): torchrun then ends with its SignalException. The workers stopped and rank 0 printed the resume line.
    signalled = re.search(r"SignalException: Process \d+ got signal: (\d+)", text)
    if interrupted or (signalled is not None and int(signalled.group(1)) in (signal.SIGINT, signal.SIGTERM)):
        return 130, None
    errors = list(dict.fromkeys(ln.strip() for ln in text.splitlines() if ln.startswith("lossdoc: ")))
    if errors:
        return 2, errors[0]
    failures = _failures(text)
    codes = {c for _, c in failures} or {int(c) for c in re.findall(r"exitcode\s*:\s*(-?\d+)", text)}
    if codes == {130}:
        return 130, None
    root = _failures(text.split("Root Cause", 1)[1]) if "Root Cause" in text else failures  # torchrun SIGTERMs the others
    killed = [(r, c) for r, c in root[:1] if c < 0]
    if killed:  # a rank was lost to a signal (SIGKILL, out of memory): rank 0 said which, unless it was rank 0
        rank, code = killed[0]
        if rank != 0:
            return 1, None
        from lossdoc.i18n import detect_lang, t

        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return 1, f"lossdoc: {t('train.rank_killed', detect_lang(), rank=rank, world=nproc, signal=name)}"
    if codes == {1}:  # the run failed (a non-finite loss under --on-nonfinite stop, a lost rank): rank 0 has said so on stdout
        return 1, None
    last = next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "no output")
    raise LossdocError("error.torchrun_failed", code=rc, detail=last[:200])
