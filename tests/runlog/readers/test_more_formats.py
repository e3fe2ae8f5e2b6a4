"""The formats people's logs come in beyond the big tools: console lines, build-nanogpt's log.txt,
LLaMA-Factory's trainer_log.jsonl, column JSON, whitespace tables, bare columns, mixed JSONL, Keras,
W&B exports, and a folder that holds one log. Every fixture is written here, from numbers the
test keeps, so each assertion compares what was read with what was written."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run

RNG = np.random.default_rng(7)
LOSSES = [round(float(x), 4) for x in 6.0 * np.exp(-np.arange(40) / 15) + 1.5 + RNG.normal(0, 0.02, 40)]
VALS = [round(float(x), 4) for x in (5.0, 3.6, 2.9, 2.5)]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_console_epoch_batch_loss_lines_with_epoch_means(tmp_path):
    """Python logging lines, as a home-made T5 fine-tune prints them: no step numbers at all."""
    lines = []
    for ep in (1, 2):
        lines.append(f"2025-03-02 05:16:20,348 - INFO - ##### Epoch {ep} #####")
        for x in LOSSES[(ep - 1) * 20 : ep * 20]:
            lines.append(f"2025-03-02 05:16:21,001 - INFO - Epoch {ep} - Batch loss: {x}")
        lines.append(f"2025-03-02 05:24:38,655 - INFO - Epoch {ep} - Average Train Loss: {np.mean(LOSSES[(ep - 1) * 20 : ep * 20]):.4f}")
        lines.append(f"2025-03-02 05:34:00,482 - INFO - Epoch {ep} - Validation BLEU: BLEU-1 71.65, BLEU-2 65.76")
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert run.format == "console"
    assert run.batches.loss.tolist() == LOSSES
    assert run.batches.step.tolist() == list(range(1, 41))  # counted in order, and the warning says so
    assert run.batches.epoch.tolist() == [1.0] * 20 + [2.0] * 20
    assert [w.key for w in run.warnings] == ["warn.steps_counted"]
    means = [round(float(np.mean(LOSSES[i : i + 20])), 4) for i in (0, 20)]
    assert run.epochs.train_loss.tolist() == means and np.isnan(run.epochs.val_loss).all()
    assert run.epochs.step.tolist() == [20.0, 40.0]  # placed at the last batch of their epoch


@pytest.mark.parametrize(
    "template",
    [
        "Epoch {ep}, Step {step}, Loss: {loss}",
        "step {step} | loss {loss} | lr 3e-4 | epoch {ep}",
        "[train] epoch={ep} step={step} loss={loss} lr=0.0003",
        "iteration {step}: train_loss = {loss}",
    ],
)
def test_console_step_and_loss_in_any_words(tmp_path, template):
    text = "\n".join(template.format(ep=1 + i // 20, step=10 * (i + 1), loss=x) for i, x in enumerate(LOSSES)) + "\n"
    run = read_run(_write(tmp_path, "log.txt", text))
    assert run.format == "console"
    assert run.batches.step.tolist() == [10.0 * (i + 1) for i in range(40)]
    assert run.batches.loss.tolist() == LOSSES


def test_console_validation_lines_become_evaluations(tmp_path):
    lines = [f"step {10 * (i + 1)} | loss {x}" for i, x in enumerate(LOSSES)]
    for k, v in enumerate(VALS):
        lines.insert(10 * (k + 1) + k, f"step {100 * (k + 1)} | val_loss {v}")
    run = read_run(_write(tmp_path, "log.txt", "\n".join(lines)))
    assert run.epochs.val_loss.tolist() == VALS and run.epochs.step.tolist() == [100.0, 200.0, 300.0, 400.0]
    assert run.batches.loss.tolist() == LOSSES


def test_console_lines_whose_loss_is_not_a_number_are_counted(tmp_path):
    lines = [f"step {10 * (i + 1)} | loss {x}" for i, x in enumerate(LOSSES)]
    lines[5] = "step 60 | loss ???"
    run = read_run(_write(tmp_path, "log.txt", "\n".join(lines)))
    assert len(run.batches) == 39
    w = {x.key: x.args for x in run.warnings}
    assert w["warn.not_numbers"] == {"count": 1, "first": 6} and run.records_skipped == 1


def test_build_nanogpt_log_txt(tmp_path):
    """build-nanogpt writes '<step> train|val|hella <value>'; hella is an accuracy, not a loss."""
    lines = []
    for i, x in enumerate(LOSSES):
        if i % 10 == 0:
            lines.append(f"{i} val {VALS[min(i // 10, 3)]}")
            lines.append(f"{i} hella 0.2{i % 9}")
        lines.append(f"{i} train {x:.6f}")
    run = read_run(_write(tmp_path, "log.txt", "\n".join(lines) + "\n"))
    assert run.format == "console"
    assert run.batches.loss.tolist() == LOSSES and run.batches.step.tolist() == list(range(40))
    assert run.epochs.val_loss.tolist() == VALS and run.epochs.step.tolist() == [0.0, 10.0, 20.0, 30.0]


def test_llama_factory_trainer_log_jsonl(tmp_path):
    rows = [
        {
            "current_steps": 5 * (i + 1),
            "total_steps": 200,
            "loss": x,
            "learning_rate": 1e-4,
            "epoch": round(0.025 * (i + 1), 3),
            "percentage": 2.5 * (i + 1),
            "elapsed_time": "0:00:10",
            "remaining_time": "0:10:00",
        }
        for i, x in enumerate(LOSSES)
    ]
    rows.insert(20, {"current_steps": 100, "total_steps": 200, "eval_loss": VALS[0], "epoch": 0.5})
    run = read_run(_write(tmp_path, "trainer_log.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n"))
    assert run.batches.step.tolist() == [5.0 * (i + 1) for i in range(40)] and run.batches.loss.tolist() == LOSSES
    assert run.epochs.val_loss.tolist() == [VALS[0]] and run.epochs.step.tolist() == [100.0]
    assert not run.warnings


def test_jsonl_mixing_step_rows_and_epoch_rows_reads_both(tmp_path):
    rows = [{"step": 50 * (i + 1), "loss": x, "lr": 1e-4} for i, x in enumerate(LOSSES)]
    for k, v in enumerate(VALS[:3]):
        rows.insert(13 * (k + 1), {"epoch": k + 1, "step": 650 * (k + 1), "train_loss": 9.0 - k, "val_loss": v, "val_chrf": 57.0 + k})
    run = read_run(_write(tmp_path, "train_log.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert run.batches.loss.tolist() == LOSSES
    assert run.epochs.val_loss.tolist() == VALS[:3] and run.epochs.train_loss.tolist() == [9.0, 8.0, 7.0]


@pytest.mark.parametrize("pretty", [True, False])
def test_column_oriented_json(tmp_path, pretty):
    doc = {"step": list(range(1, 41)), "train_loss": LOSSES, "note": "run 7"}
    run = read_run(_write(tmp_path, "history.json", json.dumps(doc, indent=2 if pretty else None)))
    assert run.batches.step.tolist() == list(range(1, 41)) and run.batches.loss.tolist() == LOSSES


def test_keras_style_history_dict_of_epoch_arrays(tmp_path):
    """model.fit(...).history dumped with json.dump: {"loss": [...], "val_loss": [...]}, one entry per epoch."""
    doc = {"loss": [4.0, 3.1, 2.6, 2.3], "val_loss": VALS}
    run = read_run(_write(tmp_path, "history.json", json.dumps(doc, indent=1)))
    assert run.epochs.val_loss.tolist() == VALS and run.epochs.train_loss.tolist() == [4.0, 3.1, 2.6, 2.3]
    assert run.epochs.epoch.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_list_of_records_json(tmp_path):
    doc = [{"iter": 10 * (i + 1), "loss": x} for i, x in enumerate(LOSSES)]
    run = read_run(_write(tmp_path, "log.json", json.dumps(doc, indent=2)))
    assert run.batches.loss.tolist() == LOSSES and run.batches.step[-1] == 400.0


def test_json_of_another_shape_is_one_line_naming_the_shapes(tmp_path):
    with pytest.raises(LossdocError) as ei:
        read_run(_write(tmp_path, "x.json", json.dumps({"a": [1, 2], "b": [1, 2, 3]}, indent=1)))
    assert ei.value.key == "error.json_shape"


def test_whitespace_columns_with_a_header(tmp_path):
    text = "step   train_loss   val_loss\n" + "\n".join(f"{10 * (i + 1):<6} {x:<10}" for i, x in enumerate(LOSSES)) + "\n"
    text += "400    1.6   1.7\n"
    run = read_run(_write(tmp_path, "loss.txt", text))
    assert run.format == "csv"
    assert run.batches.loss.tolist() == LOSSES  # the second row at step 400 holds a validation loss: an evaluation row
    assert run.epochs.val_loss.tolist() == [1.7] and run.epochs.train_loss.tolist() == [1.6]


@pytest.mark.parametrize("sep", [" ", "\t", ","])
def test_two_bare_numeric_columns_are_step_and_loss(tmp_path, sep):
    text = "\n".join(f"{i + 1}{sep}{x}" for i, x in enumerate(LOSSES)) + "\n"
    run = read_run(_write(tmp_path, "losses.txt", text))
    assert run.batches.step.tolist() == list(range(1, 41)) and run.batches.loss.tolist() == LOSSES
    assert "warn.bare_columns" in [w.key for w in run.warnings]


def test_keras_csvlogger(tmp_path):
    text = "epoch,loss,val_loss\n" + "\n".join(f"{i},{t},{v}" for i, (t, v) in enumerate(zip([4.0, 3.1, 2.6, 2.3], VALS)))
    run = read_run(_write(tmp_path, "training.log", text))
    assert run.epochs.val_loss.tolist() == VALS and run.epochs.epoch.tolist() == [1.0, 2.0, 3.0, 4.0]  # renumbered from 1


def test_wandb_history_export(tmp_path):
    """W&B's CSV export: "Step", then "<run> - train/loss" and its __MIN/__MAX companions."""
    head = '"Step","brisk-sun-3 - train/loss","brisk-sun-3 - train/loss__MIN","brisk-sun-3 - train/loss__MAX","brisk-sun-3 - eval/loss"'
    body = [f"{10 * (i + 1)},{x},{x - 0.1},{x + 0.1}," for i, x in enumerate(LOSSES)]
    body[9] = body[9] + str(VALS[0])
    run = read_run(_write(tmp_path, "wandb_export.csv", head + "\n" + "\n".join(body) + "\n"))
    assert run.epochs.val_loss.tolist() == [VALS[0]]
    assert run.batches.loss.tolist() == LOSSES[:9] + LOSSES[10:]


