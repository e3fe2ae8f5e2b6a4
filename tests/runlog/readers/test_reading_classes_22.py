"""Reading classes of the twenty-second held-out set (docs/accuracy.md), each a test that fails before its change:
a bare list of losses written as one row (after a lone integer a C++ program printed first), and an evaluation
printed before any training line with no step, which is the model before its first update."""

from __future__ import annotations

import numpy as np

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import numbers, read_run

CURVE = [round(0.45 + 1.85 * float(np.exp(-i / 40)) + 0.01 * ((i * 7919) % 13 - 6) / 6, 5) for i in range(300)]


def test_one_row_of_comma_separated_losses_after_a_count_is_the_training_curve(tmp_path):
    # class: `out << n << "\n"; for (loss : losses) out << loss << ", ";` -- a count line, then one row ending in ", "
    # with no final newline, longer than the 8 KB a reader's detection looks at
    body = ", ".join(f"{v:g}" for v in CURVE * 4) + ", "
    assert len(body) > 8192
    (tmp_path / "losses.txt").write_text("3000\n" + body)
    run = read_run(tmp_path / "losses.txt")
    assert run.format == "numbers"
    assert run.batches.loss.tolist() == [float(f"{v:g}") for v in CURVE * 4]
    assert [w.key for w in run.warnings].count("warn.not_numbers") == 1  # the count, not read as a loss


def test_one_row_of_losses_separated_by_spaces_semicolons_or_tabs(tmp_path):
    for sep in (" ", ";", "\t", "; "):
        (tmp_path / "l.txt").write_text(sep.join(f"{v:g}" for v in CURVE[:60]) + "\n")
        run = read_run(tmp_path / "l.txt")
        assert run.batches.loss.tolist() == [float(f"{v:g}") for v in CURVE[:60]], sep
        assert diagnose(run).verdict == "still-learning"


def test_several_rows_are_not_one_list(tmp_path):
    # rows of numbers one under another are a matrix: several runs side by side (readers/values.py), never one curve
    rows = "\n".join(", ".join(f"{v + k:g}" for v in CURVE[:40]) for k in range(3))
    (tmp_path / "runs.txt").write_text(rows + "\n")
    assert not numbers.detect(tmp_path / "runs.txt", rows)
    (tmp_path / "losses.csv").write_text(rows.replace(", ", ",") + "\n")
    run = read_run(tmp_path / "losses.csv")  # the simulator's headerless matrix (benchmarks/simcurves.py)
    assert run.format == "values" and diagnose(run).verdict == "inconclusive"


def test_a_column_whose_first_value_is_an_integer_keeps_it(tmp_path):
    # a lone integer first is a count only before a row; before a column of losses it is the first loss
    (tmp_path / "loss.txt").write_text("3\n2.5\n2.1\n1.9\n1.8\n")
    assert read_run(tmp_path / "loss.txt").batches.loss.tolist() == [3.0, 2.5, 2.1, 1.9, 1.8]


def test_an_evaluation_before_any_training_line_is_at_step_0(tmp_path):
    # class: a fine-tune's console that prints the pretrained model's validation loss first, naming no step, then
    # steps and evaluations: the first evaluation is the model before any update, not an evaluation after the end
    lines = ["== midtrain ==", "  pre-midtrain val NLL: 1.6079"]
    for s in range(100, 4100, 100):
        lines.append(f"  step {s:6d}  loss {1.0 + 2.0 * np.exp(-s / 300):.4f}")
        if s % 2000 == 0:
            lines.append(f"  [check] step {s}: val NLL {1.6079 + 0.04 * s / 2000:.4f}")
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    e = read_run(tmp_path / "train.log").epochs
    assert e.step.tolist() == [0.0, 2000.0, 4000.0]
    assert e.val_loss.tolist() == [1.6079, 1.6479, 1.6879]


def test_a_stepless_evaluation_after_training_lines_is_not_moved_to_step_0(tmp_path):
    # a final report after the training lines stays where it is (never at step 0)
    lines = [f"step {s} loss {2.0 - s / 1000:.3f}" for s in range(100, 1100, 100)] + ["", "final val loss: 1.2"]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    e = read_run(tmp_path / "train.log").epochs
    assert 0.0 not in e.step.tolist()
