"""sanitize(): every Run read_run returns holds finite numbers or explicit missing/non-finite markers."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.runlog.run import BatchSeries, EpochSeries, Event, Run
from lossdoc.runlog.sanitize import sanitize

INF, NAN = math.inf, math.nan


def _run(**kw) -> Run:
    return Run(source="x", format="jsonl", **kw)


def test_token_counts_negative_infinite_or_absurd_become_missing_with_a_warning():
    b = BatchSeries(np.array([1.0, 2, 3, 4]), np.ones(4), np.full(4, 4.0), np.full(4, 1e-3), np.ones(4), np.array([-5.0, INF, 1e20, 128]))
    e = EpochSeries(np.array([1.0]), np.array([4.0]), np.array([4.0]), np.array([4.1]), np.array([-1.0]))
    run = sanitize(_run(batches=b, epochs=e))
    assert np.isnan(run.batches.tokens[:3]).all() and run.batches.tokens[3] == 128
    assert np.isnan(run.epochs.val_tokens[0])
    assert [w.args["count"] for w in run.warnings if w.key == "warn.nonfinite_tokens"] == [4]


def test_steps_that_are_not_finite_are_dropped_and_rows_sorted_one_per_step():
    b = BatchSeries(
        np.array([3.0, INF, 1, NAN, 3, -INF]),
        np.array([1.0, 1, INF, 1, NAN, 1]),
        np.array([4.0, 9, 4.2, 9, 4.1, 9]),
        np.array([INF, 0, 0, 0, 0, 0.0]),
        np.array([-INF, 0, 0, 0, 0, 0.0]),
        np.zeros(6),
    )
    run = sanitize(_run(batches=b))
    assert run.batches.step.tolist() == [1.0, 3.0]
    assert run.batches.loss.tolist() == [4.2, 4.1]  # the last row of step 3 wins
    assert np.isnan(run.batches.epoch).all()  # an infinite epoch is no position


def test_losses_keep_their_non_finite_markers_and_absurd_ones_become_infinite():
    b = BatchSeries(np.array([1.0, 2, 3, 4]), np.ones(4), np.array([NAN, INF, -INF, 1e308]), np.zeros(4), np.zeros(4), np.zeros(4))
    loss = sanitize(_run(batches=b)).batches.loss
    assert math.isnan(loss[0]) and loss[1] == INF and loss[2] == -INF and loss[3] == INF


def test_evaluation_positions_and_event_steps_that_are_not_finite_become_unknown():
    e = EpochSeries(np.array([INF, 1.0]), np.array([2.0, -INF]), np.array([4.0, 4.0]), np.array([INF, 4.1]), np.array([NAN, 10]))
    run = sanitize(_run(epochs=e, events=[Event("nonfinite_loss", INF), Event("resumed", 1e308 * 10), Event("x", 7.0)]))
    assert math.isnan(run.epochs.epoch[0]) and math.isnan(run.epochs.step[1]) and run.epochs.val_loss[0] == INF
    assert [math.isnan(ev.step) for ev in run.events] == [True, True, False]


def test_header_facts_out_of_range_become_unknown_with_a_warning():
    run = sanitize(
        _run(
            vocab_size=10**400,
            entropy_floor=1e20,
            init_logit_std=1e20,
            dropout=-3.0,
            batch_tokens=INF,
            unigram_xent=NAN,
            val_floor_sample=4.0,
            unigram_entropy=3.0,
        )
    )
    assert run.vocab_size is None and run.entropy_floor is None and run.init_logit_std is None and run.dropout is None
    assert run.batch_tokens is None and run.unigram_xent is None
    assert run.val_floor_sample is None  # a sample of an unknown floor means nothing
    assert run.unigram_entropy == 3.0
    fields = {w.args["field"] for w in run.warnings if w.key == "warn.header_out_of_range"}
    assert fields == {"vocab_size", "entropy_floor", "init_logit_std", "dropout", "batch_tokens", "unigram_xent"}


def test_sane_header_facts_pass_unchanged():
    run = sanitize(_run(vocab_size=50257, entropy_floor=4.14, init_logit_std=0.58, dropout=0.1, batch_tokens=1024.0, val_floor_sample=4.15))
    assert (run.vocab_size, run.entropy_floor, run.init_logit_std, run.dropout, run.batch_tokens) == (50257, 4.14, 0.58, 0.1, 1024.0)
    assert run.val_floor_sample == 4.15 and not run.warnings
