"""Generic CSV and JSON Lines in bounded memory (issue 26): the CSV is read a row at a time, JSON Lines keep only the
columns a reader can use, and batch rows beyond the cap are a systematic 1 in k with lossdoc's own warning."""

from __future__ import annotations

import json

import numpy as np

from lossdoc.runlog.readers import generic, read_run


def test_csv_beyond_the_cap_is_sampled_with_the_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(generic, "BATCH_CAP", 1000)
    p = tmp_path / "log.csv"
    p.write_text("step,loss\n" + "".join(f"{s},{5 - s / 10000:.5f}\n" for s in range(1, 5001)), encoding="utf-8")
    run = read_run(p)
    w = next(w for w in run.warnings if w.key == "warn.batches_sampled")
    assert w.args["total"] == 5000 and w.args["k"] == 8 and len(run.batches) <= 1000
    assert run.batches.step[0] == 1 and run.batches.step[-1] == 5000  # the first and the last row are kept
    assert np.all(np.diff(run.batches.step) > 0)
    assert run.records_read == 5000 and run.records_skipped == 0


def test_csv_under_the_cap_keeps_every_row_and_counts_repeats(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,loss\n1,5.0\n2,4.0\n2,3.5\n3,3.0\n", encoding="utf-8")
    run = read_run(p)
    assert list(run.batches.loss) == [5.0, 3.5, 3.0]  # a repeated step: the later row
    assert any(w.key == "warn.duplicate_steps" and w.args["count"] == 1 for w in run.warnings)
    assert not any(w.key == "warn.batches_sampled" for w in run.warnings)


def test_jsonl_keeps_only_usable_columns_and_picks_as_before(tmp_path):
    """Columns of no use are kept by name only; a preferred name that first appears late still wins; a value that is
    not a number is counted on its line."""
    p = tmp_path / "log.jsonl"
    rows = [{"step": s, "loss": 5 - s / 100, "note": "x" * 50, "tokens_seen": s * 10} for s in range(1, 50)]
    rows.append({"step": 50, "train_loss": 4.0, "loss": 9.9})
    rows.append({"step": 51, "train_loss": "oops"})
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    table, _ = generic.load_jsonl(p)
    assert set(table.values) == {"step", "loss", "train_loss"} and "note" in table.columns
    run = read_run(p)
    assert run.batches.loss[49] == 4.0  # train_loss is preferred to loss where a row has it
    assert run.batches.loss[0] == 5 - 1 / 100  # rows without it use loss
    assert any(w.key == "warn.not_numbers" and w.args["first"] == 51 for w in run.warnings)


def test_jsonl_column_named_by_a_flag_is_kept(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text("\n".join(json.dumps({"it": s, "my_objective": 3 - s / 100}) for s in range(1, 30)) + "\n", encoding="utf-8")
    run = read_run(p, train_col="my_objective")
    assert len(run.batches) == 29 and run.batches.loss[0] == 3 - 1 / 100
