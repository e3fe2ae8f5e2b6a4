"""`lossdoc compare`: a dummy run beside a real-text run, in one table and one chart."""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from lossdoc.cli import app
from lossdoc.cli import run as cli_run
from lossdoc.i18n import t

FIX = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    """A tiny character-level run on real English text: 24 KB of Python's docs (pydoc_data, offline), so that the
    run takes a hundred steps, not the whole corpus's thousands."""
    from pydoc_data.topics import topics

    from lossdoc.train.config import TrainConfig
    from lossdoc.train.loop import train

    folder = tmp_path_factory.mktemp("text")
    text = folder / "docs.txt"
    text.write_text("\n".join(topics[k] for k in sorted(topics))[:24_000], encoding="utf-8")
    out = folder / "run"
    train(
        TrainConfig(
            data=str(text),
            tokenizer="char",
            num_samples=300,
            val_fraction=0.25,
            epochs=2,
            seq_len=16,
            d_model=32,
            num_layers=1,
            num_heads=2,
            dropout=0.0,
            batch_size=16,
            lr=3e-3,
            seed=7,
            device="cpu",
            out=str(out),
        )
    )
    return out


def invoke(*args, columns: int = 120):
    return CliRunner().invoke(app, ["compare", *map(str, args)], env={"COLUMNS": str(columns)})


def records(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "run.jsonl").read_text().splitlines()]


def expected_row(run_dir: Path) -> dict:
    """The table's numbers, straight from the log."""
    recs = records(run_dir)
    epochs = [r for r in recs if r["type"] == "epoch"]
    init = next(r["val_loss"] for r in epochs if r["epoch"] == 0)
    best = min(r["val_loss"] for r in epochs if r["epoch"] >= 1)
    floor = recs[0]["data"].get("entropy_floor")
    return {"init": init, "best": best, "floor": floor, "epochs": max(r["epoch"] for r in epochs)}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dummy_and_real_text_verdicts_side_by_side(tiny_run, text_run, lang):
    result = invoke(tiny_run, text_run, "--lang", lang)
    assert result.exit_code == 0, result.output
    # each run's own verdict, as explain gives it
    verdicts = [json.loads(CliRunner().invoke(app, ["explain", str(r), "--json"]).output)["verdict"] for r in (tiny_run, text_run)]
    lines = result.output.splitlines()
    i1 = next(i for i, x in enumerate(lines) if x.lstrip().startswith("1 "))
    i2 = next(i for i, x in enumerate(lines) if x.lstrip().startswith("2 "))
    assert i1 < i2
    # a table row may wrap over a few lines: the verdict is in that run's row
    row1, row2 = " ".join(lines[i1:i2]), " ".join(lines[i2:])
    for row, verdict in ((row1, verdicts[0]), (row2, verdicts[1])):
        assert all(word in row for word in t(f"verdict.{verdict}", lang).split())
    assert t("compare.col.best", lang) in result.output


def test_compare_numbers_come_from_the_logs(tiny_run, text_run):
    doc = json.loads(invoke(tiny_run, text_run, "--json").output)
    assert doc["schema"] == "lossdoc.compare/1" and len(doc["runs"]) == 2
    for run_dir, row in zip((tiny_run, text_run), doc["runs"]):
        exp = expected_row(run_dir)
        assert row["init_loss"] == pytest.approx(exp["init"])
        assert row["best_val_loss"] == pytest.approx(exp["best"])
        assert row["epochs"] == exp["epochs"]
        if exp["floor"] is None:
            assert row["excess_over_floor"] is None
        else:
            assert row["excess_over_floor"] == pytest.approx(exp["best"] - exp["floor"], abs=1e-4)
            assert row["excess_pct"] == pytest.approx(100 * (exp["best"] - exp["floor"]) / exp["floor"], abs=0.01)
    # the table prints the same numbers
    out = invoke(tiny_run, text_run).output
    exp = expected_row(tiny_run)
    assert f"{exp['init']:.4f}" in out and f"{exp['best']:.4f}" in out and f"{exp['floor']:.4f}" in out
    assert f"{exp['best'] - exp['floor']:+.4f}" in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compare_plot_in_80_columns(tiny_run, text_run, lang):
    result = invoke(tiny_run, text_run, "--plot", "--lang", lang, columns=80)
    assert result.exit_code == 0, result.output
    out = result.output
    assert max(cell_len(x) for x in out.splitlines()) <= 80
    assert "\x1b[" not in out
    # inside the frame (the y tick labels are left of it): each run's training line (digit) and validation points (letter)
    body = "".join(x.split("│", 1)[1] if "│" in x else x.split("┤", 1)[1] for x in out.splitlines() if "│" in x or "┤" in x)
    assert body.count("1") > 10 and body.count("2") > 10 and "A" in body and "B" in body
    assert "x: epoch" in out or "横轴：轮次" in out  # runs of different lengths line up by epoch
    floor = records(tiny_run)[0]["data"]["entropy_floor"]
    assert f"{floor:.4f} nats" in out and f"{floor / math.log(2):.3f}" in out


def test_compare_reports(tiny_run, text_run, tmp_path):
    png = tmp_path / "c.png"
    assert invoke(tiny_run, text_run, "--report", png, "--size", "700x420").exit_code == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (700, 420)
    page_path = tmp_path / "c.html"
    result = invoke(tiny_run, text_run, "--report", page_path, "--lang", "zh")
    assert result.exit_code == 0, result.output
    page = page_path.read_text(encoding="utf-8")
    doc = json.loads(invoke(tiny_run, text_run, "--json").output)
    for row in doc["runs"]:
        assert t(f"verdict.{row['verdict']}", "zh") in page
    assert page.count("<svg") == 1
    assert len(re.findall(r'<circle class="val run-0"', page)) == len([r for r in records(tiny_run) if r["type"] == "epoch"])
    assert len(re.findall(r'<circle class="val run-1"', page)) == len([r for r in records(text_run) if r["type"] == "epoch"])


def test_compare_reads_any_format_with_shared_flags():
    seed = FIX / "seed_console" / "seed_en.txt"
    hf = FIX / "hf_trainer" / "random_plateau"
    result = invoke(seed, hf, "--vocab-size", "64", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [r["format"] for r in doc["runs"]] == ["seed-console", "hf-trainer"]
    assert doc["runs"][0]["best_val_loss"] == pytest.approx(9.2290)  # the seed log's last "Val Loss"


def test_compare_errors_are_one_line(tmp_path, capsys):
    assert cli_run(["compare", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nope" in err
    assert cli_run(["compare", str(FIX / "seed_console" / "seed_en.txt"), "--report", str(tmp_path / "x.txt")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
