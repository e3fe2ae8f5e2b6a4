"""``lossdoc train --stop-on broken|overfitting|plateau``: lossdoc's own diagnosis of the run, while it runs.

The loop calls ``check(run, ...)`` after each step and at each epoch end (two one-line hooks in loop.py). The
run's log is followed with lossdoc.runlog.follow.JsonlTail (each check reads only the records written since the
last one) and diagnosed by lossdoc.analysis.diagnose, as `lossdoc explain` would:

* at each epoch end (after the epoch record and its checkpoints): stop when the verdict is at least as bad as
  ``--stop-on`` (broken; or overfitting: overfitting or broken);
* mid-epoch, stop when the verdict is broken (non-finite losses, divergence). A step is *suspect* when its loss is
  non-finite, its update was skipped, or its loss is more than SUSPECT_NATS above the lowest batch loss so far:
  suspect steps are checked one by one (the first SUSPECT_EVERY_STEP of a streak, then after 2, 4, 8, ... steps),
  so a run that blows up is stopped as soon as the diagnosis has the evidence, not at the epoch's end. Otherwise a check comes every CHECK_EVERY
  batches or more: a diagnosis reads the whole log, so its cost grows with the run, and the gap to the next
  check grows with it (``check_interval``), keeping those checks near CHECK_BUDGET of the training time.

A stopped run logs a ``stopped`` event with the verdict and the failing checks, ends with status ``stopped`` and
exit code 1. Which checkpoint to use: on a broken stop, the evidence began at the first suspect step since the last
check that found the run sound (else just after that check); the event names the last checkpoint taken before it
(``checkpoint``, ``checkpoint_step``, ``evidence_step``), and checkpoints taken at or after it (their weights had
seen the evidence) are renamed NAME.after-evidence.pt (``moved``), so checkpoints/best.pt is never a blown-up model.
An overfitting stop keeps checkpoints/best.pt, the lowest validation loss.

``plateau``: stop when nothing is left to learn. At each evaluation the verdict is read as for the other levels;
when it is expected-plateau (the validation loss at the data's floor) or converged (the end of the curve flat
within its noise) with the validation loss itself flat (``validation_flat``: no more than explain's val_band below
the lowest before it) at ``patience`` evaluations in a row (``Plateau``), the run stops and keeps checkpoints/best.pt.
It never counts a check with no evaluation after training began, nor an early, inconclusive or still-learning
verdict (any of these starts the count again). A plateau level also stops on broken and overfitting, at once, as
``overfitting`` does: a run that is broken or overfitting has nothing useful left to learn either. The same
definitions serve the Hugging Face and Lightning callbacks (lossdoc.integrations._stop).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STOP_ON = ("broken", "overfitting", "plateau")
SEVERITY = {"broken": 2, "overfitting": 1, "plateau": 0}  # a level stops on the verdicts at least this severe
PLATEAU_VERDICTS = ("expected-plateau", "converged")  # severity 0: nothing left to learn
PLATEAU_PATIENCE = 1  # evaluations in a row with a plateau verdict before stop_on="plateau" stops (docs/integrations.md)
CHECK_EVERY = 200  # batches between two mid-epoch checks, at least
CHECK_BUDGET = 0.02  # the share of training time mid-epoch checks aim to stay under
SUSPECT_NATS = 1.0  # a batch loss this far above the lowest one so far makes its step suspect
SUSPECT_EVERY_STEP = 16  # suspect steps checked one by one before the gap between checks doubles
AFTER = ".after-evidence.pt"  # the suffix of a checkpoint taken after the evidence of a broken stop


def severity(verdict: str) -> int:
    """A verdict's severity on the SEVERITY scale: broken 2, overfitting 1, expected-plateau and converged 0, else -1."""
    if verdict in PLATEAU_VERDICTS:
        return SEVERITY["plateau"]
    return SEVERITY.get(verdict, -1)


@dataclass
class Plateau:
    """How many evaluations in a row ended on a plateau verdict. ``update`` counts each evaluation once (the first
    check that sees it), however often the log is diagnosed in between."""

    patience: int = PLATEAU_PATIENCE
    held: int = 0  # evaluations in a row, up to the last one seen, with a plateau verdict
    seen: int = 0  # evaluations seen (after training began)

    def update(self, at_plateau: bool, evaluations: int) -> bool:
        """Whether the plateau has held for ``patience`` evaluations, given whether a diagnosis of a log with
        ``evaluations`` evaluations after training began found the run at its plateau (``at_plateau``; 0
        evaluations: never a stop)."""
        if evaluations > self.seen:
            self.seen = evaluations
            self.held = self.held + 1 if at_plateau else 0
        return evaluations > 0 and self.held >= self.patience


