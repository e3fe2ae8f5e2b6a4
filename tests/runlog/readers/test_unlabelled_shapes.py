"""Logs a person reads at a glance whose loss or position is not labelled the way the readers first expected
(issue 23, "logs it cannot read"; classes found in the held-out sets, docs/accuracy.md): a loss on its own line
under an "epoch N" line, a run stopped after one or two logged lines, keys in a language other than English or
Chinese, an evaluation line that names no step under the batch it follows, a table with no header of two or three
numeric columns, a JSON history whose every loss is null, and loss columns named beyond the usual list.
Every fixture is written here from numbers the test keeps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers._common import loss_kind, to_en

TRAIN = [round(float(x), 6) for x in 4.0 * np.exp(-np.arange(30) / 8) + 1.2]
VAL = [round(float(x), 6) for x in [5.1, 4.0, 3.3, 2.9, 2.7, 2.62, 2.6, 2.63, 2.7, 2.8]]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ console: a block per epoch


def test_a_loss_on_its_own_line_under_an_epoch_line_is_that_epochs(tmp_path):
    lines = []
    for ep, x in enumerate(TRAIN[:12], start=1):
        lines += [f"epoch {ep:3d}", f"loss: {x}", f"test accuracy: {20 + ep}.5%, (512570/2466133)"]
    run = read_run(_write(tmp_path, "train_log.txt", "\r\n".join(lines) + "\r\n"))
    assert run.format == "console"
    assert run.batches.loss.tolist() == TRAIN[:12]
    assert run.batches.epoch.tolist() == [float(e) for e in range(1, 13)]


def test_loss_lines_far_below_an_epoch_line_are_not_a_console_log(tmp_path):
    # "epoch" in a banner, and loss lines many lines further down with nothing placing them: not claimed
    text = "run 3, epoch 7 checkpoint\n" + "\n".join(f"note {i}" for i in range(6)) + "\n" + "\n".join(f"loss: {x}" for x in TRAIN[:5]) + "\n"
    with pytest.raises(LossdocError) as ei:
        read_run(_write(tmp_path, "notes.txt", text))
    assert ei.value.key == "error.unknown_format"


# ------------------------------------------------------------------ console: a run stopped after one or two lines


@pytest.mark.parametrize("text", ["1 train 10.914025\n", "step 10 | loss 3.2100\nstep 20 | loss 3.0100\n"])
def test_a_log_of_one_or_two_lines_is_read(tmp_path, text):
    run = read_run(_write(tmp_path, "log.txt", text))
    assert run.format == "console"
    assert len(run.batches) == text.count("\n")


def test_a_short_log_with_a_line_that_is_not_a_loss_is_still_refused(tmp_path):
    # fewer than three loss lines is only a log when they are the whole text
    with pytest.raises(LossdocError):
        read_run(_write(tmp_path, "log.txt", "step 10 | loss 3.2100\nsomething else entirely\n"))


# ------------------------------------------------------------------ console: keys in other languages


@pytest.mark.parametrize(
    ("step_word", "loss_word", "val_word"),
    [("pas", "pierdere", "validare"), ("Paso", "Pérdida", "validación"), ("Schritt", "Verlust", "Validierung"), ("étape", "perte", "validation")],
)
def test_console_keys_in_other_languages(tmp_path, step_word, loss_word, val_word):
    lines = []
    for i, x in enumerate(TRAIN[:20]):
        lines.append(f"{step_word} {20 * i:5d} | {loss_word} {x:.4f} | lr 4.00e-03 | 0.2s")
        if i % 5 == 4:
            lines.append(f"        -> {val_word} {VAL[i // 5]:.4f} nats")
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert run.batches.step.tolist() == [20.0 * i for i in range(20)]
    assert run.batches.loss.tolist() == pytest.approx([round(x, 4) for x in TRAIN[:20]])
    # each stepless evaluation follows the batch line above it
    assert run.epochs.val_loss.tolist() == VAL[:4]
    assert run.epochs.step.tolist() == [80.0, 180.0, 280.0, 380.0]


def test_to_en_reads_whole_words_only():
    assert to_en("pas 20 | pierdere 3.01") == "step 20 | loss 3.01"
    assert to_en("passport 3 compass 2") == "passport 3 compass 2"  # "pas" inside a word is not a step
    assert to_en("第 3 轮 训练损失 2.5").split() == ["epoch", "3", "train", "loss", "2.5"]


def test_stepless_evaluations_after_an_evaluation_are_not_placed_at_the_last_batch(tmp_path):
    # a final report after training (quantised round trips): they follow an evaluation, not a batch
    lines = [f"step:{10 * i} train_loss:{x}" for i, x in enumerate(TRAIN[:10], start=1)]
    lines += ["step:100 val_loss:2.7199", "final_int8_roundtrip val_loss:2.7345", "final_lora val_loss:2.2208"]
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert 100.0 in run.epochs.step.tolist()
    placed = dict(zip(run.epochs.step.tolist(), run.epochs.val_loss.tolist()))
    assert placed[100.0] == 2.7199  # the run's own evaluation is not overwritten by the report's


# ------------------------------------------------------------------ tables with no header


def test_three_bare_columns_train_val_epoch(tmp_path):
    text = "\n".join(f"{t}\t{v}\t{e}" for e, (t, v) in enumerate(zip(TRAIN[:10], VAL))) + "\n"
    run = read_run(_write(tmp_path, "losses.txt", text))
    assert run.format == "csv"
    assert run.epochs.val_loss.tolist() == VAL
    assert run.epochs.train_loss.tolist() == TRAIN[:10]
    w = next(w for w in run.warnings if w.key == "warn.bare_columns")
    assert w.args["columns"] == "loss, val_loss, step"


def test_two_bare_float_columns_are_train_and_val(tmp_path):
    text = "\n".join(f"{t} {v}" for t, v in zip(TRAIN[:10], VAL)) + "\n"
    run = read_run(_write(tmp_path, "losses.txt", text))
    assert run.epochs.val_loss.tolist() == VAL and run.epochs.train_loss.tolist() == TRAIN[:10]


def test_bare_columns_can_be_renamed_with_the_column_flags(tmp_path):
    # the warning names the columns; --train-col and --val-col take those names, to swap a guess that is wrong
    text = "\n".join(f"{t} {v}" for t, v in zip(TRAIN[:10], VAL)) + "\n"
    run = read_run(_write(tmp_path, "losses.txt", text), train_col="val_loss", val_col="loss")
    assert run.epochs.val_loss.tolist() == TRAIN[:10]


def test_bare_step_column_first_still_reads_as_before(tmp_path):
    text = "\n".join(f"{i + 1},{x}" for i, x in enumerate(TRAIN)) + "\n"
    run = read_run(_write(tmp_path, "losses.csv", text))
    assert run.batches.step.tolist() == [float(i) for i in range(1, 31)] and run.batches.loss.tolist() == TRAIN


def test_three_bare_columns_without_a_counter_are_refused(tmp_path):
    text = "\n".join(f"{t} {v} {t + v}" for t, v in zip(TRAIN[:10], VAL)) + "\n"
    with pytest.raises(LossdocError) as ei:
        read_run(_write(tmp_path, "losses.csv", text))
    assert ei.value.key == "error.unknown_format"


# ------------------------------------------------------------------ JSON: every loss null


def test_a_history_whose_every_loss_is_null_is_read_as_nan(tmp_path):
    # JavaScript's JSON.stringify(NaN) is null: a NaN run saved from JS (or by a writer that maps NaN to null)
    p = _write(tmp_path, "loss_history.json", json.dumps([{"epoch": e, "loss": None} for e in range(1, 16)], indent=2))
    run = read_run(p)
    assert len(run.batches) == 15 and all(math.isnan(x) for x in run.batches.loss)
    assert "warn.null_losses" in [w.key for w in run.warnings]


def test_a_null_among_numbers_is_a_missing_value_not_a_nan(tmp_path):
    rows = [{"step": 10 * i, "loss": x} for i, x in enumerate(TRAIN[:10], start=1)] + [{"step": 100, "loss": None}]
    run = read_run(_write(tmp_path, "metrics.json", json.dumps(rows)))
    assert run.batches.loss.tolist() == TRAIN[:10]
    assert "warn.null_losses" not in [w.key for w in run.warnings]


# ------------------------------------------------------------------ loss columns by their words


@pytest.mark.parametrize(
    ("name", "kind"),
    [("avg_loss", "train"), ("running loss", "train"), ("mean_val_loss", "val"), ("loss_scale", None), ("accuracy", None), ("Pérdida", "train")],
)
def test_loss_kind(name, kind):
    assert loss_kind(name) == kind


def test_a_json_history_with_an_avg_loss_column(tmp_path):
    rows = [{"round": r, "timestamp": "2025-11-27T10:32:13", "avg_loss": x, "epochs": 10} for r, x in enumerate(TRAIN[:3], start=1)]
    run = read_run(_write(tmp_path, "training_log.json", json.dumps({"total_epochs": 30, "history": rows}, indent=2)))
    assert run.batches.loss.tolist() == TRAIN[:3]


# ------------------------------------------------------------------ console: a NaN printed as Python prints it


@pytest.mark.parametrize("word", ["nan", "NaN", "inf"])
def test_a_non_finite_loss_printed_bare_is_read_not_skipped(tmp_path, word):
    # f"{loss:.4f}" prints "nan": "loss nan | lr ..." is a NaN loss, not a name "loss nan" with a value "|"
    lines = [f"step {i} | loss {x:.4f} | lr 6.23e-04" for i, x in enumerate(TRAIN[:8], start=1)]
    lines += [f"step {i} | loss {word} | lr 6.23e-04" for i in (9, 10)]
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert len(run.batches) == 10 and not np.isfinite(run.batches.loss[-2:]).any()
    assert "warn.not_numbers" not in [w.key for w in run.warnings]
