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

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import console, read_run
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


def test_loss_lines_far_below_an_epoch_line_are_read_only_by_the_last_try(tmp_path):
    # "epoch" in a banner, and loss lines many lines further down with nothing placing them: the console detector does
    # not claim the text; the last try (console.detect_sparse, when no format answered) reads the losses in order,
    # and says so
    text = "run 3, epoch 7 checkpoint\n" + "\n".join(f"note {i}" for i in range(6)) + "\n" + "\n".join(f"loss: {x}" for x in TRAIN[:5]) + "\n"
    path = _write(tmp_path, "notes.txt", text)
    assert not console.detect(path, text)
    run = read_run(path)
    assert run.batches.loss.tolist() == TRAIN[:5]
    assert "warn.steps_counted" in {w.key for w in run.warnings}


# ------------------------------------------------------------------ console: a run stopped after one or two lines


@pytest.mark.parametrize("text", ["1 train 10.914025\n", "step 10 | loss 3.2100\nstep 20 | loss 3.0100\n"])
def test_a_log_of_one_or_two_lines_is_read(tmp_path, text):
    run = read_run(_write(tmp_path, "log.txt", text))
    assert run.format == "console"
    assert len(run.batches) == text.count("\n")


def test_a_short_log_with_a_line_that_is_not_a_loss_is_read_by_the_last_try(tmp_path):
    # fewer than three loss lines is a log for the console detector only when they are the whole text; the last try
    # (no format answered) reads a loss line among others as a run of one point, too little to judge
    path = _write(tmp_path, "log.txt", "step 10 | loss 3.2100\nsomething else entirely\n")
    assert not console.detect(path, path.read_text())
    run = read_run(path)
    assert run.batches.loss.tolist() == [3.21] and run.batches.step.tolist() == [10]
    assert diagnose(run).verdict == "inconclusive"


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


# ------------------------------------------------------------------ the eighth held-out set's reading classes


def test_a_progress_bars_bare_counter_is_the_step_and_a_loss_scale_is_not_a_loss(tmp_path):
    lines = ["./build/train \\", "  --vocab-size 32000 \\", "  --loss-scale 1024 \\", "Vocabulary: 32000, tokens: 2143562534"]
    for i, (t, v) in enumerate(zip(TRAIN[:10], VAL), start=1):
        lines.append(f"Training [===     ] {i * 8.5:.1f}% {5000 * i}/58874 | 4.62 it/s | ETA: 11664.8 s | loss={t} | validation_loss={v}")
        lines.append(f'Saved validation checkpoint at step {5000 * i} to "output/checkpoints/step-{5000 * i}"')
    run = read_run(_write(tmp_path, "training_output.txt", "\n".join(lines) + "\n"))
    assert run.epochs.step.tolist() == [5000.0 * i for i in range(1, 11)]
    assert run.epochs.val_loss.tolist() == VAL
    assert run.vocab_size == 32000
    assert "warn.steps_counted" not in [w.key for w in run.warnings]  # the counter placed them


def test_a_tqdm_bar_under_an_epoch_gives_the_batch_and_a_named_count_is_not_a_counter(tmp_path):
    lines = [
        f"Epoch {e}: 100%|██████████| {b}/50 [00:10<00:00, 90.1it/s, loss={x}]"
        for e in (1, 2)
        for b, x in ((25, TRAIN[2 * e]), (50, TRAIN[2 * e + 1]))
    ]
    lines.append("step 7 | loss 2.5 | acc 45/100")
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert sorted(run.batches.step.tolist()) == [7.0, 25.0, 50.0, 75.0, 100.0]  # 45 of "acc 45/100" is no step


def test_a_trainer_table_after_a_notebook_banner_is_read(tmp_path):
    banner = ["Qwen 14B", "Unsloth - 2x faster free finetuning | Num GPUs used = 1", " [466/500 1:31:55 < 06:44, 0.08 it/s, Epoch 4.12/5]"]
    table = ["Step\tTraining Loss"] + [f"{10 * i}\t{x:.6f}" for i, x in enumerate(TRAIN, start=1)]
    run = read_run(_write(tmp_path, "train_loss.txt", "\n".join(banner + table) + "\n"))
    assert run.batches.step.tolist() == [10.0 * i for i in range(1, 31)]
    assert run.batches.loss.tolist() == pytest.approx(TRAIN)
    w = next(w for w in run.warnings if w.key == "warn.table_preamble")
    assert w.args["count"] == 3


