import json

from typer.testing import CliRunner

from lossdoc.cli import app
from tests.conftest import TINY


def test_train_tiny_prints_the_seed_lines_and_summary(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "\x1b[" not in text  # not a terminal: plain text, no colour codes, no progress bar
    assert "Epoch 0 (before any update)" in text
    assert "Epoch 2/2: train loss" in text and "best val loss" in text and "last.pt" in text
    assert "ln(64 - 1)" in text
    recs = [json.loads(x) for x in (out / "run.jsonl").read_text().splitlines()]
    best = recs[-1]["best_val_loss"]
    assert f"{best:.4f}" in text


def test_train_chinese_output(tmp_path):
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(tmp_path / "r"), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "第 2/2 轮：训练损失" in result.output and "最佳验证损失" in result.output


def test_flags_override_the_config_and_aliases_work(tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(out), "--num_heads", "4", "--batch_size", "4", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    header = json.loads((out / "run.jsonl").read_text().splitlines()[0])
    assert header["config"]["num_heads"] == 4 and header["config"]["batch_size"] == 4 and header["config"]["epochs"] == 1
    assert "num_heads: 4" in (out / "config.yaml").read_text()


def test_use_amp_on_cpu_records_bf16(tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(out), "--use_amp", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    header = json.loads((out / "run.jsonl").read_text().splitlines()[0])
    assert header["env"]["amp"] == "bfloat16"


def test_summary_names_the_floor_of_the_data_kind(tmp_path):
    args = [
        "train",
        "--data",
        "markov",
        "--vocab-size",
        "16",
        "--num-samples",
        "64",
        "--seq-len",
        "16",
        "--d-model",
        "16",
        "--num-layers",
        "1",
        "--num-heads",
        "2",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "r"),
    ]
    result = CliRunner().invoke(app, args + ["--lang", "en"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "exact entropy floor of the markov data" in result.output and "ln(16 - 1)" not in result.output


def test_a_text_run_ends_with_the_unigram_line_and_a_sample_drawn_by_the_command(tmp_path):
    """The sample after a text run is drawn by the train command (train.generate) and printed by the renderer."""
    from pydoc_data.topics import topics

    text = tmp_path / "docs.txt"
    text.write_text("\n".join(list(topics.values())[:40])[:24_000], encoding="utf-8")  # 24 KB: a hundred steps, not thousands
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app, ["train", "--config", str(TINY), "--data", str(text), "--tokenizer", "char", "--out", str(out), "--epochs", "1", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    header = json.loads((out / "run.jsonl").read_text().splitlines()[0])
    assert f"vs {header['data']['unigram_xent']:.4f} for a model that knows only token frequencies" in result.output
    assert "A sample from the trained model (prompt" in result.output and "200 new tokens" in result.output
