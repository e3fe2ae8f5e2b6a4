"""A trainer_state.json whose log_history holds only the Trainer's closing summary (issue 23): it was an error
("log_history holds no loss or eval_loss values"); it is a Run with no series, the summary kept, and explain
says inconclusive and shows the figures.

The summary is what transformers' Trainer.train() logs at the end (``train_runtime``, ``train_samples_per_second``,
``train_steps_per_second``, ``total_flos``, ``train_loss``: the mean over all steps), with ``epoch`` and ``step``."""

from __future__ import annotations

import json

import pytest

from lossdoc.cli import run as lossdoc_cli
from lossdoc.errors import LossdocError
from lossdoc.i18n import t
from lossdoc.runlog.readers import read_run

SUMMARY = {
    "epoch": 3.0,
    "step": 750,
    "total_flos": 1.2e15,
    "train_loss": 2.45671,
    "train_runtime": 812.3,
    "train_samples_per_second": 29.5,
    "train_steps_per_second": 0.923,
}


def _state(tmp_path, text: str):
    d = tmp_path / "out"
    d.mkdir()
    (d / "trainer_state.json").write_text(text)
    return d


@pytest.mark.parametrize("nan", [False, True])  # True: a NaN in the document, read by json.loads instead of msgspec
def test_summary_only_is_a_run_without_series(tmp_path, nan):
    state = {"global_step": 750, "logging_steps": 1000, "num_train_epochs": 3, "log_history": [SUMMARY]}
    text = json.dumps(state)
    if nan:
        text = text.replace('"total_flos": 1.2e+15', '"total_flos": NaN')
    run = read_run(_state(tmp_path, text))
    assert run.format == "hf-trainer"
    assert len(run.batches) == 0 and len(run.epochs) == 0
    assert run.config["summary"]["train_loss"] == 2.45671 and run.config["summary"]["step"] == 750
    assert run.config["global_step"] == 750
    (w,) = [w for w in run.warnings if w.key == "warn.hf_summary_only"]
    assert w.args == {"train_loss": "2.4567", "global_step": "750", "epoch": "3"}
    assert "2.4567" in t(w.key, "zh", **w.args) and "750" in t(w.key, "en", **w.args)


def test_explain_says_inconclusive_and_shows_the_summary(tmp_path, capsys, monkeypatch):
    d = _state(tmp_path, json.dumps({"global_step": 750, "logging_steps": 1000, "log_history": [SUMMARY]}))
    monkeypatch.setenv("COLUMNS", "250")
    code = lossdoc_cli(["explain", str(d), "--json"])  # the CLI's own entry, in this process
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["verdict"] == "inconclusive"
    (w,) = [w for w in doc["reader_warnings"] if w["key"] == "warn.hf_summary_only"]
    assert "train_loss 2.4567" in w["message"] and "750 steps" in w["message"]
    code = lossdoc_cli(["explain", str(d), "--lang", "en"])
    assert code == 0 and "2.4567" in capsys.readouterr().out


def test_empty_history_says_why(tmp_path):
    """global_step 3 below logging_steps 10: nothing was logged, and the error line says so."""
    d = _state(tmp_path, json.dumps({"global_step": 3, "logging_steps": 10, "log_history": []}))
    with pytest.raises(LossdocError) as e:
        read_run(d)
    assert e.value.key == "error.hf_nothing_logged"
    assert "3 step(s), fewer than logging_steps = 10" in e.value.render("en")
