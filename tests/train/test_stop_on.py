"""`lossdoc train --stop-on broken|overfitting|plateau`: the run's own diagnosis stops it early, status stopped, best.pt kept."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from lossdoc.analysis import diagnose
from lossdoc.cli import run as cli_run
from lossdoc.runlog.readers import read_run
from lossdoc.train import stop_on
from lossdoc.train.loop import NullReporter, train
from tests.conftest import read_records, tiny_config

NB = 9  # batches per epoch of configs/tiny.yaml


def _train(out: Path, **over):
    return train(tiny_config(out, **over), reporter=NullReporter())


def _events(out: Path, kind: str) -> list[dict]:
    return [r for r in read_records(out) if r["type"] == "event" and r["kind"] == kind]


def test_a_nan_mid_epoch_stops_the_run_at_once_keeping_best_pt(tmp_path):
    # nan-loss: step 2 * 9 + 5 = 23 is NaN; with --on_nonfinite skip the run would go on to the end
    res = _train(tmp_path / "run", inject="nan-loss", on_nonfinite="skip", epochs=3, stop_on="broken")
    assert (res.status, res.exit_code) == ("stopped", 1)
    recs = read_records(tmp_path / "run")
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "stopped" and recs[-1]["steps"] == 2 * NB + 5
    (ev,) = _events(tmp_path / "run", "stopped")
    assert ev["verdict"] == "broken" and "nonfinite-loss" in ev["findings"] and ev["stop_on"] == "broken" and ev["step"] == 23
    assert (ev["key"], ev["step"], ev["args"]["verdict"], ev["args"]["findings"]) == (
        "train.event.stopped_evidence",
        23,
        "broken",
        ["nonfinite-loss"],
    )
    assert "--stop-on broken at step 23" in ev["message"] and "(failing checks: nonfinite-loss)" in ev["message"]
    best = [r for r in recs if r["type"] == "epoch" and r.get("is_best")][-1]
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file() and best["epoch"] <= 2 and best["val_loss"] == recs[-1]["best_val_loss"]
    # the evidence is step 23; both checkpoints were taken before it (step 18): they stay, and the log names the last
    assert (ev["evidence_step"], ev["checkpoint_step"], ev["moved"]) == (23, 2 * NB, [])
    assert ev["checkpoint"] in ("best.pt", "last.pt") and (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    assert f"checkpoints/{ev['checkpoint']} (step 18) is the last checkpoint taken before it" in ev["message"]
    run = read_run(tmp_path / "run")
    assert run.status == "stopped" and diagnose(run).verdict == "broken"  # explain agrees, reading the whole log


def test_without_stop_on_the_same_run_goes_to_the_end(tmp_path):
    res = _train(tmp_path / "run", inject="nan-loss", on_nonfinite="skip", epochs=3)
    assert res.status == "completed" and read_records(tmp_path / "run")[-1]["steps"] == 3 * NB
    assert _events(tmp_path / "run", "stopped") == []


def test_a_diverging_run_stops_within_steps_of_the_evidence_and_keeps_no_blown_up_checkpoint(tmp_path):
    """exploding-lr: the loss is 4.3 at step 1 and above 1000 from step 2. Before, --stop-on looked at epoch ends only
    (here step 18; 45 in a user's run) and said best.pt was kept: the blown-up weights of epoch 1 (val loss 2578).
    A handful of records whose last two sit above every healthy start is a blow-up: the run stops at step 3, before
    the first checkpoint (step 9) is taken."""
    res = _train(tmp_path / "run", inject="exploding-lr", on_nonfinite="skip", epochs=4, stop_on="broken")
    assert res.status == "stopped"
    (ev,) = _events(tmp_path / "run", "stopped")
    batches = [r for r in read_records(tmp_path / "run") if r["type"] == "batch"]
    assert batches[0]["loss"] < 5 and batches[1]["loss"] > 100  # the evidence: step 2
    assert "divergence" in ev["findings"] and ev["step"] == 3  # the record after the evidence, mid-epoch
    assert ev["evidence_step"] == 2 and ev["checkpoint"] is None and ev["key"] == "train.event.stopped_no_checkpoint"
    ck = tmp_path / "run" / "checkpoints"
    assert not any(ck.glob("*.pt")) and ev["moved"] == []  # no checkpoint was ever taken of the blown-up weights
    assert "the evidence began at step 2, before any checkpoint was taken" in ev["message"]


def test_checkpoints_taken_after_the_evidence_are_renamed(tmp_path, monkeypatch):
    # the diagnosis agreeing only after the first epoch's checkpoints (a subtler evidence than the one above): those,
    # taken of blown-up weights, are renamed NAME.after-evidence.pt, so checkpoints/best.pt is never a blown-up model
    real = stop_on.judge

    def late(run, level, plateau=None):
        return real(run, level, plateau) if len(run.batches) > NB else None

    monkeypatch.setattr(stop_on, "judge", late)
    res = _train(tmp_path / "run", inject="exploding-lr", on_nonfinite="skip", epochs=4, stop_on="broken")
    assert res.status == "stopped"
    (ev,) = _events(tmp_path / "run", "stopped")
    assert ev["evidence_step"] == 2 and ev["step"] > NB and ev["checkpoint"] is None
    ck = tmp_path / "run" / "checkpoints"
    assert not (ck / "best.pt").exists() and not (ck / "last.pt").exists()  # taken at step 9, after the evidence
    assert sorted(ev["moved"]) == ["best.after-evidence.pt", "last.after-evidence.pt"] and (ck / "best.after-evidence.pt").is_file()


def test_a_loss_spike_that_recovers_does_not_stop_a_run(tmp_path, monkeypatch):
    from lossdoc.train import loop

    real = loop.train_step
    calls = [0]

    def spiking(*args, **kwargs):  # one batch loss 3 nats high at step 5; the weights are unchanged by it
        out = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 5:
            out.loss += 3.0
        return out

    monkeypatch.setattr(loop, "train_step", spiking)
    res = _train(tmp_path / "run", epochs=2, stop_on="broken")
    assert res.status == "completed" and _events(tmp_path / "run", "stopped") == []
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()


def test_a_healthy_run_is_unchanged(tmp_path):
    _train(tmp_path / "a", stop_on="broken")
    _train(tmp_path / "b")
    strip = lambda recs: [{k: v for k, v in r.items() if k not in ("elapsed_s", "started_at", "run_id", "config")} for r in recs]  # noqa: E731
    a, b = read_records(tmp_path / "a"), read_records(tmp_path / "b")
    assert a[-1]["status"] == "completed" and strip(a[1:]) == strip(b[1:])  # same losses, same records
    assert a[0]["config"]["stop_on"] == "broken" and b[0]["config"]["stop_on"] is None


@pytest.mark.parametrize("level,stops", [("overfitting", True), ("broken", False)])
def test_overfitting_stops_only_at_an_epoch_end_and_only_when_asked(tmp_path, monkeypatch, level, stops):
    real = diagnose
    seen = []

    def overfitting(run):  # the real diagnosis, with the verdict an overfitting run would get
        d = real(run)
        seen.append(len(run.batches))
        d.verdict = "overfitting"
        return d

    monkeypatch.setattr("lossdoc.analysis.diagnose", overfitting)
    monkeypatch.setattr(stop_on, "CHECK_EVERY", 4)  # mid-epoch checks too: they must not stop on overfitting
    monkeypatch.setattr(stop_on, "CHECK_BUDGET", 1e9)  # every 4 batches, however long a diagnosis takes here
    res = _train(tmp_path / "run", epochs=2, stop_on=level)
    assert res.status == ("stopped" if stops else "completed")
    if stops:
        assert read_records(tmp_path / "run")[-1]["steps"] == NB  # the first epoch end, not batch 4 or 8
        assert seen[:2] == [4, 8]  # the mid-epoch checks ran and let it go on
        assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()


def test_the_check_interval_grows_with_the_cost_of_a_diagnosis():
    assert stop_on.check_interval(0.001, 0.1) == stop_on.CHECK_EVERY  # cheap: every CHECK_EVERY batches
    # 1.4 s to diagnose a long log, 20 ms steps: a check every 1.4 / (0.02 x 0.02) = 3500 batches, 2% of the time
    assert stop_on.check_interval(1.4, 0.02) == 3500
    assert stop_on.check_interval(1.0, 0.0) == stop_on.CHECK_EVERY  # no step timed yet
    assert stop_on.check_interval(float("nan"), 0.1) == stop_on.CHECK_EVERY


def test_a_slow_diagnosis_spaces_the_mid_epoch_checks_out(tmp_path, monkeypatch):
    import time

    real, seen = diagnose, []

    def slow(run):
        time.sleep(0.2)  # far above 2% of a tiny step: the next mid-epoch check is more than 2 epochs away
        seen.append(len(run.batches))
        return real(run)

    monkeypatch.setattr("lossdoc.analysis.diagnose", slow)
    monkeypatch.setattr(stop_on, "CHECK_EVERY", 2)
    res = _train(tmp_path / "run", epochs=2, stop_on="broken")
    assert res.status == "completed"
    # the first mid-epoch check at batch 2; then only the two epoch ends (without the budget: batches 2, 4, ..., 18)
    assert seen == [2, NB, 2 * NB]


def test_a_bad_value_is_one_line_and_exit_2(tmp_path):
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = cli_run(["train", "--config", "configs/tiny.yaml", "--out", str(tmp_path / "r"), "--stop-on", "sometimes"])
    assert rc == 2 and se.getvalue().count("\n") == 1 and "--stop-on" in se.getvalue() and "broken, overfitting, plateau" in se.getvalue()
    assert not (tmp_path / "r").exists()


def test_a_patience_below_one_is_one_line_and_exit_2(tmp_path):
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = cli_run(["train", "--config", "configs/tiny.yaml", "--out", str(tmp_path / "r"), "--stop-on", "plateau", "--stop-patience", "0"])
    assert rc == 2 and se.getvalue().count("\n") == 1 and "--stop-patience" in se.getvalue()


# -- plateau ----------------------------------------------------------------------------------------------------

# random tokens, V = 16, 300 training rows: 19 steps an epoch; the flat output (the floor ln 15) is reached in the first
RANDOM = {"vocab_size": 16, "num_samples": 400, "d_model": 16, "batch_size": 16, "lr": 0.01}
EPOCH = 19
# markov data, V = 16, two successors a token, a low learning rate: far above its floor, and falling at every epoch
FALLING = {"data": "markov", "vocab_size": 16, "markov_successors": 2, "num_samples": 400, "d_model": 16, "batch_size": 16, "lr": 0.002}


def test_plateau_stops_a_random_token_run_at_its_floor_and_says_the_steps_saved(tmp_path):
    res = _train(tmp_path / "run", **RANDOM, epochs=4, stop_on="plateau")
    steps = stop_on.PLATEAU_PATIENCE * EPOCH
    assert (res.status, res.exit_code, res.steps_saved) == ("stopped", 0, 4 * EPOCH - steps)  # nothing wrong: exit 0
    recs = read_records(tmp_path / "run")
    assert recs[-1]["status"] == "stopped" and recs[-1]["steps"] == steps
    (ev,) = _events(tmp_path / "run", "stopped")
    assert (ev["key"], ev["verdict"], ev["step"], ev["patience"]) == (
        "train.event.stopped_plateau",
        "expected-plateau",
        steps,
        stop_on.PLATEAU_PATIENCE,
    )
    assert (ev["planned_steps"], ev["steps_saved"], ev["checkpoint"]) == (4 * EPOCH, 4 * EPOCH - steps, "best.pt")
    assert f"{4 * EPOCH - steps} of {4 * EPOCH} planned steps not run" in ev["message"]
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()
    assert diagnose(read_run(tmp_path / "run")).verdict == "expected-plateau"  # explain agrees, reading the whole log


@pytest.mark.slow
def test_plateau_waits_for_its_patience(tmp_path):
    res = _train(tmp_path / "run", **RANDOM, epochs=4, stop_on="plateau", stop_patience=3)
    assert (res.status, res.exit_code, res.steps_saved) == ("stopped", 0, EPOCH)  # the verdict held at evaluations 1, 2, 3
    (ev,) = _events(tmp_path / "run", "stopped")
    assert ev["step"] == 3 * EPOCH and ev["patience"] == 3


@pytest.mark.slow
def test_plateau_lets_a_still_falling_run_go_on(tmp_path, monkeypatch):
    seen = []
    real = stop_on.judge

    def judged(run, level, plateau=None):
        decision = real(run, level, plateau)
        if level == "plateau":
            from lossdoc.analysis import diagnose as diagnosis

            seen.append(diagnosis(run).verdict)
        return decision

    monkeypatch.setattr(stop_on, "judge", judged)
    res = _train(tmp_path / "run", **FALLING, epochs=3, stop_on="plateau")
    assert (res.status, res.steps_saved) == ("completed", None) and _events(tmp_path / "run", "stopped") == []
    assert len(seen) == 3 and seen[-1] == "still-learning"  # judged at each epoch end
    assert not set(seen) & set(stop_on.PLATEAU_VERDICTS)


def test_plateau_counts_each_evaluation_once_and_only_plateau_evaluations():
    p = stop_on.Plateau(2)
    assert not p.update(True, 0)  # no evaluation yet: never
    assert not p.update(True, 1)
    assert not p.update(True, 1)  # the same evaluation diagnosed again (a mid-epoch check): not counted twice
    assert p.update(True, 2)  # two evaluations in a row
    q = stop_on.Plateau(2)
    for n, plateau in enumerate([True, False, True, False, True], 1):
        assert not q.update(plateau, n)  # an evaluation off the plateau starts the count again
    assert q.update(True, 6)
    assert stop_on.severity("broken") > stop_on.severity("overfitting") > stop_on.severity("converged") > stop_on.severity("still-learning")


@pytest.mark.parametrize(
    "vals,band,flat",
    [
        ([4.8, 2.40, 2.25], 0.034, False),  # text, epoch 2: converged by the training curve, validation 0.15 lower: no plateau
        ([4.8, 2.10, 2.09], 0.034, True),  # within its noise of the best before it
        ([4.8, 2.10, 2.20], 0.034, True),  # above it (no fall at all)
        ([2.25], 0.034, False),  # nothing before it to compare with
        ([4.8, 2.10, 2.09], None, False),  # the noise is not known
    ],
)
def test_a_converged_evaluation_counts_only_when_validation_itself_is_flat(vals, band, flat):
    import numpy as np

    from lossdoc.runlog.run import EpochSeries

    class Run:
        epochs = EpochSeries(np.arange(len(vals), dtype=float), np.zeros(len(vals)), np.zeros(len(vals)), np.array(vals), np.zeros(len(vals)))

    assert stop_on.validation_flat(Run(), band) is flat