def test_a_best_value_summary_line_is_not_one_more_evaluation(tmp_path):
    lines = [f"10:0{i % 10} | Epoch {i:02d} | train {t} | val {v}" for i, (t, v) in enumerate(zip(TRAIN[:10], VAL), start=1)]
    lines.append(f"10:46 | Best val loss: {min(VAL)} | Best BLEU: 41.07")
    run = read_run(_write(tmp_path, "train.txt", "\n".join(lines) + "\n"))
    assert run.epochs.val_loss.tolist() == VAL


def test_runs_appended_to_one_file_are_read_as_the_last_run(tmp_path):
    first = [f"Epoch {e}: Train Loss: {t}, Val Loss: {v}" for e, (t, v) in enumerate(zip(TRAIN[:8], VAL[:8]))]
    last = [f"Epoch {e}: Train Loss: {t - 0.5}, Val Loss: {v - 0.3}" for e, (t, v) in enumerate(zip(TRAIN[:6], VAL[:6]))]
    run = read_run(_write(tmp_path, "loss_log.txt", "\n".join(first + first[:3] + last) + "\n"))
    assert run.epochs.val_loss.tolist() == pytest.approx([v - 0.3 for v in VAL[:6]])
    w = next(w for w in run.warnings if w.key == "warn.appended_runs")
    assert w.args == {"count": 3, "line": 12}


def test_a_resumed_run_whose_epochs_go_on_is_one_run(tmp_path):
    # a counter that starts again above its first value is a resumed run, not a new one
    text = "\n".join(f"epoch {e}\nloss: {x}" for e, x in [*zip(range(1, 11), TRAIN[:10]), *zip(range(8, 18), TRAIN[10:20])]) + "\n"
    run = read_run(_write(tmp_path, "train_log.txt", text))
    assert len(run.batches) == 20 and "warn.appended_runs" not in [w.key for w in run.warnings]


def test_a_bare_first_column_of_integers_is_the_counter_even_when_it_starts_again(tmp_path):
    rows = [*enumerate(TRAIN[:12], start=1), *enumerate(TRAIN[12:], start=1)]
    run = read_run(_write(tmp_path, "loss_log.txt", "\n".join(f"{i},{x}" for i, x in rows) + "\n"))
    assert run.batches.loss.size > 0 and not len(run.epochs)  # step and loss, not a training and a validation column


# ------------------------------------------------------------------ the ninth held-out set's reading classes


def test_loss_named_columns_in_lightning_and_jsonl(tmp_path):
    # Lightning's CSVLogger with a self.log("train_loss_batch", ...) name; a JSONL whose losses carry their unit
    csv_text = "train_loss_batch,epoch,step\n" + "\n".join(f"{x},0,{50 * i + 49}" for i, x in enumerate(TRAIN)) + "\n"
    (tmp_path / "lightning_logs" / "version_0").mkdir(parents=True)
    run = read_run(_write(tmp_path / "lightning_logs" / "version_0", "metrics.csv", csv_text))
    assert run.format == "lightning-csv" and run.batches.loss.tolist() == TRAIN
    rows = [{"step": 250 * i, "train_loss_nats_per_byte": t, "validation_loss_nats_per_byte": v} for i, (t, v) in enumerate(zip(TRAIN, VAL), start=1)]
    run = read_run(_write(tmp_path, "metrics.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n"))
    assert run.epochs.val_loss.tolist() == VAL


def test_a_file_named_for_its_losses_reads_each_column_as_a_curve(tmp_path):
    text = "Epoch,Independent,Position\n" + "\n".join(f"{e},{t},{v}" for e, (t, v) in enumerate(zip(TRAIN[:10], VAL))) + "\n"
    run = read_run(_write(tmp_path, "losses.csv", text))
    assert run.batches.loss.tolist() == TRAIN[:10]
    w = next(w for w in run.warnings if w.key == "warn.curve_columns")
    assert w.args == {"first": "Independent", "others": "Position"}
    # the same columns in a file not named for losses are not guessed at
    with pytest.raises(LossdocError) as ei:
        read_run(_write(tmp_path, "results.csv", text))
    assert ei.value.key == "error.no_loss_columns"


# ------------------------------------------------------------------ the review's cases (each misread before its fix)


