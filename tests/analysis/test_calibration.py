"""benchmarks/calibration.py and its curves (benchmarks/simcurves.py): the simulator is deterministic, each family's
curves have the property its truth claims, the writers' logs read back whole, and explain's accuracy on a seeded slice."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


sim = _load("simcurves")
calib = _load("calibration")


def _specs(per_family: int = 10):
    """A few cases of every family, cycling through its tiers and formats."""
    out = []
    for fam in sim.FAMILIES:
        tiers, fmts = sim.FAMILY_TIERS[fam], sim.FAMILY_FORMATS[fam]
        for i in range(per_family):
            out.append((fam, tiers[i % len(tiers)], fmts[(i // len(tiers) + i) % len(fmts)], 7, i))
    return out


def test_generator_is_deterministic_for_a_seed():
    for spec in _specs(3):
        a, b = sim.generate(*spec), sim.generate(*spec)
        np.testing.assert_array_equal(a.loss, b.loss)
        np.testing.assert_array_equal(a.eval_val, b.eval_val)
        np.testing.assert_array_equal(a.step, b.step)
        assert (a.vocab, a.sub, a.truth) == (b.vocab, b.sub, b.truth)
    fam, tier, fmt, seed, i = _specs(1)[0]
    other = sim.generate(fam, tier, fmt, seed + 1, i)
    assert not np.array_equal(other.loss, sim.generate(fam, tier, fmt, seed, i).loss)


def test_run_case_gives_the_same_verdict_twice():
    spec = ("overfitting", "easy", "csv", 3, 0)
    assert calib.run_case(spec) == calib.run_case(spec)


def _se_of_mean(case, n: int) -> float:
    phi = case.phi
    return case.sigma * math.sqrt((1 + phi) / (1 - phi) if phi else 1.0) / math.sqrt(n)


@pytest.mark.parametrize("family", sim.FAMILIES)
def test_each_family_has_the_property_its_truth_claims(family):
    for fam, tier, fmt, seed, i in _specs(25):
        if fam != family:
            continue
        c = sim.generate(fam, tier, fmt, seed, i)
        ln_v = math.log(c.vocab)
        n = c.loss.size
        if tier == "short" or family == "several-runs":  # several-runs: its runs are short-tier curves
            assert 10 <= n <= 40
        elif tier == "handful":
            assert 5 <= n <= 9
        else:
            assert 40 <= n <= 10000 or family == "stuck"
        if family == "random-plateau":
            floor = math.log(c.vocab - c.low)
            assert abs(c.mean[-1] - floor) < 1e-3  # the mean ends on the floor ...
            n_w = max(4, n // 5)
            tail = c.loss[-n_w:].mean()
            assert abs(tail - floor) < 5 * _se_of_mean(c, n_w) + 1e-3  # ... and the logged end within noise of it
            assert c.random and c.mean[0] > floor
            if c.eval_val.size:
                assert np.all(c.eval_val >= c.val_mean)  # validation on random tokens never beats the mean
        elif family == "still-learning" and tier == "steady":
            # a straight fall from the start, no slowing: the last half's fall is z_half in [4, 10] standard errors
            assert 45 <= n < 80 and np.allclose(np.diff(c.mean, 2), 0.0, atol=1e-9) and c.mean[-1] < c.mean[0]
            assert 4 - 1e-9 <= c.meta["z_half"] <= 10 + 1e-9 and (c.eval_step.size == 0) == (fmt != "epochs")
        elif family == "still-learning":
            d, n_w = sim._end_fall(c.mean)
            assert d >= 0.01 - 1e-12
            # the drawn z, unless the noise was clipped up to its floor (0.002), which lowers it
            assert c.meta["z"] >= (4 if tier == "small-effect" else 6) - 1e-9 or c.sigma == 0.002
            assert np.all(np.diff(c.mean) <= 1e-12) or tier == "warmup-bump"
            assert c.lr[-1] >= 0.15 * c.lr.max() - 1e-15  # a schedule, where there is one, stopped mid-way
            # a creeping end (its last quarter at under CREEP_REL of its average rate, measured here independently)
            # may also be called converged, unless that quarter still falls by STILL_FALLING_LEVEL of the end's level
            # or more; any other still-learning curve only still-learning
            t = max(3, math.ceil(0.25 * n))
            x = c.step.astype(float)
            end_rate = -np.polyfit(x[-t:], c.mean[-t:], 1)[0]
            creeping = end_rate < sim.CREEP_REL * (c.mean[0] - c.mean[-1]) / (x[-1] - x[0])
            still_falling = end_rate * (x[-1] - x[-t]) >= sim.STILL_FALLING_LEVEL * c.mean[-1]
            assert ("converged" in c.truth) == (creeping and not still_falling)
            if "after-collapse" in c.sub:  # the collapse: at least half of the whole fall, over by the end
                col = c.meta["collapse"]
                assert col["slow_fall"] <= 0.5 * (col["start"] - col["level"]) + 1e-9
                assert abs(c.mean[-1] - col["level"]) < 0.05 * col["level"] + 0.01
        elif family == "converged" and tier == "annealed":
            # a still-learning curve run on its learning rate's area, whose schedule has ended: warm-up to a peak, a
            # cosine to 0-3% of it; the curve still falls over its last fifth but far less at its very end
            d, _ = sim._end_fall(c.mean)
            assert d > 0 and np.all(np.diff(c.mean) <= 1e-12)
            assert np.argmax(c.lr) < n - 1 and c.lr[-1] <= 0.03 * c.lr.max() + 1e-15  # ... after the schedule ended
            x = c.step.astype(float)
            last = max(3, math.ceil(sim.LAST_SHARE * n))
            if n >= 40:  # the end's slope (its last tenth) under half its last quarter's: the curve flattens as the rate ends
                q = max(3, math.ceil(0.25 * n))
                assert -np.polyfit(x[-last:], c.mean[-last:], 1)[0] < 0.5 * -np.polyfit(x[-q:], c.mean[-q:], 1)[0]
        elif family == "converged":
            # flat for the last half; after a step schedule's drop (in [0.2, 0.6] S, within 3% of the run), the last quarter
            half = c.mean[(3 * n // 4 if "step-decay" in c.sub else n // 2) :]
            assert half.max() - half.min() < 0.01 * (c.mean[0] - c.meta["level"]) + 1e-9  # flat for the last half
            assert c.meta["level"] >= 0.35 * ln_v
            # below the unigram band: a run that stops near the unigram level is stuck/unigram's, not converged
            assert c.meta["level"] <= sim.CONVERGED_BELOW_UNIGRAM * sim.unigram_level(c.vocab) + 1e-9
            if c.val_mean.size > 1:
                assert c.val_mean[-1] <= c.val_mean.min() + 1e-9  # validation does not rise
        elif family == "overfitting":
            j = int(np.argmin(c.val_mean))
            assert j < c.val_mean.size - 1  # validation's best is before the end
            rise = c.val_mean[-1] - c.val_mean[j]
            assert rise >= (5 * c.sigma_val if tier == "small-effect" else 0.2) - 1e-9
            if tier == "small-effect":
                assert c.val_mean.size - 1 - j >= 10  # at least 10 evaluations after the minimum
            assert c.mean[-1] < c.mean[-max(2, n // 5)]  # training still falls
        elif family == "divergence":
            finite = c.loss[np.isfinite(c.loss)]
            after = c.mean[c.step - 1 >= c.meta["diverge_step"]]
            assert after.size >= 3
            assert after.max() > ln_v + 0.5 or after.max() - c.mean.min() >= 1.5
            assert c.mean[-1] >= min(ln_v + 0.5, c.mean.min() + 1.5) - 1e-9  # and it stays up
            if c.sub == "nan":
                assert np.isnan(c.loss[-1]) and finite.size < n
        elif family == "stuck":
            cause = c.sub.split("/")[0]
            if cause == "dead-output":
                const = c.meta["constant"]
                assert np.all(c.loss[c.step - 1 >= c.meta["constant_from"] + c.k] == const)  # bit-identical
            elif cause == "lr-0":
                assert np.all(c.lr == 0) and np.ptp(c.mean) == 0 and c.mean[0] > ln_v + 0.04
            elif cause == "frozen":
                assert np.all(c.lr > 0) and np.ptp(c.mean) == 0 and c.mean[0] > ln_v + 0.04
            elif cause == "unigram":
                u = sim.unigram_level(c.vocab)
                # it fell (in a sparse log, before its first record) ...
                assert c.step[-1] >= 2000 and c.meta["init"] > c.mean[-1] and c.mean[0] >= c.mean[-1]
                assert abs(c.mean[-1] - u) <= 0.1 * u + 1e-9  # ... to within 10% of the unigram level ...
                flat_from = int(np.searchsorted(c.step, 0.05 * c.step[-1]))
                assert np.ptp(c.mean[flat_from:]) < 1e-3  # ... and stayed there from 5% of the run on
            else:
                drift = c.mean[0] - c.mean[-1]
                assert 0.004 < drift < 0.02 and c.step[-1] >= 2000  # a tiny drift over thousands of steps
                assert np.all(c.mean >= ln_v)
        elif family == "no-curve":
            # a healthy run of which only its final figures are kept: the page holds at most a few numbers, no curve
            assert c.meta["shape"] in sim.NO_CURVE_SHAPES and c.meta["style"] in sim.PAGE_STYLES and c.truth == ("inconclusive",)
            import re
            import tempfile

            with tempfile.TemporaryDirectory() as d:
                path, flags = sim.write(c, Path(d))
                numbers = re.findall(r"\d+\.\d+", path.read_text())
            assert 1 <= len(numbers) <= 6 and flags == {}
        elif family == "several-runs":
            # 2-8 healthy runs cut to one length, kept side by side in one file: no single curve
            runs = c.meta["runs"]
            assert 2 <= len(runs) <= 8 and len({len(r) for r in runs}) == 1 and len(runs[0]) >= 10
            assert set(c.meta["shapes"]) <= set(sim.NO_CURVE_SHAPES) and c.truth == ("inconclusive",)
            assert sim.flags_for(c) == {}
        elif family == "short-flat":
            assert (10 <= n <= 30 if tier == "short" else 40 <= n <= 10000) and np.ptp(c.mean) == 0 and c.eval_step.size == 0
            assert not c.facts and sim.flags_for(c) == {}
        else:  # fine-tune
            assert c.pretrained and 2.5 <= c.meta["start"] <= 3.5 < ln_v  # the loss at step 0: a pretrained start
            assert c.mean[-1] <= c.mean[0] <= c.meta["start"] + 1e-12 and c.meta["start"] - c.mean[-1] >= 0.1 - 1e-9  # fell a little


@pytest.mark.parametrize("fmt", sim.CURVE_FORMATS)
def test_every_writers_log_reads_back_whole(tmp_path, fmt):
    from lossdoc.runlog.overrides import apply_overrides
    from lossdoc.runlog.readers import read_run

    for j, fam in enumerate(("overfitting", "random-plateau", "fine-tune")):
        c = sim.generate(fam, "easy", fmt, 11, j)
        path, flags = sim.write(c, tmp_path / f"{fam}")
        run = apply_overrides(read_run(path), **flags)
        assert len(run.batches) == c.loss.size
        np.testing.assert_allclose(run.batches.loss, c.loss, atol=6e-5 if fmt in ("nanogpt", "console") else 1e-9)
        assert len(run.epochs) == c.eval_step.size
        if c.facts:  # (an adapter's folder names no vocabulary size: the fine-tune family's adapter sub-shape)
            assert run.vocab_size == (50257 if (fmt == "nanogpt" and c.pretrained) else c.vocab)  # GPT-2 weights: 'forcing vocab_size=50257'
        if fam == "random-plateau":
            assert run.random_data and run.entropy_floor == pytest.approx(math.log(c.vocab - c.low))
        if fam == "fine-tune":
            assert run.pretrained is True


def test_cli_refuses_an_unknown_family_in_one_line():
    p = subprocess.run([sys.executable, str(BENCH / "calibration.py"), "--families", "nope"], capture_output=True, text=True)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "nope" in p.stderr


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--n-per-cell", "0"], "--n-per-cell"),
        (["--n-per-cell", "x"], "--n-per-cell"),
        (["--families", "short-flat", "--formats", "lossdoc"], "no cases"),
        (["--seed-run", "tests/fixtures/generic/counting_healthy.csv"], "not a lossdoc run log"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(capsys, monkeypatch, argv, words):
    monkeypatch.chdir(BENCH.parent)
    try:
        rc = calib.main(argv)
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and words in err


def test_seed_run_diagnoses_every_prefix(tmp_path):
    c = sim.generate("random-plateau", "short", "lossdoc", 1, 0)
    path, _ = sim.write(c, tmp_path)
    res = calib.seed_run(path)
    records = c.loss.size + c.eval_step.size
    assert res["prefixes"] == records == len(res["rows"])
    assert sum(res["verdicts"].values()) == records
    assert res["broken"] == sum(r["verdict"] == "broken" for r in res["rows"])
    assert res["broken_stopped"] == sum(r["stopped"] == "broken" for r in res["rows"])
    assert sum(res["verdicts_stopped"].values()) == records


SLICE = _specs(5)  # 5 cases per family
MAIN_FAMILIES = sim.FAMILIES[:8]  # the families main had on 2026-12-06 (no-curve came later)
MAIN_SLICE_EXACT = 31  # of SLICE's 40 cases of MAIN_FAMILIES, measured on main on 2026-12-06, before the analysis rewrite


@pytest.fixture(scope="module")
def slice_results():
    return [calib.run_case(s) for s in SLICE]


def test_slice_is_no_worse_than_main_measured(slice_results):
    # main on 2026-12-06 (before the analysis rewrite) gets MAIN_SLICE_EXACT of these 40 cases right; a change
    # that gets fewer right is a regression on curves of known truth
    measured = [r for r in slice_results if r["family"] in MAIN_FAMILIES]
    exact = sum(r["ok"] for r in measured)
    assert len(measured) == 40
    assert exact >= MAIN_SLICE_EXACT, [(r["family"], r["tier"], r["format"], r["verdict"]) for r in measured if not r["ok"]]


def test_slice_every_family_at_least_95_percent(slice_results):
    # target from issue 23: at least 95% exact in every family
    for fam in sim.FAMILIES:
        rows = [r for r in slice_results if r["family"] == fam]
        ok = sum(r["ok"] for r in rows)
        assert ok >= 0.95 * len(rows), (fam, [(r["tier"], r["format"], r["verdict"]) for r in rows if not r["ok"]])


def test_a_validation_drift_of_thousandths_is_no_learning_that_continues(tmp_path):
    # the stuck family's tiny-lr cause (lr 1e-9..1e-7): validation drifts 0.005-0.02 nats over the whole run, in order
    # and beyond its small noise. Landed main called this case still learning ("the validation loss fell ... still
    # improving"); a fall must also be material (a quarter of MIN_EFFECT_REL of the level), as the batches' trend must
    case = sim.generate("stuck", "autocorrelated", "lossdoc", 0, 5)
    assert case.sub == "tiny-lr"
    path, _ = sim.write(case, tmp_path)
    from lossdoc.analysis import diagnose
    from lossdoc.runlog.readers import read_run

    d = diagnose(read_run(path))
    assert d.finding("progress").key not in ("f.progress.val_improving", "f.progress.val_improving_level"), d.finding("progress").key
    assert d.verdict != "still-learning"
