"""Tables drawn with bars in text logs (readers/generic.py): an f-string table a training script prints, tabulate's
presto, psql and github formats. Class of the twenty-eighth held-out set (docs/accuracy.md): a CIFAR CNN's console,
``Epoch | Train Loss | Train Acc | Val Loss | Val Acc`` under a rule of dashes, was refused as no log."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.generic import is_rule

TRAIN = [1.8156, 1.3855, 1.2086, 1.1115, 1.0445, 0.9845, 0.9444, 0.9056, 0.8668, 0.8350, 0.8062, 0.7770]
VAL = [1.3808, 1.2382, 0.8860, 0.9961, 0.8824, 0.7771, 0.7786, 0.8861, 0.8269, 0.7250, 0.6401, 0.6432]


def _fstring_table() -> str:
    rows = ["Files already downloaded and verified", "Model FLOPs: 0.1612 GFLOPs"]
    rows.append("Epoch  |  Train Loss  | Train Acc  |  Val Loss  |  Val Acc  ")
    rows.append("-" * 65)
    for e, (t, v) in enumerate(zip(TRAIN, VAL, strict=True), 1):
        rows.append(f"  {e:<4} |    {t:.4f}    |   {40 + e:.2f}    |   {v:.4f}   |   {50 + e:.2f}   ")
    rows += ["-" * 65, "Training Complete. Calculating Final Test Accuracy...", "Final Test Accuracy: 85.90%"]
    return "\n".join(rows) + "\n"


def test_a_printed_table_of_epochs_under_set_up_lines_is_read(tmp_path):
    path = tmp_path / "logs.txt"
    path.write_text(_fstring_table(), encoding="utf-8")
    run = read_run(path)
    assert run.format == "csv"
    np.testing.assert_allclose(run.epochs.train_loss, TRAIN)
    np.testing.assert_allclose(run.epochs.val_loss, VAL)
    assert list(run.epochs.epoch) == list(range(1, 13))
    keys = {w.key for w in run.warnings}
    assert "warn.table_preamble" in keys
    preamble = next(w for w in run.warnings if w.key == "warn.table_preamble")
    assert preamble.args["count"] == 2  # the two set-up lines; the rule under the header is drawn, not text
    assert diagnose(run).verdict in ("still-learning", "converged")


@pytest.mark.parametrize(
    "table",
    [
        # tabulate's presto
        " epoch |   loss |   val_loss\n-------+--------+------------\n     1 | 2.5    | 2.6\n     2 | 2.1    | 2.3\n     3 | 1.9    | 2.2\n",
        # tabulate's psql (and grid's borders)
        "+---------+--------+------------+\n|   epoch |   loss |   val_loss |\n|---------+--------+------------|\n"
        "|       1 | 2.5    | 2.6        |\n|       2 | 2.1    | 2.3        |\n|       3 | 1.9    | 2.2        |\n"
        "+---------+--------+------------+\n",
        # tabulate's github, in a text file (a .md file is the Markdown reader's)
        "| epoch | loss | val_loss |\n|------:|-----:|---------:|\n| 1 | 2.5 | 2.6 |\n| 2 | 2.1 | 2.3 |\n| 3 | 1.9 | 2.2 |\n",
    ],
    ids=["presto", "psql", "github"],
)
def test_tabulate_formats_are_read(tmp_path, table):
    path = tmp_path / "history.txt"
    path.write_text(table, encoding="utf-8")
    run = read_run(path)
    np.testing.assert_allclose(run.epochs.train_loss, [2.5, 2.1, 1.9])
    np.testing.assert_allclose(run.epochs.val_loss, [2.6, 2.3, 2.2])
    assert not any(w.key == "warn.table_preamble" for w in run.warnings)  # a border is no preamble


def test_a_table_of_final_figures_per_model_is_not_read_as_a_curve(tmp_path):
    # no step, iteration or epoch column: one row per model, as readers/markdown.py refuses to read as a curve
    path = tmp_path / "results.txt"
    path.write_text("model | train loss | val loss\n------+------------+---------\ngpt-s | 3.1 | 3.3\ngpt-m | 2.8 | 3.0\ngpt-l | 2.6 | 2.9\n")
    try:
        run = read_run(path)
    except LossdocError:
        return
    assert run.format != "csv"


def test_console_lines_with_bars_stay_the_console_readers(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("".join(f"step {s} | loss {4.0 - s / 100:.3f} | lr 3.0e-04\n" for s in range(0, 200, 10)))
    run = read_run(path)
    assert run.format == "console"
    assert len(run.batches) == 20


def test_rules():
    for line in ["-----", "|---|:--:|", "-------+------", "+=====+=====+", "  ---  "]:
        assert is_rule(line), line
    for line in ["--", "| 1 | 2.3 |", "---a---", "", "1 - 2 - 3 - 4"]:
        assert not is_rule(line), line


def test_empty_cells_where_no_evaluation_ran_and_a_border_first(tmp_path):
    # tabulate's psql output of a log evaluated every other step: its first row's validation cell is empty
    table = (
        "+--------+--------+------------+\n|   step |   loss |   val_loss |\n|--------+--------+------------|\n"
        "|     10 |   2.5  |            |\n|     20 |   2.3  |        2.4 |\n|     30 |   2.1  |            |\n"
        "|     40 |   2.0  |        2.2 |\n+--------+--------+------------+\n"
    )
    path = tmp_path / "log.txt"
    path.write_text(table, encoding="utf-8")
    run = read_run(path)
    np.testing.assert_allclose(run.batches.loss, [2.5, 2.1])  # the rows without an evaluation
    np.testing.assert_allclose(run.epochs.val_loss, [2.4, 2.2])


def test_a_presto_row_keeps_its_empty_first_cell(tmp_path):
    # no outer bars: an empty first cell is a cell (a missing evaluation), the columns do not shift
    table = "   step |   val_loss |   loss\n--------+------------+--------\n     10 |            |   2.5\n     20 |        2.4 |   2.3\n     30 |            |   2.1\n"
    path = tmp_path / "log.txt"
    path.write_text(table, encoding="utf-8")
    run = read_run(path)
    assert list(run.epochs.step) == [20.0]
    np.testing.assert_allclose(run.epochs.val_loss, [2.4])


def test_a_position_column_that_is_not_first_is_a_table_of_figures(tmp_path):
    # one row per model, its steps a setting (5000 in each): not a curve, whatever a cell says
    path = tmp_path / "results.txt"
    path.write_text(
        "| model | steps | loss | val_loss |\n|---|---|---|---|\n| a | 5000 | 2.1 | 2.3 |\n| b | 5000 | 2.0 | 2.2 |\n| c | 5000 | 1.9 | 2.4 |\n"
    )
    try:
        run = read_run(path)
    except LossdocError:
        return
    assert run.format != "csv"


def test_a_console_of_named_cells_under_a_header_of_the_same_names_is_the_consoles(tmp_path):
    lines = ["Epoch | Step | Loss | LR"] + [f"Epoch 0 | Step {s} | Loss {3.0 - s / 1000:.3f} | LR 3e-4" for s in range(10, 300, 10)]
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(path)
    assert run.format == "console" and len(run.batches) == 29


def test_a_quote_in_a_line_after_the_table_is_no_quoting(tmp_path):
    path = tmp_path / "logs.txt"
    path.write_text(_fstring_table() + '"done" said the script\n', encoding="utf-8")
    np.testing.assert_allclose(read_run(path).epochs.train_loss, TRAIN)