def test_keras_progress_bars_under_epoch_headings_are_the_batches_of_those_epochs(tmp_path):
    lines = []
    for e, x in enumerate(TRAIN[:12], start=1):
        lines += [f"Epoch {e}/12", f"938/938 [==============================] - 5s 5ms/step - loss: {x:.4f} - accuracy: 0.91"]
    run = read_run(_write(tmp_path, "keras.log", "\n".join(lines) + "\n"))
    assert run.batches.step.tolist() == [938.0 * e for e in range(1, 13)]
    assert run.batches.loss.tolist() == pytest.approx([round(x, 4) for x in TRAIN[:12]])


def test_a_date_before_the_loss_is_not_a_counter(tmp_path):
    lines = [f"[01/{d:02d} 12:00:01] | epoch {1 + (d - 1) // 10} | loss {x}" for d, x in enumerate(TRAIN, start=1)]
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines) + "\n"))
    assert len(run.batches) == 30 and run.batches.loss.tolist() == TRAIN  # 30 lines, not one "step 1" overwritten 30 times


@pytest.mark.parametrize(
    "tail",
    [
        ["Epoch 1 | test loss 4.2000"],  # a report line at the end
        [f"Epoch 1 | step {500 + s} | loss 2.0000" for s in range(1, 6)],  # a second stage whose global steps go on
    ],
)
def test_an_epoch_count_starting_again_on_a_different_line_or_with_steps_going_on_is_no_new_run(tmp_path, tail):
    lines = [f"Epoch {e} | step {100 * (e - 1) + s} | loss {TRAIN[(e - 1) * 5 + s - 1]:.4f}" for e in range(1, 6) for s in range(1, 6)]
    run = read_run(_write(tmp_path, "train.log", "\n".join(lines + tail) + "\n"))
    assert "warn.appended_runs" not in [w.key for w in run.warnings]
    assert len(run.batches) >= 25


def test_a_console_that_ends_with_a_table_stays_a_console_log(tmp_path):
    lines = [f"step {i} | loss {x}" for i, x in enumerate(TRAIN[:19], start=1)]
    lines += ["Final metrics:", "epoch,train_loss,val_loss", "1,2.1,2.3", "2,1.9,2.2"]
    run = read_run(_write(tmp_path, "run.log", "\n".join(lines) + "\n"))
    assert run.format == "console" and len(run.batches) == 19


def test_a_test_loss_at_the_end_or_a_val_after_another_line_is_not_placed_at_the_last_batch(tmp_path):
    lines = [f"step {i} | loss {x}" for i, x in enumerate(TRAIN[:20], start=1)]
    run = read_run(_write(tmp_path, "a.log", "\n".join([*lines, "Test loss 9.9"]) + "\n"))
    assert 20.0 not in run.epochs.step.tolist()
    run = read_run(_write(tmp_path, "b.log", "\n".join([*lines, "Training done.", "  -> val 3.9"]) + "\n"))
    assert 20.0 not in run.epochs.step.tolist()


def test_headerless_counters_and_a_learning_rate_column(tmp_path):
    # step, loss, epoch: the counter with more distinct values is the step
    text = "\n".join(f"{10 * i} {x} {1 + i // 10}" for i, x in enumerate(TRAIN, start=1)) + "\n"
    run = read_run(_write(tmp_path, "sle.txt", text))
    assert run.batches.step.tolist() == [10.0 * i for i in range(1, 31)]
    # step, lr, loss: a column of tiny values is no loss to guess at
    with pytest.raises(LossdocError):
        read_run(_write(tmp_path, "slr.txt", "\n".join(f"{i} 0.0003 {x}" for i, x in enumerate(TRAIN, start=1)) + "\n"))


@pytest.mark.parametrize("name", ["num_loss_tokens", "best_loss", "loss_std", "min_val_loss"])
def test_counts_and_summaries_of_a_loss_are_not_losses(name):
    assert loss_kind(name) is None


# ------------------------------------------------------------------ the eleventh set's reading classes