def evaluations(run: Any) -> int:
    """Evaluations of a read log after training began (lossdoc train's epoch 0, before any update, is not one)."""
    return int((run.epochs.epoch >= 1).sum()) if len(run.epochs) else 0


def validation_flat(run: Any, band: float | None) -> bool:
    """Whether the last validation loss of ``run`` is no more than ``band`` (explain's facts.val_band: two
    validation losses closer than it count as equal) below the lowest one before it. False with no earlier
    evaluation or no known band: a converged verdict then rests on the training curve alone."""
    import numpy as np

    val = np.asarray(run.epochs.val_loss, dtype=float) if len(run.epochs) else np.empty(0)
    val = val[np.isfinite(val)]
    if val.size < 2 or band is None or not np.isfinite(band):
        return False
    return bool(float(val[:-1].min()) - float(val[-1]) <= band)


def at_plateau(run: Any, diagnosis: Any) -> bool:
    """The evaluation just logged counts towards a plateau stop: the verdict is expected-plateau (validation at
    the data's floor), or converged with the validation loss itself flat (``validation_flat``): a converged
    verdict read on the training curve while validation still falls beyond its noise is no plateau."""
    verdict = str(diagnosis.verdict)
    if verdict == "expected-plateau":
        return True
    return verdict == "converged" and validation_flat(run, diagnosis.facts.val_band)


def judge(run: Any, level: str, plateau: Plateau | None = None) -> tuple[str, list[str]] | None:
    """(verdict, failing checks) when lossdoc's diagnosis of ``run`` (a read log) calls for a stop at ``level``,
    else None: a verdict at least as bad as the level (broken; overfitting: or broken; plateau: or overfitting),
    and for a plateau verdict (expected-plateau, converged) only once ``plateau`` has held for its patience."""
    from lossdoc.analysis import diagnose

    diagnosis = diagnose(run)
    verdict = str(diagnosis.verdict)
    held = plateau.update(at_plateau(run, diagnosis), evaluations(run)) if plateau is not None else False
    if severity(verdict) < SEVERITY[level] or (verdict in PLATEAU_VERDICTS and not held):
        return None
    return verdict, [f.code for f in diagnosis.findings if f.status == "fail"]


@dataclass
class _Watch:
    tail: Any
    batches: int = 0
    next_at: int = 0  # the batch count of the next mid-epoch check (0: CHECK_EVERY)
    min_loss: float = math.inf  # the lowest finite batch loss so far
    suspect_from: int | None = None  # the first suspect step since the last sound check
    suspect_next: int = 0  # the batch count of the next check of a suspect step
    suspect_gap: int = 1  # steps between two checks of suspect steps: 1, then doubling after SUSPECT_EVERY_STEP checks
    suspect_checks: int = 0
    last_ok: int = 0  # the step of the last check that found the run sound
    saved: dict[str, int] = field(default_factory=dict)  # checkpoint file -> the step it was taken at
    plateau: Plateau = field(default_factory=Plateau)  # --stop-on plateau: evaluations in a row on a plateau verdict


def check_interval(diagnosis_s: float, step_s: float) -> int:
    """Batches until the next mid-epoch check: CHECK_EVERY, or more when a diagnosis costs more than
    CHECK_BUDGET of the steps in between (a diagnosis of diagnosis_s seconds, steps of step_s seconds)."""
    if step_s <= 0 or not math.isfinite(diagnosis_s / step_s):
        return CHECK_EVERY
    return max(CHECK_EVERY, math.ceil(diagnosis_s / (CHECK_BUDGET * step_s)))


