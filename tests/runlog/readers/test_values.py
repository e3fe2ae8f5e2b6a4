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
        "模型的训练损失为 0.87，效果不错。",
        "test perplexity: 24.95",
        "2025-10-02 14:29:20,335 - INFO - [__main__] - Final training loss: 1.1465217211914063",  # a float's full repr
    ]
    got = [(v["name"], v["value"], v["line"]) for v in values_in(lines)]
    assert got == [
        ("Final val loss", 3.2703, 4),
        ("final train loss", 2.453, 5),
        ("Final Training Loss", 0.4936, 6),
        ("best val loss", 1.7231, 7),
        ("最终验证损失", 1.93, 8),  # matched as "val loss" (验证损失), shown as the line writes it
        ("模型的训练损失", 0.87, 9),  # 为: "is"
        ("test perplexity", 24.95, 10),
        ("Final training loss", 1.1465217211914063, 11),
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


def test_rows_of_lists_in_a_file_named_for_losses_are_several_runs(tmp_path):
    f = tmp_path / "loss_log.txt"
    f.write_text("BRNN:[0.7127, 0.6917, 0.6857, 0.6888]\nBRNN:[0.7101, 0.69, 0.95, 1.2, 1.9542]\nLSTM = [0.69, 0.5, 0.41]\n")
    run = read_run(f)
    assert run.format == "values" and not len(run.batches) and not len(run.epochs)
    assert [(s["name"], s["n"], s["first"], s["min"], s["last"]) for s in run.config["series"]] == [
        ("BRNN", 4, 0.7127, 0.6857, 0.6888),
        ("BRNN", 5, 0.7101, 0.69, 1.9542),
        ("LSTM", 3, 0.69, 0.41, 0.41),
    ]
    (w,) = [w for w in run.warnings if w.key == "warn.several_series"]
    assert w.args["n"] == 3 and w.args["shown"].startswith("BRNN (4): 0.7127 → 0.6888; BRNN (5): 0.7101 → 1.9542")
    d = diagnose(run)
    assert (d.verdict, d.rule, d.headline, d.next_steps) == ("inconclusive", "several-runs", "headline.inconclusive.several_series", ["next.one_run"])


def test_a_sweep_table_one_run_a_column_under_a_header_that_names_the_measure(tmp_path):
    rows = [(629.54, 621.76, 604.67), (188.99, 188.92, 198.34), (115.61, 124.5, 136.44), (87.75, 96.57, 109.96)]
    text = "perplexity ;Dropout 0.0;Dropout 0.2;Dropout 0.4\n" + "".join(f"Epoch {i};" + ";".join(map(str, r)) + "\n" for i, r in enumerate(rows, 1))
    f = tmp_path / "results.csv"
    f.write_text(text)
    series = read_run(f).config["series"]
    assert [(s["name"], s["n"], s["first"], s["last"]) for s in series] == [
        ("Dropout 0.0", 4, 629.54, 87.75),
        ("Dropout 0.2", 4, 621.76, 96.57),
        ("Dropout 0.4", 4, 604.67, 109.96),
    ]
    # a header that names a known loss column ("loss") over labels: the CSV reader finds no value, the last try reads it
    g = tmp_path / "sweep.csv"
    g.write_text(text.replace("perplexity ", "loss"))
    assert [s["name"] for s in read_run(g).config["series"]] == ["Dropout 0.0", "Dropout 0.2", "Dropout 0.4"]


def test_a_tall_table_of_bare_numbers_is_not_runs_a_row(tmp_path):
    # ten rows of three numbers: one run's columns (which, the file does not say), not ten runs
    f = tmp_path / "losses.csv"
    f.write_text("".join(f"{2.3 - 0.1 * i:.3f} {2.4 - 0.1 * i:.3f} {0.5 + 0.01 * i:.3f}\n" for i in range(10)))
    with pytest.raises(LossdocError):
        read_run(f)


def test_a_headerless_matrix_named_for_losses_is_one_run_a_row(tmp_path):
    f = tmp_path / "loss.csv"
    f.write_text("0.4619,0.2933,0.2112,0.1326,0.1275\n0.6832,0.6255,0.5738,0.4166,0.3936\n1.3716,1.1457,0.6782,0.6720,0.4855\n")
    series = read_run(f).config["series"]
    assert [(s["name"], s["n"], s["first"], s["last"]) for s in series] == [
        ("#1", 5, 0.4619, 0.1275),
        ("#2", 5, 0.6832, 0.3936),
        ("#3", 5, 1.3716, 0.4855),
    ]


def test_tables_and_rows_not_named_as_losses_are_not_several_runs(tmp_path):
    timings = tmp_path / "training_log.csv"  # a sweep's settings and times: no loss named anywhere
    timings.write_text("hidden_size,n_layers,chunk_len,batch_size,learning_rate,total_time\n100,1,200,100,0.01,13.79\n100,2,200,100,0.01,19.58\n")
    rows = tmp_path / "results.txt"
    rows.write_text("0.4619,0.2933,0.2112,0.1326,0.1275\n0.6832,0.6255,0.5738,0.4166,0.3936\n")
    for f in (timings, rows):
        with pytest.raises(LossdocError):
            read_run(f)


# ---------------------------------------------------------------- what a page of values is not (review, 2026-12-07)


def test_a_readme_beside_a_runs_log_is_no_second_run_of_the_folder(tmp_path):
    (tmp_path / "train.log").write_text("".join(f"epoch {e} step {100 * e} loss {2.8 - 0.02 * e:.4f}\n" for e in range(1, 41)))
    (tmp_path / "README.md").write_text("# My run\n\nFinal loss: 0.61 after 40 epochs.\n")
    r = CliRunner().invoke(app, ["explain", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "runs, worst first" not in r.output and "Verdict: still learning" in r.output


def test_one_name_at_successive_lines_is_a_curve_no_reader_placed_not_final_figures(tmp_path):
    lines = "".join(f"2024-05-01 12:{i:02d}:00 INFO trainer: perplexity {30 * 0.9**i:.2f}\n" for i in range(15))
    table = "| # | Train Loss | Val Loss |\n|---|---|---|\n" + "".join(f"| {i} | {3 - 0.1 * i:.2f} | {3.1 - 0.1 * i:.2f} |\n" for i in range(1, 13))
    for name, text in (("e.log", lines), ("hash.md", table)):
        f = tmp_path / name
        f.write_text(text)
        with pytest.raises(LossdocError) as exc:
            read_run(f)
        assert exc.value.key == "error.unknown_format", name


def test_one_runs_training_and_validation_lists_are_read_as_its_curve(tmp_path):
    f = tmp_path / "history.txt"
    f.write_text("loss: [2.3, 1.9, 1.5, 1.2, 1.1, 1.0]\nval_loss: [2.4, 2.0, 1.7, 1.6, 1.55, 1.6]\n")
    run = read_run(f)
    assert run.epochs.train_loss.tolist() == [2.3, 1.9, 1.5, 1.2, 1.1, 1.0]
    assert run.epochs.val_loss.tolist() == [2.4, 2.0, 1.7, 1.6, 1.55, 1.6]
    assert "warn.values_train_val" in [w.key for w in run.warnings]
    assert diagnose(run).rule not in ("several-runs", "no-curve")


def test_rows_that_go_on_from_each_other_are_one_run_in_order(tmp_path):
    rows = [[2.5 - 0.01 * (50 * r + i) for i in range(50)] for r in range(4)]  # an epoch's batch losses a row
    f = tmp_path / "epoch_losses.txt"
    f.write_text("".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in rows))
    run = read_run(f)
    assert len(run.batches) == 200 and run.batches.loss[0] == 2.5 and run.batches.loss[-1] == pytest.approx(0.51)
    assert "warn.values_rows" in [w.key for w in run.warnings]


def test_a_table_one_model_a_row_is_not_runs_a_column(tmp_path):
    f = tmp_path / "sweep.tsv"
    f.write_text("model\ttrain_ppl\tval_ppl\nlstm\t80.1\t95.2\ngru\t78.0\t93.1\ntransformer\t40.2\t55.0\n")
    with pytest.raises(LossdocError):
        read_run(f)


@pytest.mark.parametrize(
    "text",
    [
        "Namespace(batch_size=32, lr=0.001, loss='ce', epochs=10, weight_decay=0.01, min_loss=0.5)\n",  # settings
        "model: gpt2\nlr: 3e-4\nloss: 1\n",  # an integer after a loss word: a setting
        '10.0.0.1 - - [01/Jan/2026] "GET /api/loss 404 0"\n',  # a path, a status code
        "eth0: packet loss: 3 of 100\n",
        "test perplexity: 1,024.31 on wiki\n",  # thousands: not "1"
        "loss 5/10 done\n",
    ],
)
def test_settings_paths_counts_and_parts_of_numbers_are_no_values(text):
    assert values_in(text.splitlines()) == []


def test_prose_with_words_that_start_like_code_keeps_its_value():
    got = values_in(["With the default config the final val loss: 3.27", "then loss nan at step 5"])
    assert [(v["name"], str(v["value"])) for v in got] == [("final val loss", "3.27"), ("loss", "nan")]


def test_line_numbers_are_the_files_own_past_a_skipped_long_line(tmp_path):
    from lossdoc.runlog.readers import values

    f = tmp_path / "notes.txt"
    f.write_text("x" * (values.LINE_SCAN + 10) + "\nfinal loss: 0.7\n")
    run = values.read(f)
    assert [(v["value"], v["line"]) for v in run.config["values"]] == [(0.7, 2)]


def test_a_page_that_reports_a_nan_loss_is_broken(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("final loss: nan\nbest loss: 2.0\n")
    d = diagnose(read_run(f))
    assert d.verdict == "broken" and d.finding("nonfinite-loss").key == "f.nonfinite.values"


def test_json_carries_the_values_and_the_series_as_data(tmp_path):
    f = tmp_path / "readme.md"
    f.write_text(README)
    doc = json.loads(CliRunner().invoke(app, ["explain", str(f), "--json"]).output)
    assert doc["values"] == [{"name": "Train loss", "value": 0.02, "line": 10}, {"name": "Val loss", "value": 0.03, "line": 11}]
    g = tmp_path / "loss_log.txt"
    g.write_text("run-a: [2.5, 2.1, 1.9]\nrun-b: [2.6, 2.4, 2.35]\n")
    doc = json.loads(CliRunner().invoke(app, ["explain", str(g), "--json"]).output)
    assert [(s["name"], s["n"], s["first"], s["last"]) for s in doc["series"]] == [("run-a", 3, 2.5, 1.9), ("run-b", 3, 2.6, 2.35)]
    assert "values" not in doc