def test_a_headerless_table_of_a_tiny_noisy_loss_is_read_and_a_tiny_schedule_is_not(tmp_path):
    # a mesh model's mean squared error of 0.003, "N, loss" per line, a second run appended (its counter from 1 again):
    # tiny values that turn up and down as noise does are a loss; a warm-up and decay of the same size is a schedule
    rng = np.random.default_rng(0)
    first = 0.0035 + 0.0002 * rng.standard_normal(19)
    second = 0.0024 + 0.0011 * np.exp(-np.arange(100) / 5) + 0.00003 * rng.standard_normal(100)
    lines = [f"{i}, {x!r}" for i, x in enumerate(map(float, first), 1)] + [f"{i}, {x!r}" for i, x in enumerate(map(float, second), 1)]
    run = read_run(_write(tmp_path, "loss_log.txt", "\n".join(lines) + "\n"))
    assert run.batches.loss.size == 100 and run.batches.loss[-1] == float(second[-1])  # the later value of each step: the last run
    lr = [3e-4 * min(1.0, i / 10) * (1 - i / 200) for i in range(1, 120)]
    with pytest.raises(LossdocError):
        read_run(_write(tmp_path, "lr_log.txt", "\n".join(f"{i}, {x!r}" for i, x in enumerate(lr, 1)) + "\n"))


def test_a_validation_column_named_by_its_measure_beside_a_training_loss(tmp_path):
    # a regression's CSV: train_loss, val_mse, val_rmse; the validation loss is val_mse (the root is another scale)
    rows = ["epoch,train_loss,val_mse,val_rmse"] + [f"{i},{t},{v},{math.sqrt(v)}" for i, (t, v) in enumerate(zip(TRAIN[:10], VAL), 0)]
    run = read_run(_write(tmp_path, "training_history.csv", "\n".join(rows) + "\n"))
    assert run.epochs.val_loss.tolist() == VAL
    assert any(w.key == "warn.val_by_measure" and w.args["column"] == "val_mse" for w in run.warnings)
    only_root = ["epoch,train_loss,val_rmse"] + [f"{i},{t},{math.sqrt(v)}" for i, (t, v) in enumerate(zip(TRAIN[:10], VAL), 0)]
    run = read_run(_write(tmp_path, "history2.csv", "\n".join(only_root) + "\n"))
    assert run.epochs.val_loss.size == 0 or not np.isfinite(run.epochs.val_loss).any()
    named = ["epoch,train_loss,val_loss,val_mse"] + [f"{i},{t},{v},{v + 1}" for i, (t, v) in enumerate(zip(TRAIN[:10], VAL), 0)]
    run = read_run(_write(tmp_path, "history3.csv", "\n".join(named) + "\n"))
    assert run.epochs.val_loss.tolist() == VAL and not any(w.key == "warn.val_by_measure" for w in run.warnings)


@pytest.mark.parametrize(
    "name,as_val",
    [("val_loss.txt", True), ("valid_losses.log", True), ("train_log.txt", False), ("log.txt", False), ("val.log", False), ("eval.txt", False)],
)
def test_a_file_named_for_validation_losses_holds_validation_losses(tmp_path, name, as_val):
    text = "".join(f"epoch: {i} iter: {750 * i} loss: {x} accuracy: 0.7{i % 10}\n" for i, x in enumerate(VAL, 1))
    run = read_run(_write(tmp_path, name, text))
    if as_val:
        assert run.epochs.val_loss.tolist() == VAL and run.batches.loss.size == 0
        assert any(w.key == "warn.val_file" for w in run.warnings)
    else:
        assert run.batches.loss.tolist() == VAL and not any(w.key == "warn.val_file" for w in run.warnings)


def test_a_table_in_long_form_is_read_as_one_column_per_metric(tmp_path):
    # MLflow's metric export (the tenth set's): one row per (metric, step, value), two runs, the first one read
    head = '"Run","Run ID","metric","step","timestamp","value"\n'
    rows = [f'"snake","aaa","loss","{10 * i}","17618841{i:05d}","{x}"' for i, x in enumerate(TRAIN[:12], 1)]
    rows += [f'"snake","aaa","eval_loss","{40 * i}","17618842{i:05d}","{v}"' for i, v in enumerate(VAL[:3], 1)]
    rows += [f'"other","bbb","loss","{10 * i}","17618843{i:05d}","9.9"' for i in range(1, 4)]
    run = read_run(_write(tmp_path, "loss.csv", head + "\n".join(rows) + "\n"))
    assert run.batches.loss.tolist() == TRAIN[:12] and run.batches.step.tolist() == [10.0 * i for i in range(1, 13)]
    assert run.epochs.val_loss.tolist() == VAL[:3]
    w = next(w for w in run.warnings if w.key == "warn.long_format")
    assert w.args == {"metrics": "loss, eval_loss", "runs": 2, "first": "aaa"}
    # a table with a value column but no metric-name column is an ordinary table
    run = read_run(_write(tmp_path, "plain.csv", "step,value,loss\n" + "".join(f"{i},1,{x}\n" for i, x in enumerate(TRAIN, 1))))
    assert run.batches.loss.tolist() == TRAIN and not any(w.key == "warn.long_format" for w in run.warnings)


