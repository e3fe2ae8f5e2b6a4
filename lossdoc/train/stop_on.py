"""``lossdoc train --stop-on broken|overfitting``: lossdoc's own diagnosis of the run, while it runs.

The loop calls ``check(run, ...)`` after each step and at each epoch end (two one-line hooks in loop.py). The
run's log is followed with lossdoc.runlog.follow.JsonlTail (each check reads only the records written since the
last one) and diagnosed by lossdoc.analysis.diagnose, as `lossdoc explain` would:

* at each epoch end (after the epoch record and its checkpoints): stop when the verdict is at least as bad as
  ``--stop-on`` (broken; or overfitting: overfitting or broken);
* every CHECK_EVERY batches, and at once after a non-finite loss (``--on_nonfinite skip``; with ``stop`` such a
  run already ends as failed): stop when the verdict is broken (non-finite losses, divergence).

A stopped run logs a ``stopped`` event with the verdict and the failing checks, ends with status ``stopped``
and exit code 1; checkpoints/best.pt (and last.pt of the last epoch end) are kept as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

STOP_ON = ("broken", "overfitting")
SEVERITY = {"broken": 2, "overfitting": 1}
CHECK_EVERY = 200  # batches between two mid-epoch checks


@dataclass
class _Watch:
    tail: Any
    batches: int = 0


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
        if not nonfinite and watch.batches % CHECK_EVERY:
            return None
    need = SEVERITY[level] if epoch_end else SEVERITY["broken"]
    decision = run.dist.from_main(lambda: _decide(watch, need))
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
