"""The checks: one function per finding code, each taking the measured context.

They live by what they measure: reading the facts (``context``), impossible values (``impossible``), levels
against floors (``levels``), trends and noise (``trends``). This module lists them in the order they run; the
verdict is decided from their findings in ``verdict``. Rules: docs/verdicts.md; thresholds: thresholds.py.
"""

from __future__ import annotations

from lossdoc.analysis import thresholds as th
from lossdoc.analysis.context import Context, build_context
from lossdoc.analysis.impossible import check_below_floor, check_init, check_log, check_nonfinite, check_scale, check_uniform_lock
from lossdoc.analysis.levels import check_batch_noise, check_floor, check_val_below_train
from lossdoc.analysis.trends import check_divergence, check_no_learning, check_overfitting, check_progress, check_spikes

__all__ = [
    "ALL_CHECKS",
    "Context",
    "build_context",
    "th",
    "check_log",
    "check_nonfinite",
    "check_init",
    "check_scale",
    "check_floor",
    "check_below_floor",
    "check_uniform_lock",
    "check_no_learning",
    "check_progress",
    "check_divergence",
    "check_spikes",
    "check_overfitting",
    "check_val_below_train",
    "check_batch_noise",
]

ALL_CHECKS = (
    check_log,
    check_nonfinite,
    check_init,
    check_scale,
    check_floor,
    check_below_floor,
    check_uniform_lock,
    check_no_learning,
    check_progress,
    check_divergence,
    check_spikes,
    check_overfitting,
    check_val_below_train,
    check_batch_noise,
)