def test_a_folder_holding_one_log_is_read(tmp_path):
    _write(tmp_path, "README.md", "# my run\nnotes only\n")
    _write(tmp_path, "train.log", "\n".join(f"step {10 * (i + 1)} | loss {x}" for i, x in enumerate(LOSSES)))
    run = read_run(tmp_path)
    assert run.source.endswith("train.log") and run.batches.loss.tolist() == LOSSES


def test_a_folder_holding_two_logs_names_them(tmp_path):
    for name in ("a.log", "b.log"):
        _write(tmp_path, name, "\n".join(f"step {10 * (i + 1)} | loss {x}" for i, x in enumerate(LOSSES)))
    with pytest.raises(LossdocError) as ei:
        read_run(tmp_path)
    assert ei.value.key == "error.folder_many_logs" and ei.value.args_["files"] == "a.log, b.log"


def test_console_numbers_are_parsed_in_linear_time_on_hostile_lines(tmp_path):
    """No pattern backtracks on long runs of spaces or letters: a 200 KB hostile file is read (or refused) at once."""
    hostile = ("Epoch 1" + " " * 2000 + "\n") * 50 + ("a" * 3000 + " loss" + "\n") * 20 + ("step 1 " + "loss " * 800 + "\n") * 20
    p = _write(tmp_path, "hostile.log", "\n".join(f"step {i} | loss {x}" for i, x in enumerate(LOSSES)) + "\n" + hostile)
    run = read_run(p)
    assert len(run.batches) == 40 and math.isclose(run.batches.loss[0], LOSSES[0])


def test_console_batch_of_total_places_steps_by_epoch(tmp_path):
    """'epoch 2 | batch 7/20' is step 27: placed, not counted, so no warning."""
    lines = [f"epoch {1 + i // 20} | batch {1 + i % 20}/20 | train loss {x}" for i, x in enumerate(LOSSES)]
    run = read_run(_write(tmp_path, "log.txt", "\n".join(lines[:15] + lines[20:])))  # batches 16-20 of epoch 1 missing
    assert run.batches.step.tolist() == list(range(1, 16)) + list(range(21, 41))
    assert run.batches.loss.tolist() == LOSSES[:15] + LOSSES[20:] and not run.warnings