def check(run: Any, *, epoch_end: bool, nonfinite: bool = False, loss: float | None = None, skipped: bool = False):
    """A TrainResult (status stopped) when the run should stop now, else None. ``run`` is loop._Run; ``loss`` and
    ``skipped``: the step's (global) batch loss and whether its update was skipped.

    When a check is due is the same on every rank (the step count, and the loss after the all-reduce); rank 0,
    which writes the log, reads and diagnoses it, and every rank gets its decision, so all stop together."""
    level = run.cfg.stop_on
    if level is None:
        return None
    if run.stop_watch is None:
        from lossdoc.runlog.follow import JsonlTail

        run.stop_watch = _Watch(JsonlTail(Path(run.log_path)), plateau=Plateau(run.cfg.stop_patience))
        _saved(run.stop_watch, run.last_epoch_record)  # a resumed run: last.pt of the last epoch end
    watch = run.stop_watch
    step = int(run.state.step)
    suspect = False
    if epoch_end:
        _saved(watch, run.last_epoch_record)
    else:
        watch.batches += 1
        value = float(loss) if loss is not None else math.nan
        finite = math.isfinite(value)
        suspect = nonfinite or skipped or (finite and value > watch.min_loss + SUSPECT_NATS)
        if finite and not skipped:
            watch.min_loss = min(watch.min_loss, value)
        if suspect and watch.suspect_from is None:
            watch.suspect_from = step
        due = watch.batches >= watch.suspect_next if suspect else watch.batches >= (watch.next_at or CHECK_EVERY)
        if not due:
            return None
    need = level if epoch_end else "broken"
    # rank 0 decides, and times its diagnosis: every rank gets the same decision and the same next check
    decision, every = run.dist.from_main(lambda: _timed_decide(watch, need, run))
    if not epoch_end:
        if suspect:
            watch.suspect_checks += 1
            watch.suspect_next = watch.batches + watch.suspect_gap
            if watch.suspect_checks >= SUSPECT_EVERY_STEP:
                watch.suspect_gap = min(2 * watch.suspect_gap, every)
        else:
            watch.next_at = watch.batches + every
    if decision is None:
        if not epoch_end and not suspect:  # a sound check on a sound step: earlier suspect steps started no failure
            watch.suspect_from, watch.suspect_gap, watch.suspect_checks, watch.last_ok = None, 1, 0, step
        elif watch.suspect_from is None:
            watch.last_ok = step
        return None
    verdict, failing = decision
    base = {"stop_on": level, "verdict": verdict, "findings": failing}
    if verdict in PLATEAU_VERDICTS:  # nothing left to learn: a success (exit 0), best.pt kept; the steps it saved
        planned = run.cfg.epochs * run.num_batches
        fields = {**base, "patience": watch.plateau.patience, "planned_steps": planned, "steps_saved": max(0, planned - step)}
        run.event("stopped", "train.event.stopped_plateau", fields, **fields, checkpoint="best.pt")
        result = run.finish("stopped", 0)
        result.steps_saved = fields["steps_saved"]
        return result
    if verdict != "broken":  # overfitting: best.pt, the lowest validation loss, is the one to keep
        run.event("stopped", "train.event.stopped", base, **base, checkpoint="best.pt")
        return run.finish("stopped", 1)
    evidence = watch.suspect_from if watch.suspect_from is not None else watch.last_ok + 1
    before = {name: at for name, at in watch.saved.items() if at < evidence}
    after = sorted(name for name, at in watch.saved.items() if at >= evidence and (run.out / "checkpoints" / name).is_file())
    if run.dist.is_main:
        for name in after:
            src = run.out / "checkpoints" / name
            src.replace(src.with_name(name[: -len(".pt")] + AFTER))
    moved = [name[: -len(".pt")] + AFTER for name in after]
    fields = {**base, "evidence_step": evidence, "moved": moved}
    if before:  # the latest; best.pt when both were taken at that step (the same weights)
        name = max(before, key=lambda n: (before[n], n == "best.pt"))
        fields.update(checkpoint=name, checkpoint_step=before[name])
        run.event("stopped", "train.event.stopped_evidence", fields, **fields)
    else:
        fields["checkpoint"] = None
        run.event("stopped", "train.event.stopped_no_checkpoint", fields, **fields)
    return run.finish("stopped", 1)


def _saved(watch: _Watch, record: dict[str, Any] | None) -> None:
    """The checkpoints an epoch record says were saved at its step."""
    if not record:
        return
    step = record.get("step")
    for name in record.get("checkpoints") or []:
        if isinstance(name, str) and isinstance(step, int):
            watch.saved[name] = step


def _timed_decide(watch: _Watch, need: str, run: Any) -> tuple[tuple[str, list[str]] | None, int]:
    """_decide's answer, and the batches until the next mid-epoch check (from the diagnosis' cost)."""
    t = time.perf_counter()
    decision = _decide(watch, need)
    step_s = run.elapsed() / max(run.state.step, 1)
    return decision, check_interval(time.perf_counter() - t, step_s)


def _decide(watch: _Watch, level: str) -> tuple[str, list[str]] | None:
    """(verdict, failing checks) when the log read so far calls for a stop at ``level`` (judge), else None."""
    watch.tail.read_new()
    current = watch.tail.run()
    if current is None:
        return None
    return judge(current, level, watch.plateau if level == "plateau" else None)  # plateau: epoch-end checks only
