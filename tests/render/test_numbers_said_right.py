"""Issue 25, item 8: numbers said as they are. A rise is not "moved -9657666082 nats"; a percentage has the digits
it means (8.3%, not 8.3000%); a loss under the floor is "below it", never "-0.0040 nats above it"; and the processes
a run was trained on are shown."""

from __future__ import annotations

import io
import json
import math

import numpy as np
from rich.console import Console

from lossdoc.analysis import diagnose
from lossdoc.analysis.model import Finding
from lossdoc.i18n import t
from lossdoc.render.diagnosis import explanation, finding_sentence
from lossdoc.runlog.readers import read_run
from tests.analysis.test_checks import make_run


def test_a_loss_that_rose_is_not_said_to_have_moved_a_negative_amount():
    losses = np.r_[np.full(30, 4.0), np.full(30, 1e10)] + np.random.default_rng(2).normal(0, 0.01, 60)
    d = diagnose(make_run(losses, v=None))
    f = d.finding("no-learning")
    assert f.key == "f.nolearn.rose" and f.status == "warn" and f.args["rose"] > 9e9
    text = finding_sentence(f, "en")
    assert "rose" in text and "moved -" not in text and "-9" not in text
    assert d.verdict == "broken"  # the divergence check decides


def test_a_share_of_the_average_fall_has_one_decimal():
    f = Finding(
        "progress",
        "info",
        "f.progress.few_falling",
        {"n": 9, "falls": 30, "pairs": 36, "p": 0.001, "first": 3.0, "last": 2.0, "drop": 1.0, "last_drop": 0.025, "rel": 8.3},
    )
    assert "8.3%" in finding_sentence(f, "en") and "8.3000" not in finding_sentence(f, "en")


def test_a_best_validation_just_under_the_floor_is_said_to_be_below_it():
    floor = math.log(64)
    train = floor + 0.2 * np.exp(-np.arange(200) / 20) + np.random.default_rng(3).normal(0, 0.02, 200)
    run = make_run(train, [floor + 0.05, floor + 0.01, floor - 0.004, floor + 0.002], v=64, floor=floor, random_data=True)
    d = diagnose(run)
    fl = d.finding("floor")
    assert fl.status == "ok" and fl.args["excess"] < 0
    text = " ".join(explanation(d, "en"))
    assert "below the floor, within its noise" in text and "nats (-" not in text and "-0.0040 nats" not in text
    assert "低" in " ".join(explanation(d, "zh"))


def test_trains_closing_line_says_below_when_the_best_is_under_the_floor():
    from types import SimpleNamespace

    from lossdoc.render.train_console import print_summary

    floor = math.log(63)
    result = SimpleNamespace(
        out_dir="/x", entropy_floor=floor, best_val_loss=floor - 0.3095, header={"data": {"kind": "dummy"}}, vocab_size=64, status="completed"
    )
    buf = io.StringIO()
    print_summary(Console(file=buf, width=200, color_system=None), result, "en")
    out = buf.getvalue()
    assert "0.3095 nats (7.47%) below it" in out and "above" not in out
    assert t("train.summary_floor_dummy_below", "zh", best=1, floor=1, vocab=1, excess=1, pct=1).count("低") == 1


def test_the_processes_a_run_was_trained_on_are_shown(tmp_path):
    header = {
        "type": "run",
        "schema": "lossdoc.run/1",
        "run_id": "x",
        "vocab_size": 64,
        "data": {"kind": "text"},
        "pretrained": False,
        "distributed": {"world_size": 2},
    }
    rows = [header] + [{"type": "batch", "step": s, "epoch": 1, "loss": 4.0 - s / 100, "tokens": 512} for s in range(1, 60)]
    (tmp_path / "run.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = read_run(tmp_path / "run.jsonl")
    assert run.config["world_size"] == 2
    assert [w.args["facts"] for w in run.warnings if w.key == "warn.scale_facts"] == ["world_size=2"]
