"""Reading classes of the seventeenth held-out set (docs/accuracy.md), each a test that fails before its change."""

from __future__ import annotations

import json

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import HEAD_BYTES, read_run

BAR = "".join(f"Map: {5 * k:3d}%|{'#' * (k // 2):<10}| {72 * k}/1448 [00:{k:02d}<00:{20 - k:02d}, 6256.56 examples/s]" for k in range(21))
SETUP = "nohup: ignoring input\n" + (BAR + "\n  warnings.warn(\n") * 8 + "trainable params: 4,128,768 || all params: 7,619,745,280\n"


def test_trainer_dicts_after_long_set_up_output_are_read_as_the_curve(tmp_path):
    # class: the first loss lines lie beyond the first look (8 KB), after progress bars whose carriage returns were lost
    losses = [0.616, 0.538, 0.518, 0.5372, 0.5284, 0.5177, 0.4496, 0.5271, 0.5525, 0.4753]
    body = "".join(f"{{'loss': {v}, 'grad_norm': 0.23, 'learning_rate': 1.7e-05, 'epoch': {0.055 * (i + 1):.3f}}}\n" for i, v in enumerate(losses))
    body += "{'eval_loss': 0.4173, 'eval_runtime': 45.1, 'epoch': 0.55}\n"
    f = tmp_path / "sft.log"
    f.write_text(SETUP + body)
    assert len(SETUP.encode()) > HEAD_BYTES
    run = read_run(f)
    assert run.format == "console"
    assert run.batches.loss.tolist() == losses
    assert run.epochs.val_loss.tolist() == [0.4173]


def test_a_nanogpt_log_after_a_long_config_echo_is_read_as_nanogpt(tmp_path):
    echo = "".join(f"Overriding: setting_{i} = {i}\n" for i in range(600))  # a long configuration echo
    iters = "".join(f"iter {i * 10}: loss {4.2 - i / 100:.4f}, time 12.00ms, mfu 1.00%\n" for i in range(30))
    f = tmp_path / "train.log"
    f.write_text(echo + iters)
    assert len(echo.encode()) > HEAD_BYTES
    run = read_run(f)
    assert run.format == "nanogpt" and len(run.batches) == 30


def test_long_set_up_output_with_no_loss_after_it_is_still_refused(tmp_path):
    f = tmp_path / "setup.log"
    f.write_text(SETUP * 3)
    with pytest.raises(LossdocError) as exc:
        read_run(f)
    assert exc.value.key == "error.unknown_format"


def test_the_curve_after_long_set_up_output_gets_its_verdict(tmp_path):
    # batch lines and evaluation lines: two shapes, which the console's sparse last try does not read
    lines = "".join(
        f"step {i * 10} | loss {5.0 - 3.0 * (1 - 0.97**i):.4f}\n" + (f"  -> val loss {2.1 + 0.01 * (i == 199):.4f}\n" if i % 20 == 19 else "")
        for i in range(200)
    )
    f = tmp_path / "train.log"
    f.write_text(SETUP + lines)
    run = read_run(f)
    assert len(run.batches) == 200 and len(run.epochs) == 10
    assert diagnose(run).verdict == "converged"


def _staged(losses_by_stage):
    out = []
    for k, stage in enumerate(losses_by_stage):
        out.append(f"batch{k}:")
        out += [f"- Epoch {j}/{len(stage)}, student loss: {v:.6f}" for j, v in enumerate(stage, 1)]
    return "\n".join(out) + "\n"


def test_stages_whose_epochs_start_again_where_the_loss_was_are_one_curve(tmp_path):
    # class: a run trained in stages (a loop over data chunks, 3 epochs each), the epoch count starting again in each
    # and the loss going on from where it was: one curve, where it was read as appended runs (the last stage only)
    stages = [[3.13, 1.81, 1.59], [1.70, 1.42, 1.30], [1.31, 1.28, 1.23], [1.23, 1.15, 1.14], [1.14, 1.12, 1.11]]
    f = tmp_path / "train.log"
    f.write_text(_staged(stages))
    run = read_run(f)
    assert run.batches.loss.tolist() == [v for s in stages for v in s]
    assert run.batches.epoch.tolist() == list(map(float, range(1, 16)))  # each stage's epochs after the last's
    assert "warn.stages" in [w.key for w in run.warnings] and "warn.appended_runs" not in [w.key for w in run.warnings]


def test_runs_that_start_again_from_the_top_are_still_appended_runs(tmp_path):
    # the other reading kept: a script that appends a fresh run on every launch starts again near the first loss
    runs = [[3.1, 2.2, 1.7, 1.5], [3.05, 2.1, 1.6, 1.45]]
    f = tmp_path / "train.log"
    f.write_text(_staged(runs))
    run = read_run(f)
    assert run.batches.loss.tolist() == runs[1]
    assert "warn.appended_runs" in [w.key for w in run.warnings]


def test_a_json_dump_of_training_and_validation_groups_is_read(tmp_path):
    # class (the eighteenth set, after its first look): a plotting script's dump, {"training": {"iters": [...], "loss":
    # [...]}, "validation": {"steps": [...], "train_loss": [...], "val_loss": [...]}, "model_info": {...}}: refused as
    # "neither equal-length arrays nor a list of records"
    doc = {
        "validation": {"steps": [0, 50, 100, 150], "train_loss": [10.97, 8.2, 7.1, 7.0], "val_loss": [10.98, 8.4, 7.3, 7.25]},
        "training": {"iters": list(range(0, 160, 10)), "loss": [10.96 - 0.25 * i for i in range(16)], "mfu": [27.0] * 16},
        "model_info": {"parameters": "208M", "learning_rate": 0.0003},
    }
    f = tmp_path / "training_data.json"
    f.write_text(json.dumps(doc))
    run = read_run(f)
    assert run.batches.step.tolist() == [float(s) for s in range(0, 160, 10)]
    assert run.batches.loss.tolist() == doc["training"]["loss"]  # the per-iteration curve, not the evaluations' train loss
    assert run.epochs.step.tolist() == [0.0, 50.0, 100.0, 150.0] and run.epochs.val_loss.tolist() == doc["validation"]["val_loss"]
