"""Reliability guarantees of `lossdoc train` (docs/reliability.md): Ctrl-C, a second Ctrl-C,
non-finite losses, existing run folders, full or unwritable disks, hostile checkpoints and
configs, symbolic links, and what a kill leaves behind."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lossdoc.analysis import diagnose
from lossdoc.cli import run
from lossdoc.runlog.readers import read_run
from lossdoc.train.checkpoint import load_checkpoint
from lossdoc.train.loop import NullReporter, train
from tests.conftest import ROOT, TINY, read_records, tiny_config

NB = 9  # batches per epoch of configs/tiny.yaml: 96 samples, 24 for validation, batch 8


def epoch_losses(run_dir):
    table = {}
    for r in read_records(run_dir):
        if r["type"] == "epoch":
            table[r["epoch"]] = (r["train_loss"], r["val_loss"])  # the latest record of each epoch
    return table


def ckpt_bytes(run_dir) -> dict[str, bytes]:
    folder = Path(run_dir) / "checkpoints"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(capsys, code: int, expected_code: int = 2) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == expected_code, captured.err
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


class Hooks(NullReporter):
    """A reporter that runs callbacks after given steps / epochs (the loop calls it synchronously)."""

    def __init__(self, on_batch=None, on_epoch=None):
        self.on_batch, self.on_epoch = on_batch or {}, on_epoch or {}

    def batch(self, record):
        if record["step"] in self.on_batch:
            self.on_batch[record["step"]](record)

    def epoch(self, record):
        if record["epoch"] in self.on_epoch:
            self.on_epoch[record["epoch"]](record)


def tensors_equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(tensors_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(tensors_equal(x, y) for x, y in zip(a, b))
    return a == b


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.slow  # a real SIGINT to a child process and a resume (~5 s)
def test_real_ctrl_c_stops_at_a_step_boundary_saves_and_resumes_exactly(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lossdoc", "train", "--config", str(TINY), "--out", str(out), "--epochs", "12", "--lang", "en"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = out / "run.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and log.read_text().count('"type":"batch"') >= NB + 3:  # inside epoch 2
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert f"lossdoc train --resume {out}" in stdout  # the resume command is printed
    assert "Traceback" not in stderr
    recs = read_records(out)
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "interrupted"
    ev = recs[-2]
    assert ev["type"] == "event" and ev["kind"] == "interrupted"
    ck = load_checkpoint(out / "checkpoints" / "last.pt")
    last_batch = [r for r in recs if r["type"] == "batch"][-1]
    # stopped cleanly after a whole step: the checkpoint holds exactly the logged steps, and the
    # position to continue from is the one after the last logged batch (the next epoch's start
    # when the Ctrl-C landed while an epoch ended)
    position = (last_batch["epoch"] + 1, 0) if last_batch["batch"] == NB else (last_batch["epoch"], last_batch["batch"])
    assert ck["progress"]["step"] == last_batch["step"] == ev["step"]
    assert (ev["epoch"], ev["batch"]) == position == (ck["progress"]["epoch"] + 1, ck["progress"]["batch"])
    assert 0 < ck["progress"]["step"] < 12 * NB

    result = train(resume=out)
    assert result.status == "completed" and result.exit_code == 0
    reference = tmp_path / "ref"
    train(tiny_config(reference, epochs=12))
    assert epoch_losses(out) == epoch_losses(reference)
    assert diagnose(read_run(out)).facts.resumed is True


def test_a_second_ctrl_c_aborts_at_once_and_keeps_the_last_complete_checkpoint(tmp_path):
    kept = {}

    def two_ctrl_c(record):
        os.kill(os.getpid(), signal.SIGINT)  # first: stop at the next step boundary
        os.kill(os.getpid(), signal.SIGINT)  # second: abort now, inside this step

    hooks = Hooks(on_batch={NB + 3: two_ctrl_c}, on_epoch={1: lambda r: kept.update(ckpt_bytes(tmp_path / "r"))})
    result = train(tiny_config(tmp_path / "r"), reporter=hooks)
    assert result.status == "interrupted" and result.exit_code == 130
    recs = read_records(tmp_path / "r")
    assert [r["step"] for r in recs if r["type"] == "batch"][-1] == NB + 3  # no step after the second Ctrl-C
    assert recs[-2]["kind"] == "interrupted" and "second Ctrl-C" in recs[-2]["message"]
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "interrupted"
    assert ckpt_bytes(tmp_path / "r") == kept  # the epoch-1 checkpoints, untouched
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["progress"]["step"] == NB


def test_a_second_ctrl_c_during_a_checkpoint_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    kept = {}
    real_save = torch.save
    calls = []

    def save_then_ctrl_c(obj, fh, *a, **kw):
        calls.append(1)
        if len(calls) <= 2:  # epoch 1: best.pt and last.pt
            return real_save(obj, fh, *a, **kw)
        buf = io.BytesIO()
        real_save(obj, buf)
        fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])  # half written...
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # ...when the second Ctrl-C lands
        raise AssertionError("not reached: the second Ctrl-C raises")

    monkeypatch.setattr(torch, "save", save_then_ctrl_c)
    hooks = Hooks(on_epoch={1: lambda r: kept.update(ckpt_bytes(tmp_path / "r"))})
    result = train(tiny_config(tmp_path / "r"), reporter=hooks)
    assert result.exit_code == 130 and len(calls) == 3
    assert ckpt_bytes(tmp_path / "r") == kept  # no temporary file, both checkpoints as after epoch 1
    assert read_records(tmp_path / "r")[-1]["status"] == "interrupted"


# --------------------------------------------------------------------------- non-finite loss


def test_nan_loss_stop_fails_the_run_and_keeps_the_last_good_checkpoints(tmp_path):
    kept = {}
    hooks = Hooks(on_epoch={1: lambda r: kept.update(ckpt_bytes(tmp_path / "r"))})
    result = train(tiny_config(tmp_path / "r", inject="nan-loss"), reporter=hooks)
    assert result.status == "failed" and result.exit_code == 1
    recs = read_records(tmp_path / "r")
    nan_step = NB + NB // 2 + 1  # the middle batch of the last (2nd) epoch
    batches = [r for r in recs if r["type"] == "batch"]
    assert batches[-1]["step"] == nan_step and batches[-1]["loss"] == "NaN"  # nothing after it
    assert all(math.isfinite(b["loss"]) for b in batches[:-1])
    assert [r["kind"] for r in recs if r["type"] == "event"] == ["nonfinite_loss"]
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "failed"
    assert ckpt_bytes(tmp_path / "r") == kept == ckpt_bytes(tmp_path / "r") and set(kept) == {"best.pt", "last.pt"}
    d = diagnose(read_run(tmp_path / "r"))
    assert d.verdict == "broken" and d.finding("nonfinite-loss").status == "fail"
    assert d.finding("nonfinite-loss").args["step"] == nan_step


def test_nan_loss_stop_through_the_cli_prints_the_verdict_and_exits_1(tmp_path):
    from typer.testing import CliRunner

    from lossdoc.cli import app

    res = CliRunner().invoke(
        app, ["train", "--config", str(TINY), "--out", str(tmp_path / "r"), "--inject", "nan-loss", "--lang", "en"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 1, res.output
    assert "Non-finite loss" in res.output and "Verdict: broken" in res.output


def test_nan_loss_skip_drops_exactly_that_update_and_counts_it(tmp_path):
    nan_step = NB + NB // 2 + 1
    # the model and optimizer right after the NaN step equal those right before it: no update happened
    train(tiny_config(tmp_path / "skip", inject="nan-loss", on_nonfinite="skip"), stop_at_step=nan_step)
    train(tiny_config(tmp_path / "clean"), stop_at_step=nan_step - 1)
    after = load_checkpoint(tmp_path / "skip" / "checkpoints" / "last.pt")
    before = load_checkpoint(tmp_path / "clean" / "checkpoints" / "last.pt")
    assert after["progress"]["step"] == nan_step and before["progress"]["step"] == nan_step - 1
    assert tensors_equal(after["model"], before["model"])
    assert tensors_equal(after["optimizer"], before["optimizer"])
    assert after["progress"]["skipped_steps"] == 1

    result = train(resume=tmp_path / "skip")
    assert result.status == "completed" and result.exit_code == 0
    recs = read_records(tmp_path / "skip")
    assert recs[-1]["skipped_steps"] == 1
    nan_batches = [r for r in recs if r["type"] == "batch" and r.get("skipped")]
    assert [(r["step"], r["loss"]) for r in nan_batches] == [(nan_step, "NaN")]
    # the epoch's train loss averages the finite batches only
    ep2 = [r["loss"] for r in recs if r["type"] == "batch" and r["epoch"] == 2 and r["loss"] != "NaN"]
    assert len(ep2) == NB - 1
    assert epoch_losses(tmp_path / "skip")[2][0] == pytest.approx(sum(ep2) / len(ep2), rel=1e-12)


@pytest.mark.parametrize("mode", ["stop", "skip"])
def test_best_checkpoint_is_never_replaced_by_a_non_finite_model(tmp_path, monkeypatch, mode):
    import lossdoc.train.model as model_module

    real_loss = model_module.linear_cross_entropy
    poisoned = []

    def loss(*args):  # from step NB + 1 on, evaluation sees a non-finite model
        value = real_loss(*args)
        return value * math.nan if poisoned and not torch.is_grad_enabled() else value

    monkeypatch.setattr(model_module, "linear_cross_entropy", loss)
    kept = {}
    hooks = Hooks(on_batch={NB + 1: lambda r: poisoned.append(1)}, on_epoch={1: lambda r: kept.update(ckpt_bytes(tmp_path / "r"))})
    result = train(tiny_config(tmp_path / "r", on_nonfinite=mode), reporter=hooks)
    after = ckpt_bytes(tmp_path / "r")
    assert after["best.pt"] == kept["best.pt"]
    recs = read_records(tmp_path / "r")
    if mode == "stop":
        assert result.status == "failed" and result.exit_code == 1
        assert after == kept  # last.pt too: the non-finite model is not saved
        assert (
            recs[-2]["kind"] == "nonfinite_loss" and "validation loss nan" in recs[-2]["message"] and recs[-2]["key"] == "train.event.nonfinite_val"
        )
    else:
        assert result.status == "completed"
        assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["progress"]["epoch"] == 2


# --------------------------------------------------------------------------- output folder and disk


def test_an_existing_run_is_kept_unless_overwrite_and_overwrite_removes_only_lossdoc_files(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(["train", "--config", str(TINY), "--out", str(out), "--epochs", "1"]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} | ckpt_bytes(out)
    line = one_error_line(capsys, run(["train", "--config", str(TINY), "--out", str(out), "--lang", "en"]))
    assert "--overwrite" in line and "--resume" in line
    assert ({p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} | ckpt_bytes(out)) == before

    (out / "notes.txt").write_text("mine")
    (out / "checkpoints" / "mine.bin").write_bytes(b"mine")
    assert run(["train", "--config", str(TINY), "--out", str(out), "--overwrite", "--epochs", "2"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "checkpoints" / "mine.bin").read_bytes() == b"mine"
    assert [r["epoch"] for r in read_records(out) if r["type"] == "epoch"] == [0, 1, 2]  # a new log, not appended


def _failing_save(after_calls: int):
    real_save = torch.save
    calls = []

    def save(obj, fh, *a, **kw):
        calls.append(1)
        if len(calls) <= after_calls:
            return real_save(obj, fh, *a, **kw)
        buf = io.BytesIO()
        real_save(obj, buf)
        fh.write(buf.getvalue()[:1000])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return save


def test_disk_full_during_a_checkpoint_save_is_one_line_and_keeps_the_checkpoints(tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    assert run(["train", "--config", str(TINY), "--out", str(out), "--epochs", "1"]) == 0
    before = ckpt_bytes(out)
    capsys.readouterr()
    monkeypatch.setattr(torch, "save", _failing_save(0))
    line = one_error_line(capsys, run(["train", "--resume", str(out), "--epochs", "2", "--lang", "en"]))
    assert "cannot write" in line and os.strerror(errno.ENOSPC) in line
    assert ckpt_bytes(out) == before  # intact, and no temporary file left
    recs = read_records(out)
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "failed"
    monkeypatch.undo()
    assert train(resume=out, overrides={"epochs": 2}).status == "completed"  # and it resumes afterwards


def test_disk_full_while_logging_is_one_line_and_keeps_the_checkpoints(tmp_path, capsys, monkeypatch):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    import lossdoc.runlog.writer as writer

    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    before = ckpt_bytes(out)
    monkeypatch.setattr(writer, "_open_append", lambda path: open("/dev/full", "a", encoding="utf-8"))  # every write: ENOSPC
    line = one_error_line(capsys, run(["train", "--resume", str(out), "--epochs", "2", "--lang", "en"]))
    assert "run.jsonl" in line and os.strerror(errno.ENOSPC) in line
    assert ckpt_bytes(out) == before


def test_an_unwritable_output_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_error_line(capsys, run(["train", "--config", str(TINY), "--out", str(blocker / "run"), "--lang", "en"]))
    assert "cannot write" in line and os.strerror(errno.ENOTDIR) in line
    assert blocker.read_text() == "x"


# --------------------------------------------------------------------------- hostile inputs


def test_resuming_from_a_hostile_checkpoint_refuses_it_and_never_runs_it(tmp_path, capsys):
    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"model": Evil(), "progress": {}}, out / "checkpoints" / "last.pt")
    # --epochs 2: the run is complete after its one epoch, and resuming it without more epochs is refused earlier
    line = one_error_line(capsys, run(["train", "--resume", str(out), "--epochs", "2", "--lang", "en"]))
    assert "refused to load" in line and "weights_only=True" in line
    assert not marker.exists()


def test_a_yaml_config_cannot_run_code(tmp_path, capsys):
    marker = tmp_path / "pwned"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(f'data: !!python/object/apply:os.system ["touch {marker}"]\n')
    line = one_error_line(capsys, run(["train", "--config", str(cfg), "--out", str(tmp_path / "r"), "--lang", "en"]))
    assert "not valid YAML" in line
    assert not marker.exists() and not (tmp_path / "r").exists()


def test_lightning_hparams_with_python_tags_are_read_as_data_never_run(tmp_path, capsys):
    marker = tmp_path / "pwned"
    version = tmp_path / "lightning_logs" / "version_0"
    version.mkdir(parents=True)
    (version / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n0,0,4.6,\n0,1,4.5,\n0,1,,4.4\n")
    (version / "hparams.yaml").write_text(f'vocab_size: 100\nevil: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert run(["explain", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["facts"]["vocab_size"] == 100
    assert not marker.exists()


def test_a_symlinked_log_cannot_redirect_writes(tmp_path, capsys):
    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "run.jsonl").unlink()
    (out / "run.jsonl").symlink_to(victim)
    line = one_error_line(capsys, run(["train", "--resume", str(out), "--epochs", "2", "--lang", "en"]))
    assert "run.jsonl" in line
    assert victim.read_text() == "precious\n"


# --------------------------------------------------------------------------- what a kill leaves behind


def test_a_kill_between_saving_last_pt_and_logging_the_epoch_loses_nothing(tmp_path, tiny_run):
    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    recs = read_records(out)
    # what a kill right after last.pt was saved leaves: the batches, but no epoch-1 record and no end record
    keep = [r for r in recs if not (r["type"] in ("epoch", "end") and r.get("epoch", 1) == 1)]
    assert len(keep) == len(recs) - 2
    (out / "run.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
    train(resume=out, overrides={"epochs": 2})
    assert epoch_losses(out) == epoch_losses(tiny_run)
    assert [r["epoch"] for r in read_records(out) if r["type"] == "epoch"] == [0, 1, 2]


def test_temporary_files_of_a_killed_save_are_ignored_and_cleaned_up(tmp_path):
    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    junk = [out / "checkpoints" / ".last.pt.k1ll3d.tmp", out / "checkpoints" / ".best.pt.k1ll3d.tmp"]
    for j in junk:
        j.write_bytes(b"PK\x03\x04 half a zip")
    # a torn last line, as a kill in the middle of a write leaves it
    with open(out / "run.jsonl", "a") as fh:
        fh.write('{"type":"batch","epoch":2,"st')
    result = train(resume=out, overrides={"epochs": 2})
    assert result.status == "completed"
    assert not any(j.exists() for j in junk)
    run_ = read_run(out)
    assert run_.resumed and run_.status == "completed"
    assert [w.key for w in run_.warnings] == ["warn.corrupt_lines"]  # the torn line, reported and skipped


def test_resume_of_a_run_whose_log_was_deleted_starts_it_again_with_the_header(tmp_path):
    out = tmp_path / "r"
    train(tiny_config(out, epochs=1))
    (out / "run.jsonl").unlink()
    train(resume=out, overrides={"epochs": 2})
    recs = read_records(out)
    assert recs[0]["type"] == "run" and [r["epoch"] for r in recs if r["type"] == "epoch"] == [1, 2]
    assert read_run(out).status == "completed"


class Killed(BaseException):
    """Stands for SIGKILL inside the process: nothing in lossdoc catches it."""


@pytest.mark.parametrize("dies_at_save", [3, 4])  # epoch 2 (a new best) saves best.pt (3rd save), then last.pt (4th)
def test_a_kill_between_the_two_checkpoint_saves_still_ends_with_the_right_best_pt(tmp_path, tiny_run, monkeypatch, dies_at_save):
    real_save = torch.save
    calls = []

    def save(obj, fh, *a, **kw):
        calls.append(1)
        if len(calls) == dies_at_save:
            raise Killed
        return real_save(obj, fh, *a, **kw)

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(Killed):
        train(tiny_config(tmp_path / "r"))
    monkeypatch.undo()
    assert train(resume=tmp_path / "r").status == "completed"
    vals = [v for e, (_, v) in epoch_losses(tiny_run).items() if e >= 1]
    got = load_checkpoint(tmp_path / "r" / "checkpoints" / "best.pt")
    want = load_checkpoint(tiny_run / "checkpoints" / "best.pt")
    assert got["progress"]["best_val_loss"] == min(vals) == want["progress"]["best_val_loss"]
    assert tensors_equal(got["model"], want["model"])
    assert epoch_losses(tmp_path / "r") == epoch_losses(tiny_run)
