"""Which evaluations make the validation series (context.eval_rows, context._at_start) and a fine-tune's level to beat
(context._start_val): the cases a review of the twenty-third set's classes found."""

from __future__ import annotations

import json

import numpy as np

from lossdoc.analysis import diagnose
from lossdoc.analysis.context import build_context
from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.readers import read_run


def _state(tmp_path, evals, losses, epoch_of=lambda s: 0.0):
    hist = [{"step": s, "loss": x, "epoch": epoch_of(s)} for s, x in losses]
    hist += [{"step": s, "eval_loss": v, "epoch": epoch_of(s)} for s, v in evals]
    hist.sort(key=lambda r: r["step"])
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": hist, "global_step": max(s for s, _ in losses)}))
    return read_run(tmp_path)


def test_evaluations_at_a_rounded_epoch_0_after_training_began_are_evaluations(tmp_path):
    # an older Trainer rounds the epoch to 2 decimals: on a large dataset its first evaluations read epoch 0.0. Only the
    # one at step 0 is before training; the pretrained score to beat is that one (2.0), which the fine-tune beat
    rng = np.random.default_rng(0)
    losses = [(s, 1.6 - 0.1 * s / 1000 + rng.normal(0, 0.01)) for s in range(10, 1010, 10)]
    evals = [(0, 2.0), (50, 1.60), (100, 1.50), (150, 1.40), (400, 1.46), (700, 1.45), (1000, 1.475)]
    run = apply_overrides(_state(tmp_path, evals, losses, epoch_of=lambda s: round(s / 100000, 2)), pretrained=True)
    c = build_context(run)
    assert c.val_start == 2.0 and c.val[:3].tolist() == [1.60, 1.50, 1.40]
    assert diagnose(run).finding("overfitting").key != "f.overfit.never_beat_start"


def test_a_step_counted_within_each_epoch_does_not_merge_the_epochs_evaluations(tmp_path):
    # "Epoch [3/6], Step [100/100], Val Loss: 1.25": every evaluation names step 100 of its own epoch
    lines = []
    val = [1.30, 1.20, 1.25, 1.32, 1.40, 1.48]
    for ep in range(1, 7):
        for st in range(20, 120, 20):
            lines.append(f"Epoch [{ep}/6], Step [{st}/100], Loss: {1.5 - 0.04 * ep - 0.001 * st:.4f}")
        lines.append(f"Epoch [{ep}/6], Step [100/100], Val Loss: {val[ep - 1]:.2f}")
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    c = build_context(read_run(tmp_path / "train.log"))
    assert c.val.tolist() == val


def test_a_repeated_evaluation_at_the_last_step_keeps_the_first(tmp_path):
    # load_best_model_at_end, then trainer.evaluate(): the repeat at the last step scores the best checkpoint (1.75), not
    # the curve's point there (1.95); kept, it hid the rise
    rng = np.random.default_rng(1)
    losses = [(s, 2.0 - 1.2 * s / 800 + rng.normal(0, 0.01)) for s in range(20, 820, 20)]
    evals = [(100, 1.9), (200, 1.8), (300, 1.75), (400, 1.78), (500, 1.82), (600, 1.87), (700, 1.91), (800, 1.95), (800, 1.75)]
    run = _state(tmp_path, evals, losses, epoch_of=lambda s: s / 100)
    c = build_context(run)
    assert c.val.size == 8 and c.val[-1] == 1.95
    assert diagnose(run).verdict == "overfitting"
