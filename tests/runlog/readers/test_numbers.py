"""Bare lists of numbers, one loss per line (issue 23): refused before as 'cannot tell which kind of log'."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.cli import run as lossdoc_cli
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run

TRAIN = [round(5.0 - 2.5 * (1 - np.exp(-i / 30)) + 0.02 * np.sin(i), 6) for i in range(120)]
VAL = [5.1, 4.4, 3.9, 3.6, 3.4, 3.3]


def _keys(run):
    return [w.key for w in run.warnings]


def test_savetxt_train_alone(tmp_path):
    """np.savetxt's default '%.18e' lines: steps are the line numbers, and a warning says so."""
    p = tmp_path / "train_losses.txt"
    np.savetxt(p, np.array(TRAIN))
    assert p.read_text().splitlines()[0] == "5.000000000000000000e+00"
    run = read_run(p)
    assert run.format == "numbers"
    assert run.batches.step.tolist() == list(range(1, 121))
    assert run.batches.loss.tolist() == pytest.approx(TRAIN)
    assert len(run.epochs) == 0
    assert _keys(run) == ["warn.numbers_steps"] and run.warnings[0].args == {"files": "train_losses.txt"}


def test_fwrite_with_blank_last_line_and_comment_header(tmp_path):
    """f.write(f"{loss}\\n") per loss, a blank line at the end; np.savetxt(header=...) writes a '# ' comment."""
    p = tmp_path / "losses.txt"
    with open(p, "w") as f:
        f.write("# loss\n")
        for loss in TRAIN[:10]:
            f.write(f"{loss}\n")
        f.write("\n")
    run = read_run(p)
    assert run.batches.loss.tolist() == TRAIN[:10] and run.batches.step.tolist() == list(range(1, 11))


def test_val_file_beside_is_spread_over_the_training_steps(tmp_path):
    (tmp_path / "train_losses.txt").write_text("".join(f"{x}\n" for x in TRAIN))
    (tmp_path / "val_losses.txt").write_text("".join(f"{x}\n" for x in VAL))
    run = read_run(tmp_path / "train_losses.txt")
    assert len(run.batches) == 120
    assert run.epochs.step.tolist() == [20, 40, 60, 80, 100, 120]  # round(k * 120 / 6)
    assert run.epochs.epoch.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.epochs.val_loss.tolist() == VAL
    assert _keys(run) == ["warn.numbers_steps", "warn.numbers_spread"]
    assert run.warnings[1].args == {"train_file": "train_losses.txt", "val_file": "val_losses.txt", "n_train": 120, "n_val": 6}
    # the evaluation file given: the same run (its training partner is read too)
    other = read_run(tmp_path / "val_losses.txt")
    assert other.epochs.step.tolist() == run.epochs.step.tolist() and len(other.batches) == 120
    # the folder holding both
    assert read_run(tmp_path).source == str(tmp_path / "train_losses.txt")


def test_uneven_spread_rounds_to_the_nearest_step(tmp_path):
    (tmp_path / "train_loss.txt").write_text("".join(f"{x}\n" for x in TRAIN[:10]))
    (tmp_path / "eval_loss.txt").write_text("2.0\n1.9\n1.8\n")
    run = read_run(tmp_path / "train_loss.txt")
    assert run.epochs.step.tolist() == [3, 7, 10]  # round(10/3) = 3, round(20/3) = 7, 10


@pytest.mark.parametrize("val_name", ["val_losses.txt", "valid_losses.txt", "validation_losses.txt", "test_losses.txt"])
def test_same_length_lists_are_a_per_epoch_history(tmp_path, val_name):
    """Equal lengths: one append per epoch to each list, so each line is an epoch with both losses (Keras' history)."""
    train = [4.0, 3.2, 2.9, 2.7, 2.6]
    val = [3.8, 3.3, 3.1, 3.05, 3.1]
    (tmp_path / "train_losses.txt").write_text("".join(f"{x}\n" for x in train))
    (tmp_path / val_name).write_text("".join(f"{x}\n" for x in val))
    run = read_run(tmp_path / "train_losses.txt")
    assert len(run.batches) == 0
    assert run.epochs.epoch.tolist() == [1, 2, 3, 4, 5] and run.epochs.step.tolist() == [1, 2, 3, 4, 5]
    assert run.epochs.train_loss.tolist() == train and run.epochs.val_loss.tolist() == val
    assert "warn.numbers_paired" in _keys(run)


