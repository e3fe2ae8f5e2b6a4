"""lossdoc/runlog/readers/values.py: a page of loss values with no curve (a results page, notes, a summary) is read as
such, so that explain says inconclusive for want of a curve and shows the values, where it used to refuse the file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lossdoc.analysis import diagnose
from lossdoc.cli import app, run
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.values import values_in

README = """
# Vanilla Transformers for Machine Translation

Vanilla Transformers using Pytorch on the German-English dataset.

### Results (on T4 GPU Single)

**Training epochs:** 3

**Train loss:** 0.02  (mean)
**Val loss:** 0.03 (mean)

[NOTE]: The train and val loss seems to be off.
"""


def _values(run):
    return [(v["name"], v["value"], v["line"]) for v in run.config["values"]]


def test_a_readme_of_final_figures_is_read_as_its_values_with_the_files_own_line_numbers(tmp_path):
    f = tmp_path / "readme.md"
    f.write_text(README)
    run = read_run(f)
    assert run.format == "values" and not len(run.batches) and not len(run.epochs)
    # lines of the file itself (not of a block the Markdown reader cut out of it)
    assert _values(run) == [("Train loss", 0.02, 10), ("Val loss", 0.03, 11)]
    (w,) = [w for w in run.warnings if w.key == "warn.values_only"]
    assert w.args["file"] == "readme.md" and w.args["n"] == 2 and w.args["shown"] == "Train loss 0.02 (10); Val loss 0.03 (11)"


def test_key_value_tables_sentences_and_chinese_keys_name_their_values():
    lines = [
        "| Field | Value |",
        "|---|---|",
        "| **Steps** | 19,645 |",
        "| **Final val loss** | 3.2703 |",
        "We trained it for a day. The final train loss was 2.453.",
        "- **Final Training Loss**: 0.4936 (down from 2.96)",
        "best_val_loss = 1.7231",
        "最终验证损失：1.93",
        "test perplexity: 24.95",
    ]
    got = [(v["name"], v["value"], v["line"]) for v in values_in(lines)]
    assert got == [
        ("Final val loss", 3.2703, 4),
        ("final train loss", 2.453, 5),
        ("Final Training Loss", 0.4936, 6),
        ("best val loss", 1.7231, 7),
        ("val loss", 1.93, 8),  # 最终 is not a key lossdoc translates; 验证损失 is "val loss"
        ("test perplexity", 24.95, 9),
    ]


def test_a_results_table_of_several_models_gives_each_rows_value_under_its_loss_column():
    lines = [
        "| model | params | train loss | val loss |",
        "|:------|-------:|-----------:|---------:|",
        "| gpt2 | 124M | 3.11 | 3.12 |",
        "| gpt2-medium | 350M | 2.85 | 2.84 |",
        "",
        "| other | note |",  # a table below it with no loss column: nothing from it
        "|---|---|",
        "| a | 1.0 |",
    ]
    got = [(v["name"], v["value"], v["line"]) for v in values_in(lines)]
    assert got == [
        ("gpt2 train loss", 3.11, 3),
        ("gpt2 val loss", 3.12, 3),
        ("gpt2-medium train loss", 2.85, 4),
        ("gpt2-medium val loss", 2.84, 4),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "[2026-01-01] loss scale: 65536",  # about a loss, not one
        "loss_weight: 0.5",
        "val_loss_every: 250",  # a setting whose name starts with loss words
        "num loss tokens: 5120",
        "the loss fell by 4.45% over the epoch",  # a share
        "loss 3.2.1 of the package",  # a version
        "    running_loss += 0.0",  # code
        "        loss = criterion(out, y) * 0.5",
        "import loss_utils as lu; lu.loss = 2",
        "Loss Reduction: 2.96 -> 0.49",  # a name that does not end in a loss word
    ],
)
def test_names_about_a_loss_shares_versions_and_code_hold_no_value(line):
    assert values_in([line]) == []


def test_a_page_of_zeros_placeholders_source_files_and_prose_without_values_are_still_refused(tmp_path):
    zeros = tmp_path / "results.txt"
    zeros.write_text("train loss: 0\nval loss: 0.0\n")
    code = tmp_path / "train.py"
    code.write_text("# final train loss: 2.31\n# val loss: 2.40\nprint('hello')\n")
    prose = tmp_path / "notes.txt"
    prose.write_text("We trained a model. It went well. The loss fell a lot.\n" * 20)
    for f in (zeros, code):
        with pytest.raises(LossdocError) as exc:
            read_run(f)
        assert exc.value.key == "error.unknown_format"
    with pytest.raises(LossdocError) as exc:  # the console reader's refusal: a loss named, no number
        read_run(prose)
    assert exc.value.key == "error.no_loss_values"


def test_a_curve_is_never_a_page_of_values(tmp_path):
    # values is the last try: a console log of loss lines is read as the curve it is
    f = tmp_path / "train.log"
    f.write_text("".join(f"step {i * 10} | loss {3.0 - 0.01 * i:.3f}\n" for i in range(60)))
    run = read_run(f)
    assert run.format == "console" and len(run.batches) == 60


def test_explain_says_inconclusive_for_want_of_a_curve_shows_the_values_and_suggests_only_the_log(tmp_path):
    f = tmp_path / "readme.md"
    f.write_text(README)
    r = CliRunner().invoke(app, ["explain", str(f)])
    assert r.exit_code == 0, r.output
    assert "Verdict: inconclusive" in r.output
    assert "final or summary figures, not its curve" in r.output
    assert "Train loss 0.02 (10); Val loss 0.03 (11)" in r.output
    assert "Give explain the training log itself" in r.output
    assert "--vocab-size" not in r.output.split("Next steps")[1]  # no flag makes final figures a curve
    zh = CliRunner().invoke(app, ["explain", str(f), "--lang", "zh"])
    assert zh.exit_code == 0 and "没有损失曲线" in zh.output and "请把训练日志本身交给 explain" in zh.output
    doc = json.loads(CliRunner().invoke(app, ["explain", str(f), "--json"]).output)
    assert (doc["verdict"], doc["rule"]) == ("inconclusive", "no-curve")


def test_format_values_reads_a_page_and_refuses_a_file_without_values_in_one_line(tmp_path, capsys):
    f = tmp_path / "readme.md"
    f.write_text(README)
    assert diagnose(read_run(f, "values")).rule == "no-curve"
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing to see\n")
    assert run(["explain", str(empty), "--format", "values"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "holds no loss values named as such" in err
