"""What the callbacks share to stop a run: the decision (lossdoc's diagnosis of the log, as `explain` gives it),
the one line that says why, and the all-reduce that gives every process the decision of the one that writes the log.

Only global rank 0 writes the log, so only it can diagnose it. Every rank calls ``share`` at the same points of
training (each batch end for Lightning, each log and evaluation for Hugging Face), and each gets True when rank 0
decided to stop: all processes stop at the same step, none waits in a collective for one that has left.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from lossdoc.train.stop_on import PLATEAU_PATIENCE, PLATEAU_VERDICTS, Plateau, judge
from lossdoc.train.stop_on import STOP_ON as LEVELS

STOP_ON = (None, *LEVELS)


def bind_before_the_group() -> None:
    """Import torch.distributed.nn before the trainer creates its process group (the callbacks' modules are imported
    before Trainer or TrainingArguments make one). Its functions take ``group=group.WORLD`` as a default argument,
    evaluated at import: imported later (DDP's constructor imports it through torch._dynamo) they hold the live group
    for the life of the process, and gloo's threads are then torn down at interpreter exit while the peer exits too:
    a rank aborted so in CI (SIGABRT, "terminate called without an active exception") under the Hugging Face Trainer,
    as lossdoc's own training had (docs/distributed.md). Nothing when torch.distributed is absent or a group already
    exists (importing it then would bind that group)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover (torch is a dependency)
        return
    if dist.is_available() and not dist.is_initialized():
        import torch.distributed.nn  # noqa: F401 (for its side effect on the defaults)


def check_stop_on(stop_on: Any, patience: Any = PLATEAU_PATIENCE) -> Plateau:
    """Checks a callback's ``stop_on`` and ``patience``; the Plateau that counts the patience."""
    if stop_on not in STOP_ON:
        raise ValueError(f"stop_on must be one of {STOP_ON}, not {stop_on!r}")
    if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
        raise ValueError(f"patience must be an integer >= 1 (evaluations in a row), not {patience!r}")
    return Plateau(patience)


def decide(path: Path, level: str, plateau: Plateau | None = None) -> tuple[str, list[str]] | None:
    """(verdict, failing checks) when lossdoc's diagnosis of the log at ``path`` calls for a stop at ``level``
    (lossdoc.train.stop_on.judge: broken; overfitting or worse; plateau: expected-plateau or converged held for
    ``plateau``'s patience, or worse), else None (also when the log is too short to diagnose)."""
    from lossdoc.runlog.readers import read_run

    try:
        return judge(read_run(path), level, plateau)
    except Exception:  # noqa: BLE001 - too early to diagnose (e.g. no record yet)
        return None


def stop_message(level: str, verdict: str, findings: list[str], step: int, patience: int = PLATEAU_PATIENCE) -> str:
    """The one line a stop prints (in the user's language)."""
    from lossdoc.i18n import detect_lang, t

    lang = detect_lang()
    if verdict in PLATEAU_VERDICTS:
        return t("integrations.stopped_plateau", lang, step=step, verdict=t(f"verdict.{verdict}", lang), patience=patience)
    shown = ", ".join(findings) if findings else t("integrations.no_findings", lang)
    return t("integrations.stopped", lang, stop_on=level, step=step, verdict=t(f"verdict.{verdict}", lang), findings=shown)


def announce(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def share(flag: bool, device: Any = None) -> bool:
    """``flag`` OR-ed over every process of the default torch.distributed group (itself when there is none).
    Every process must call it at the same point; ``device``: where the group's backend wants tensors (cuda for NCCL)."""
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        return flag
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return flag
    if device is None:
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(int(t.item()))


def pending_stop(cb: Any) -> str | None:
    """The stop line for a callback (HF or Lightning) whose log now calls for a stop, or None: reads the callback's
    ``stop_on``, ``plateau``, ``logger``, ``_pending`` and ``stopped``; sets its ``verdict`` and writes the ``stopped`` event."""
    if cb.stop_on is None or cb.logger is None or cb.logger.failed or cb._pending is not None or cb.stopped:
        return None
    decision = decide(cb.logger.path, cb.stop_on, cb.plateau)
    if decision is None:
        return None
    cb.verdict, failing = decision
    step = cb.logger.last_step
    held = f" at {cb.plateau.patience} evaluations in a row" if cb.verdict in PLATEAU_VERDICTS else ""
    cb.logger.event("stopped", step, f"stop_on={cb.stop_on}: the verdict is {cb.verdict}{held} (failing checks: {', '.join(failing) or '-'})")
    return stop_message(cb.stop_on, cb.verdict, failing, step, cb.plateau.patience)