def test_val_file_alone(tmp_path):
    p = tmp_path / "val_loss.txt"
    p.write_text("".join(f"{x}\n" for x in VAL))
    run = read_run(p)
    assert len(run.batches) == 0
    assert run.epochs.val_loss.tolist() == VAL and run.epochs.step.tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(run.epochs.train_loss).all()


@pytest.mark.parametrize("header,series", [("loss", "train"), ("train_loss", "train"), ("val_loss", "val")])
def test_one_column_with_a_header(tmp_path, header, series):
    """A one-column CSV with a header is not a table generic CSV reads (it wants two columns): read here."""
    p = tmp_path / "history.csv"
    p.write_text(header + "\n" + "".join(f"{x}\n" for x in VAL))
    run = read_run(p)
    assert run.format == "numbers"
    got = run.batches.loss.tolist() if series == "train" else run.epochs.val_loss.tolist()
    assert got == VAL


@pytest.mark.parametrize(
    "text,fmt",
    [
        ("step 1 | loss 3.2\nstep 2 | loss 3.1\nstep 3 | loss 3.0\n", "console"),
        ("1 3.2\n2 3.1\n3 3.0\n4 2.9\n", "csv"),
        ("step,loss\n1,3.2\n2,3.1\n", "csv"),
    ],
)
def test_other_formats_are_not_taken(tmp_path, text, fmt):
    p = tmp_path / "train_losses.txt"
    p.write_text(text)
    assert read_run(p).format == fmt


def test_integers_and_a_single_number_are_not_a_loss_list(tmp_path):
    p = tmp_path / "ids.txt"
    p.write_text("17\n4\n902\n33\n")  # token ids, not losses
    with pytest.raises(LossdocError) as e:
        read_run(p)
    assert e.value.key == "error.unknown_format"
    p.write_text("2.5\n")
    with pytest.raises(LossdocError):
        read_run(p)


def test_explain_json_on_a_loss_list(tmp_path, capsys):
    (tmp_path / "train_losses.txt").write_text("".join(f"{x}\n" for x in TRAIN))
    (tmp_path / "val_losses.txt").write_text("".join(f"{x}\n" for x in VAL))
    code = lossdoc_cli(["explain", str(tmp_path / "train_losses.txt"), "--json"])  # the CLI's own entry, in this process
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format"] == "numbers"
    assert [w["key"] for w in doc["reader_warnings"]] == ["warn.numbers_steps", "warn.numbers_spread"]
    assert "round(k × 120 / 6)" in doc["reader_warnings"][1]["message"]


def test_a_json_array_of_losses_is_a_list_of_numbers(tmp_path):
    # json.dump(losses, f) on one line, or pretty-printed; a val_ file beside it is its partner; JavaScript's
    # JSON.stringify and pandas' to_json write a NaN as null, which is read as NaN
    (tmp_path / "train_losses.json").write_text(json.dumps([3.72, 3.59, 3.43, 3.28, 3.18, 3.09]))
    (tmp_path / "val_losses.json").write_text(json.dumps([3.6, 3.3, 3.2], indent=2))
    run = read_run(tmp_path / "train_losses.json")
    assert run.format == "numbers"
    assert run.batches.loss.tolist() == [3.72, 3.59, 3.43, 3.28, 3.18, 3.09]
    assert run.epochs.val_loss.tolist() == [3.6, 3.3, 3.2]
    (tmp_path / "nan.json").write_text("[3.1, 2.9, null, 2.5]")
    nan = read_run(tmp_path / "nan.json")
    assert np.isnan(nan.batches.loss[2]) and nan.batches.loss.size == 4
    # a JSON array of token ids (integers only) is no loss list, and an array of records is the JSON reader's
    (tmp_path / "ids.json").write_text("[17, 4, 99, 3]")
    with pytest.raises(LossdocError):
        read_run(tmp_path / "ids.json")
    (tmp_path / "rec.json").write_text(json.dumps([{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5}]))
    assert read_run(tmp_path / "rec.json").format == "json"


# ---------------------------------------------------------------- each value after its counter
# Class of the twenty-ninth and thirty-first held-out sets (docs/accuracy.md): a word2vec run's loss_log.txt
# ("Epoch 1: 2.0572" a line) and a Chainer demo's train_loss.txt ("epoch1<TAB>0.2391") were refused as no log.


