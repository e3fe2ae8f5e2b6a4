"""The short chaos test: scripts/chaos.py with a few SIGKILLs at random moments (the full one:
`python scripts/chaos.py --kills 20`). Each restart imports torch, so this takes ~15-30 s."""

import importlib.util
import sys

import pytest

from lossdoc.train.loop import train
from tests.conftest import ROOT, tiny_config

spec = importlib.util.spec_from_file_location("lossdoc_chaos", ROOT / "scripts" / "chaos.py")
chaos = importlib.util.module_from_spec(spec)
sys.modules["lossdoc_chaos"] = chaos  # dataclasses look their module up
spec.loader.exec_module(chaos)

pytestmark = pytest.mark.slow  # subprocesses killed and restarted, each importing torch

EPOCHS = 10  # 90 steps: three kills (at most 2 epochs of progress each) never reach the end


def test_random_kills_lose_nothing_and_the_losses_equal_an_uninterrupted_run(tmp_path):
    reference = tmp_path / "reference"
    train(tiny_config(reference, epochs=EPOCHS, dropout=0.1))  # the script's run, in-process (same numbers)
    assert chaos.EXTRA == ["--dropout", "0.1"]
    lines = []
    report = chaos.chaos(3, 20240601, EPOCHS, tmp_path, reference=reference, in_process_explain=True, say=lines.append)
    assert report.ok, "\n".join(report.failures + lines)
    assert report.kills == 3 and report.resumes >= 1
    assert report.checkpoints_checked >= 1 and report.explains == 4
    assert report.epochs_compared == EPOCHS + 1 and report.batch_records_compared >= EPOCHS * 9


def test_the_chaos_checks_catch_a_run_that_differs(tmp_path):
    # the comparison is not vacuous: a reference with another seed fails it
    reference = tmp_path / "reference"
    train(tiny_config(reference, epochs=2, dropout=0.1, seed=8))
    report = chaos.chaos(0, 0, 2, tmp_path, reference=reference, in_process_explain=True, say=lambda s: None)
    assert not report.ok and any("per-epoch losses differ" in f for f in report.failures)
