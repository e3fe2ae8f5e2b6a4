"""Reading classes of the twenty-second held-out set (docs/accuracy.md), each a test that fails before its change:
a bare list of losses written as one row (after a lone integer a C++ program printed first), and an evaluation
printed before any training line with no step, which is the model before its first update."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
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


# -------------------------------------------------- what a row of numbers must not take over (the review of the class)


def test_a_matrix_of_rows_longer_than_the_first_look_is_several_runs(tmp_path):
    # three runs of 1,500 losses, a row each (12 KB a row): detection sees one row; the reader finds the second and gives
    # way to the reader of several runs' series
    rows = "\n".join(",".join(f"{2.0 + k * 0.1 - i / 1000:.6f}" for i in range(1500)) for k in range(3))
    (tmp_path / "losses.csv").write_text(rows + "\n")
    run = read_run(tmp_path / "losses.csv")
    assert run.format == "values" and diagnose(run).verdict == "inconclusive"


def test_a_fenced_row_of_settings_in_a_log_or_a_page_is_not_the_curve(tmp_path):
    steps = [f"step {s} loss {2.0 - s / 10000:.4f}" for s in range(100, 5100, 100)]
    (tmp_path / "fenced.log").write_text("Config:\n```\n0.9 0.999 1e-8\n```\n" + "\n".join(steps) + "\n")
    run = read_run(tmp_path / "fenced.log")
    assert run.format != "numbers" and len(run.batches) == 50
    # a page whose only fence holds a row of final losses of several seeds: figures, not a curve
    seeds = " ".join(f"{2.1 + 0.01 * (i % 5):.3f}" for i in range(16))
    (tmp_path / "results.md").write_text(f"# Results\n\nFinal loss of 16 seeds:\n\n```\n{seeds}\n```\n")
    try:
        run = read_run(tmp_path / "results.md")
    except LossdocError:
        return  # refused, as landed main does
    assert diagnose(run).verdict == "inconclusive"


def test_step_and_loss_pairs_on_one_line_are_not_a_list_of_losses(tmp_path):
    pairs = " ".join(f"{10 * i} {2.0 - i / 300:.4f}" for i in range(1, 201))
    (tmp_path / "pairs.txt").write_text(pairs + "\n")
    assert not numbers.detect(tmp_path / "pairs.txt", pairs[:8192])


def test_a_row_longer_than_a_console_line_is_read_whole(tmp_path):
    # 10,000 losses on one line (89 KB), after a count: longer than the 64 KB a console line may be
    values = [round(0.4 + 2.0 * float(np.exp(-i / 3000)), 6) for i in range(10000)]
    (tmp_path / "losses.txt").write_text("10000\n" + ", ".join(f"{v:g}" for v in values))
    run = read_run(tmp_path / "losses.txt")
    assert len(run.batches) == 10000 and run.batches.loss[0] == pytest.approx(2.4)


def test_a_short_row_of_settings_beside_a_log_does_not_take_the_folder(tmp_path):
    steps = [f"step {s} loss {2.0 - s / 10000:.4f}" for s in range(100, 3100, 100)]
    (tmp_path / "train.log").write_text("\n".join(steps) + "\n")
    (tmp_path / "loss_weights.txt").write_text("1.0 0.5 0.25\n")
    assert len(read_run(tmp_path).batches) == 30


def test_a_console_header_naming_vocab_n_gives_v(tmp_path):
    # class: "== midtrain on mps | base model_full.pt | vocab 71260 (native, no resize) ==" before the first loss
    steps = [f"step {s} loss {3.0 - s / 10000:.4f}" for s in range(100, 2100, 100)]
    for header, v in (
        ("== midtrain | vocab 71260 (native, no resize) ==", 71260),
        ("vocab 50304, n_layer 12", 50304),
        ("Loaded vocab 3 files", None),
    ):
        (tmp_path / "train.log").write_text(header + "\n" + "\n".join(steps) + "\n")
        assert read_run(tmp_path / "train.log").vocab_size == v, header