def test_values_after_their_epoch_numbers_are_a_list_whose_steps_are_the_counters(tmp_path):
    (tmp_path / "loss_log.txt").write_text("Epoch 1: 2.0572\nEpoch 2: 1.9251\nEpoch 3: 1.9113\nEpoch 4: 1.9000\nEpoch 5: 1.8912\n", encoding="utf-8")
    run = read_run(tmp_path / "loss_log.txt")
    assert run.format == "numbers"
    np.testing.assert_allclose(run.batches.loss, [2.0572, 1.9251, 1.9113, 1.9000, 1.8912])
    assert list(run.batches.step) == [1, 2, 3, 4, 5]
    assert [w.key for w in run.warnings] == ["warn.numbers_counter"]
    assert run.warnings[0].args == {"files": "loss_log.txt", "word": "epoch"}


def test_counters_that_skip_are_the_steps_and_a_tab_separated_counter_is_one(tmp_path):
    (tmp_path / "train_loss.txt").write_text("".join(f"step{100 * k}\t{3.0 - 0.1 * k:.4f}\n" for k in range(1, 8)), encoding="utf-8")
    run = read_run(tmp_path / "train_loss.txt")
    assert list(run.batches.step) == [100 * k for k in range(1, 8)]


def test_two_counted_files_pair_as_epochs(tmp_path):
    (tmp_path / "train_loss.txt").write_text("".join(f"epoch{e}\t{2.0 - 0.1 * e:.3f}\n" for e in range(1, 7)), encoding="utf-8")
    (tmp_path / "val_loss.txt").write_text("".join(f"epoch{e}\t{2.1 - 0.05 * e:.3f}\n" for e in range(1, 7)), encoding="utf-8")
    run = read_run(tmp_path / "train_loss.txt")
    assert list(run.epochs.epoch) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(run.epochs.val_loss, [2.1 - 0.05 * e for e in range(1, 7)], atol=1e-9)


def test_lines_with_different_counters_or_no_counter_are_no_list(tmp_path):
    (tmp_path / "a.txt").write_text("Epoch 1: 2.05\nStep 2: 1.92\nEpoch 3: 1.91\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Epoch 1: 2.05\n1.92\nEpoch 3: 1.91\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Epoch 1: loss 2.05\nEpoch 2: loss 1.92\n", encoding="utf-8")  # the console reader's
    for name in ("a.txt", "b.txt", "c.txt"):
        try:
            assert read_run(tmp_path / name).format != "numbers", name
        except LossdocError:
            pass


def test_a_nan_in_a_list_is_a_loss_gone_nan(tmp_path):
    # a bare list holds every value its loop computed: a NaN in it is no placeholder (two paired lists with NaN at
    # their ends were "converged", the NaN read as evaluations not run)
    (tmp_path / "train_losses.txt").write_text("8.1\n6.5\n5.6\n17.3\nnan\nnan\n", encoding="utf-8")
    (tmp_path / "val_losses.txt").write_text("8.0\n6.4\n5.5\n17.2\nnan\nnan\n", encoding="utf-8")
    run = read_run(tmp_path / "train_losses.txt")
    assert [(e.kind, e.step) for e in run.events] == [("nonfinite_loss", 5.0), ("nonfinite_val", 5.0)]
    d = diagnose(run)
    assert d.verdict == "broken" and d.finding("nonfinite-loss").status == "fail"


def test_epoch_counters_from_0_are_numbered_from_1(tmp_path):
    # ``for epoch in range(n)``: epoch 0's loss is after its training, not the model before any update
    (tmp_path / "train_loss.txt").write_text("".join(f"Epoch {e}: {3.0 - 0.1 * e:.3f}\n" for e in range(6)), encoding="utf-8")
    (tmp_path / "val_loss.txt").write_text("".join(f"Epoch {e}: {3.1 - 0.09 * e:.3f}\n" for e in range(6)), encoding="utf-8")
    run = read_run(tmp_path / "train_loss.txt")
    assert list(run.epochs.epoch) == [1, 2, 3, 4, 5, 6] and "warn.epochs_from_zero" in {w.key for w in run.warnings}


def test_a_validation_list_much_longer_than_training_starts_at_step_0(tmp_path):
    # 25 evaluations spread over 10 training values: the first falls before the first training value, at step 0 (not
    # at the last step, as an index of -1 placed it)
    (tmp_path / "t.txt").write_text("".join(f"{3 - 0.2 * i}\n" for i in range(10)), encoding="utf-8")
    (tmp_path / "val_t.txt").write_text("".join(f"{2.9 - 0.08 * i}\n" for i in range(25)), encoding="utf-8")
    run = read_run(tmp_path / "t.txt")
    assert run.epochs.step[0] == 0.0 and np.all(np.diff(run.epochs.step) >= 0)
