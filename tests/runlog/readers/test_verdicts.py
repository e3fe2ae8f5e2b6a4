"""Verdicts on logs made by the real tools.

The seed's console output, in both languages, must be explained as
expected-plateau with its own numbers: 9.38 at the first batch, best
validation loss 9.2290, floor ln(10000) = 9.2103 for V = 10000 random tokens.
"""

from __future__ import annotations

import math

import pytest

from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.readers import read_run


def _diagnose(run):
    from lossdoc.analysis import diagnose

    return diagnose(run)


def _codes(d, status=None):
    return {f.code for f in d.findings if status is None or f.status == status}


@pytest.mark.parametrize("name", ["seed_zh.txt", "seed_en.txt", "seed_zh_gb18030.txt", "seed_zh_utf16.txt"])
def test_seed_console_is_expected_plateau(fix, name):
    run = apply_overrides(read_run(fix / "seed_console" / name), vocab_size=10000, random=True)
    assert run.entropy_floor == pytest.approx(math.log(10000))
    assert run.batches.loss[0] == pytest.approx(9.38, abs=0.005)
    assert min(run.epochs.val_loss) == 9.2290
    d = _diagnose(run)
    assert d.verdict == "expected-plateau"
    assert not _codes(d, "fail")


@pytest.mark.parametrize("name", ["seed_zh.txt", "seed_en.txt"])
def test_seed_console_with_no_flags_is_expected_plateau(fix, name):
    """The log is enough: its dummy-data line means random ids in [1, V), V = 10000 (the script's default)."""
    d = _diagnose(read_run(fix / "seed_console" / name))
    assert d.verdict == "expected-plateau"
    floor = d.finding("floor")
    assert floor.status == "ok" and floor.reference == pytest.approx(math.log(9999))
    init = d.finding("init-loss")
    assert init.status == "ok" and init.measured == pytest.approx(9.3812) and init.args["ln_v"] == pytest.approx(math.log(10000), abs=1e-4)
    assert d.facts.sources["vocab_size"]["kind"] == "default" and d.facts.sources["random_data"]["kind"] == "log"


def test_seed_console_without_the_dummy_line_guesses_nothing(fix, tmp_path):
    text = (fix / "seed_console" / "seed_en.txt").read_text(encoding="utf-8").replace("Creating dummy dataset...\n", "")
    (tmp_path / "console.txt").write_text(text, encoding="utf-8")
    d = _diagnose(read_run(tmp_path / "console.txt"))
    assert d.finding("floor").status == "skipped" and d.facts.vocab_size is None
    assert d.verdict != "expected-plateau"
    assert {"fact": "vocab_size", "flag": "--vocab-size"} in d.facts.missing


def test_seed_console_default_vocab_that_disagrees_with_the_first_loss_is_named(fix, tmp_path):
    """V = 10000 is only a default: a first loss of ln 500 says the run used another vocabulary."""
    import re

    # the seed's run as it would look with V = 500: every loss moved down by ln 10000 - ln 500
    shift = math.log(10000) - math.log(500)
    text = (fix / "seed_console" / "seed_en.txt").read_text(encoding="utf-8")
    text = re.sub(r"(Loss: )(\d+\.\d+)", lambda m: f"{m.group(1)}{float(m.group(2)) - shift:.4f}", text)
    (tmp_path / "console.txt").write_text(text, encoding="utf-8")
    d = _diagnose(read_run(tmp_path / "console.txt"))
    init = d.finding("init-loss")
    assert (
        init.status == "warn"
        and init.key == "f.init.default_vocab"
        and abs(init.args["implied_v"] - 500 * math.exp(9.3812 - math.log(10000))) < 2
        and init.flag == "--vocab-size"
    )
    # the floor ln 9999 that came from the default V is not used against this run's losses
    assert d.finding("floor").status == "skipped" and d.verdict != "broken"


@pytest.mark.parametrize(
    "rel",
    ["hf_trainer/random_plateau", "lightning_csv/random_plateau", "tensorboard/random_plateau", "nanogpt/random_plateau.log"],
)
def test_random_token_runs_are_expected_plateau_with_random_flag(fix, rel):
    run = apply_overrides(read_run(fix / rel), vocab_size=64, random=True)
    d = _diagnose(run)
    assert d.verdict == "expected-plateau", (d.verdict, [(f.code, f.status) for f in d.findings])


@pytest.mark.parametrize(
    "rel",
    [
        "hf_trainer/counting_healthy",
        "lightning_csv/counting_healthy",
        "tensorboard/counting_healthy",
        "nanogpt/counting_healthy.log",
        "generic/counting_healthy.csv",
    ],
)
def test_learnable_runs_are_healthy(fix, rel):
    d = _diagnose(apply_overrides(read_run(fix / rel), vocab_size=64))
    assert d.verdict in ("converged", "still-learning"), (d.verdict, [(f.code, f.status) for f in d.findings])
    assert not _codes(d, "fail")


@pytest.mark.parametrize("rel", ["hf_trainer/exploding_lr", "tensorboard/exploding_lr", "nanogpt/exploding_lr.log"])
def test_exploding_learning_rate_is_broken(fix, rel):
    d = _diagnose(apply_overrides(read_run(fix / rel), vocab_size=64))
    assert d.verdict == "broken"
    assert _codes(d, "fail") & {"divergence", "spikes", "nonfinite-loss", "init-loss"}


def test_memorising_run_is_overfitting(fix):
    d = _diagnose(read_run(fix / "lightning_csv" / "memorising_overfit"))
    assert d.verdict == "overfitting"
    assert "overfitting" in _codes(d)


def test_seed_console_explanation_walks_through_the_seeds_own_numbers(fix):
    """The seed's hand-written explanation, rebuilt: init 9.38 vs ln 10000, floor ln 9999, best 9.2290, and the
    batches at 9.19 below the floor explained as noise."""
    from lossdoc.render.diagnosis import explanation

    run = apply_overrides(read_run(fix / "seed_console" / "seed_zh.txt"), vocab_size=10000, random=True, random_low=1)
    d = _diagnose(run)
    en, zh = " ".join(explanation(d, "en")), "".join(explanation(d, "zh"))
    assert "ln V = ln 10000 = 9.2103" in en and "ln 9999 = 9.2102" in en and "9.2290" in en
    assert "That is noise, not a model beating the floor" in en
    assert "这是噪声，并不是模型突破了下限" in zh and "不是训练失败" in zh
