"""Corrections a run header asks for: losses a writer is known to log on the wrong scale.

``loss_scale.logged_over_true`` in a lossdoc.run/1 header (written by lossdoc.integrations.hf when it finds the
Trainer's token-count mismatch, docs/integrations.md) says that every logged loss is that fraction of the true
mean loss per predicted token. Explain divides the training losses, the per-epoch training means and the
validation losses by it, and shows the factor in the Facts table with the header as its source.
"""

from __future__ import annotations

import math
from typing import Any

from lossdoc.runlog.run import Run

MIN_SCALE = 0.5  # rows of at least 2 ids: (T - 1)/T >= 1/2; anything below is not this mismatch


def loss_scale(header: dict[str, Any]) -> float | None:
    """The header's logged/true loss ratio when it is a usable number in [MIN_SCALE, 1), else None."""
    rec = header.get("loss_scale")
    if not isinstance(rec, dict):
        return None
    v = rec.get("logged_over_true")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not MIN_SCALE <= v < 1:
        return None
    return float(v)


def apply_loss_scale(run: Run, header: dict[str, Any]) -> Run:
    """Divide the run's losses by the header's loss_scale (no change without one); records the fact."""
    scale = loss_scale(header)
    if scale is None:
        return run
    run.batches.loss = run.batches.loss / scale
    run.epochs.train_loss = run.epochs.train_loss / scale
    run.epochs.val_loss = run.epochs.val_loss / scale
    run.set_fact("loss_scale", scale, "log", "where.header")
    return run
