import json
import math

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from tests.conftest import read_records


def test_reads_the_tiny_run(tiny_run):
    run = read_run(tiny_run)
    recs = read_records(tiny_run)
    batches = [r for r in recs if r["type"] == "batch"]
    assert run.format == "lossdoc" and run.status == "completed"
    assert run.vocab_size == 64 and run.entropy_floor == pytest.approx(math.log(63))
    assert run.random_data
    np.testing.assert_array_equal(run.batches.loss, [b["loss"] for b in batches])
    np.testing.assert_array_equal(run.batches.step, [b["step"] for b in batches])
    assert list(run.epochs.epoch) == [0, 1, 2]
    assert run.warnings == []


def _write(tmp_path, lines, trailing_newline=True):
    p = tmp_path / "run.jsonl"
    p.write_text("\n".join(lines) + ("\n" if trailing_newline else ""))
    return p


def test_torn_last_line_is_tolerated_with_a_warning(tiny_run, tmp_path):
    lines = (tiny_run / "run.jsonl").read_text().splitlines()
    p = _write(tmp_path, lines[:-1] + [lines[-1][:17]], trailing_newline=False)
    run = read_run(p)
    assert [w.key for w in run.warnings] == ["warn.torn_last_line"]
    assert run.status is None  # the end record was the torn one


def test_corrupt_middle_lines_are_counted(tiny_run, tmp_path):
    lines = (tiny_run / "run.jsonl").read_text().splitlines()
    lines[3] = "{not json"
    run = read_run(_write(tmp_path, lines))
    assert run.warnings[0].key == "warn.corrupt_lines" and run.warnings[0].args == {"count": 1, "first": 4}


def test_latest_record_per_step_wins_after_a_resume(tmp_path):
    header = json.dumps({"type": "run", "schema": "lossdoc.run/1", "vocab_size": 10})

    def b(step, loss):
        return json.dumps({"type": "batch", "epoch": 1, "batch": step, "step": step, "loss": loss})

    run = read_run(_write(tmp_path, [header, b(1, 3.0), b(2, 2.5), b(2, 2.4), b(3, "NaN")]))
    assert list(run.batches.step) == [1, 2, 3]
    assert run.batches.loss[1] == 2.4 and math.isnan(run.batches.loss[2])


@pytest.mark.parametrize(
    "content, key",
    [
        (b"", "error.log_empty"),
        (b'{"type":"batch","step":1,"loss":2}\n', "error.log_not_lossdoc"),
        (b'{"type":"run","schema":"lossdoc.run/1"}\n', "error.log_empty"),
        (b"\x00\x01\x02binary", "error.log_binary"),
    ],
)
def test_unusable_logs_raise_clear_errors(tmp_path, content, key):
    p = tmp_path / "run.jsonl"
    p.write_bytes(content)
    with pytest.raises(LossdocError) as info:
        read_run(p, fmt="lossdoc")
    assert info.value.key == key


def test_missing_path_and_folder_without_log(tmp_path):
    with pytest.raises(LossdocError) as info:
        read_run(tmp_path / "nope")
    assert info.value.key == "error.log_missing"
    with pytest.raises(LossdocError) as info:
        read_run(tmp_path)
    assert info.value.key == "error.folder_no_log"
    with pytest.raises(LossdocError) as info:
        read_run(tmp_path, fmt="lossdoc")
    assert info.value.key == "error.log_no_metrics"


def _with_trainer_epochs(tiny_run, tmp_path, writer="lossdoc.integrations.lightning"):
    """tiny_run's log as a callback writes it: each evaluation keeps the framework's epoch (here its number - 1)."""
    out = []
    for line in (tiny_run / "run.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "run":
            rec["writer"] = writer
        if rec["type"] == "epoch" and rec["epoch"] >= 1:
            rec["trainer_epoch"] = rec["epoch"] - 1
        out.append(json.dumps(rec))
    return _write(tmp_path, out)


@pytest.mark.parametrize("fast", [True, False])
def test_trainer_epoch_is_read_beside_the_evaluation_number_and_changes_nothing_else(tiny_run, tmp_path, fast):
    from lossdoc.analysis import diagnose
    from lossdoc.runlog.readers.lossdoc_jsonl import read

    plain = read(tiny_run / "run.jsonl", fast=fast)
    assert plain.trainer_epochs == {} and plain.trainer is None  # lossdoc train: evaluations are its epochs
    named = read(_with_trainer_epochs(tiny_run, tmp_path), fast=fast)
    assert named.trainer_epochs == {1: 0.0, 2: 1.0} and named.trainer == "lightning"  # epoch 0 (before training) has none
    for a, b in ((plain.batches, named.batches), (plain.epochs, named.epochs)):
        for col in vars(a):
            np.testing.assert_array_equal(getattr(a, col), getattr(b, col))
    d1, d2 = diagnose(plain), diagnose(named)
    assert d1.verdict == d2.verdict and [f.args for f in d1.findings] == [f.args for f in d2.findings]


def test_the_latest_record_of_an_evaluation_decides_its_trainer_epoch(tmp_path):
    header = json.dumps({"type": "run", "schema": "lossdoc.run/1", "vocab_size": 10, "writer": "lossdoc.integrations.hf"})

    def ev(n, step, **extra):
        return json.dumps({"type": "epoch", "epoch": n, "step": step, "train_loss": 2.0, "val_loss": 2.0, "elapsed_s": 1, **extra})

    lines = [
        header,
        ev(1, 10, trainer_epoch=0.5),
        ev(2, 20, trainer_epoch=1.0),
        ev(2, 20),
        ev(3, 30, trainer_epoch="NaN"),
        ev(4, 40, trainer_epoch=-1),
    ]
    run = read_run(_write(tmp_path, lines))
    assert run.trainer == "transformers" and run.trainer_epochs == {1: 0.5}  # rewritten without it, not a number, negative


def test_watch_reads_the_trainer_epochs_as_explain_does(tiny_run, tmp_path):
    from lossdoc.runlog.follow import JsonlTail

    path = _with_trainer_epochs(tiny_run, tmp_path)
    tail = JsonlTail(path)
    assert tail.read_new()
    live = tail.run()
    assert live is not None and live.trainer_epochs == read_run(path).trainer_epochs == {1: 0.0, 2: 1.0} and live.trainer == "lightning"
