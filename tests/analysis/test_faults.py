"""Real short training runs with each injected fault: explain must name the right problem."""

import pytest

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run
from lossdoc.train.config import resolve_config
from lossdoc.train.loop import train
from tests.conftest import ROOT

FAULTS = ROOT / "configs" / "faults.yaml"


def run_and_diagnose(tmp_path, **over):
    train(resolve_config(FAULTS, out=str(tmp_path / "r"), **over))
    return diagnose(read_run(tmp_path / "r"))


def failed(d):
    return {f.code: f.key for f in d.findings if f.status == "fail"}


def test_healthy_small_run_is_an_expected_plateau(tmp_path):
    d = run_and_diagnose(tmp_path)
    assert d.verdict == "expected-plateau", failed(d)
    assert failed(d) == {}


@pytest.mark.parametrize(
    "fault, code, key",
    [
        ("no-causal-mask", "below-floor", "f.below.val"),
        ("unshifted-labels", "below-floor", "f.below.val"),
        ("zero-lr", "no-learning", "f.nolearn.lr_zero"),
        ("exploding-lr", "divergence", "f.diverge.above_lnv"),
        ("large-init-logits", "init-loss", "f.init.high"),
    ],
)
def test_each_fault_is_broken_with_the_right_finding(tmp_path, fault, code, key):
    d = run_and_diagnose(tmp_path, inject=fault)
    assert d.verdict == "broken"
    assert failed(d).get(code) == key, failed(d)


def test_validation_leak_shows_once_the_model_memorises(tmp_path):
    d = run_and_diagnose(tmp_path, inject="val-leak", num_samples=256, epochs=6)
    assert d.verdict == "broken"
    assert failed(d).get("below-floor") == "f.below.val"


def test_repeating_a_small_dataset_overfits(tmp_path):
    d = run_and_diagnose(tmp_path, num_samples=256, epochs=6)
    assert d.verdict == "overfitting"
    assert d.finding("overfitting").status == "fail"
    assert d.finding("overfitting").key in ("f.overfit.val_rising", "f.overfit.val_rising_fit", "f.overfit.memorising")
