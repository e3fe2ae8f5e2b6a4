"""``lossdoc train --stop-on broken|overfitting``: lossdoc's own diagnosis of the run, while it runs.

The loop calls ``check(run, ...)`` after each step and at each epoch end (two one-line hooks in loop.py). The
run's log is followed with lossdoc.runlog.follow.JsonlTail (each check reads only the records written since the
last one) and diagnosed by lossdoc.analysis.diagnose, as `lossdoc explain` would:

* at each epoch end (after the epoch record and its checkpoints): stop when the verdict is at least as bad as
  ``--stop-on`` (broken; or overfitting: overfitting or broken);
* every CHECK_EVERY batches or more, and at once after a non-finite loss (``--on_nonfinite skip``; with ``stop``
  such a run already ends as failed): stop when the verdict is broken (non-finite losses, divergence). A
  diagnosis reads the whole log, so its cost grows with the run: the gap to the next mid-epoch check grows
  with it (``check_interval``), keeping those checks near CHECK_BUDGET of the training time on long runs.

A stopped run logs a ``stopped`` event with the verdict and the failing checks, ends with status ``stopped``
and exit code 1; checkpoints/best.pt (and last.pt of the last epoch end) are kept as they were.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STOP_ON = ("broken", "overfitting")
SEVERITY = {"broken": 2, "overfitting": 1}
CHECK_EVERY = 200  # batches between two mid-epoch checks, at least
CHECK_BUDGET = 0.02  # the share of training time mid-epoch checks aim to stay under


@dataclass
class _Watch:
    tail: Any
    batches: int = 0
    next_at: int = 0  # the batch count of the next mid-epoch check (0: CHECK_EVERY)


def check_interval(diagnosis_s: float, step_s: float) -> int:
    """Batches until the next mid-epoch check: CHECK_EVERY, or more when a diagnosis costs more than
    CHECK_BUDGET of the steps in between (a diagnosis of diagnosis_s seconds, steps of step_s seconds)."""
    if step_s <= 0 or not math.isfinite(diagnosis_s / step_s):
        return CHECK_EVERY
    return max(CHECK_EVERY, math.ceil(diagnosis_s / (CHECK_BUDGET * step_s)))


def check(run: Any, *, epoch_end: bool, nonfinite: bool = False):
    """A TrainResult (status stopped) when the run should stop now, else None. ``run`` is loop._Run.

    When a check is due is the same on every rank (the step count, and a non-finite loss after the all-reduce);
    rank 0, which writes the log, reads and diagnoses it, and every rank gets its decision, so all stop together."""
    level = run.cfg.stop_on
    if level is None:
        return None
    if run.stop_watch is None:
        from lossdoc.runlog.follow import JsonlTail

        run.stop_watch = _Watch(JsonlTail(Path(run.log_path)))
    watch = run.stop_watch
    if not epoch_end:
        watch.batches += 1
        if not nonfinite and watch.batches < (watch.next_at or CHECK_EVERY):
            return None
    need = SEVERITY[level] if epoch_end else SEVERITY["broken"]
    # rank 0 decides, and times its diagnosis: every rank gets the same decision and the same next check
    decision, every = run.dist.from_main(lambda: _timed_decide(watch, need, run))
    if not epoch_end:
        watch.next_at = watch.batches + every
    if decision is None:
        return None
    verdict, failing = decision
    run.event(
        "stopped",
        "train.event.stopped",
        {"stop_on": level, "verdict": verdict, "findings": failing},
        stop_on=level,
        verdict=verdict,
        findings=failing,
    )
    return run.finish("stopped", 1)


def _timed_decide(watch: _Watch, need: int, run: Any) -> tuple[tuple[str, list[str]] | None, int]:
    """_decide's answer, and the batches until the next mid-epoch check (from the diagnosis' cost)."""
    t = time.perf_counter()
    decision = _decide(watch, need)
    step_s = run.elapsed() / max(run.state.step, 1)
    return decision, check_interval(time.perf_counter() - t, step_s)


def _decide(watch: _Watch, need: int) -> tuple[str, list[str]] | None:
    """(verdict, failing checks) when the log read so far is at least ``need`` bad, else None."""
    from lossdoc.analysis import diagnose

    watch.tail.read_new()
    current = watch.tail.run()
    if current is None:
        return None
    diagnosis = diagnose(current)
    if SEVERITY.get(diagnosis.verdict, 0) < need:
        return None
    return diagnosis.verdict, [f.code for f in diagnosis.findings if f.status == "fail"]