# ------------------------------------------------------------------ the thirteenth set's reading classes


@pytest.mark.parametrize(
    "wrap",
    [
        "tensor({x}, grad_fn=<NllLossBackward0>)",
        "tensor({x}, device='cuda:0', grad_fn=<AddBackward0>)",
        "tf.Tensor({x}, shape=(), dtype=float32)",
        "array({x}, dtype=float32)",
    ],
)
def test_a_loss_printed_as_its_frameworks_tensor_is_its_value(tmp_path, wrap):
    text = "".join(f"epoch {e} loss: {wrap.format(x=x)}\n" for e, x in enumerate(TRAIN[:8], 1))
    run = read_run(_write(tmp_path, "out.txt", text))
    assert run.format == "console" and run.batches.loss.tolist() == TRAIN[:8]


def test_the_pytorch_tutorials_progress_line(tmp_path):
    # '%s (%d %d%%) %.4f' % (timeSince(start, iter / n_iters), iter, iter / n_iters * 100, print_loss_avg), behind a logging prefix
    text = "".join(
        f"INFO---->train--->2022-03-23 10:37:30,456--->{i // 2}m {i % 60}s ({5000 * i} {int(100 * i / 15)}%) {x:.4f}\n"
        for i, x in enumerate(TRAIN[:15], 1)
    )
    run = read_run(_write(tmp_path, "train_log.txt", text))
    assert run.batches.step.tolist() == [5000.0 * i for i in range(1, 16)]
    assert run.batches.loss.tolist() == [round(x, 4) for x in TRAIN[:15]]


def test_a_training_loss_named_by_its_measure_alone(tmp_path):
    # a distillation CSV: a weighted "total", the raw cross-entropy and KL terms; no column named as a loss
    rows = ["step,phase,total,ce_raw,kl_text_raw,lr"] + [f"{10 * i},P1,{x / 3},{x},{x / 2},1e-4" for i, x in enumerate(TRAIN, 1)]
    run = read_run(_write(tmp_path, "train_log.csv", "\n".join(rows) + "\n"))
    assert run.batches.loss.tolist() == TRAIN
    assert any(w.key == "warn.loss_by_measure" and w.args["column"] == "ce_raw" for w in run.warnings)


def test_names_that_are_not_losses_or_not_long_form_are_not_taken_for_them(tmp_path):
    # the review's cases: a wide table that has name and value columns beside its named loss; metrics whose name
    # holds a measure but is no loss (an accuracy, a norm, a regulariser); Keras' metric beside its validation value
    wide = ["step,loss,name,value"] + [f"{i},{x},loss,{0.1 * i}" for i, x in enumerate(TRAIN, 1)]
    run = read_run(_write(tmp_path, "metrics_named.csv", "\n".join(wide) + "\n"))
    assert run.batches.loss.tolist() == TRAIN and not any(w.key == "warn.long_format" for w in run.warnings)
    for cols in ("step,ce_acc,l2_reg", "step,lr,grad_l2_norm,l1_norm"):
        rows = [cols] + [",".join([f"{i}"] + [f"{x / (j + 1):.4f}" for j in range(cols.count(","))]) for i, x in enumerate(TRAIN, 1)]
        with pytest.raises(LossdocError):
            read_run(_write(tmp_path, "m.csv", "\n".join(rows) + "\n"))
    keras = ["epoch,loss,mae,val_mae"] + [f"{i},{x},{x / 2},{v / 2}" for i, (x, v) in enumerate(zip(TRAIN[:10], VAL), 0)]
    run = read_run(_write(tmp_path, "keras.csv", "\n".join(keras) + "\n"))
    assert not any(w.key == "warn.val_by_measure" for w in run.warnings) and not np.isfinite(run.epochs.val_loss).any()
