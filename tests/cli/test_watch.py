"""`lossdoc watch`: following a log that another process writes, the follower against the reader, the views."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from lossdoc.analysis import diagnose
from lossdoc.cli import run as cli_run
from lossdoc.runlog.follow import Follower, JsonlTail
from lossdoc.runlog.logger import RunLogger
from lossdoc.runlog.readers import read_run

ROOT = Path(__file__).resolve().parents[2]
V = 64

# Another process: writes a lossdoc log with RunLogger at RATE records a second; from step NAN_AT on the loss is NaN.
WRITER = textwrap.dedent("""
    import math, random, sys, time
    from lossdoc.runlog.logger import RunLogger
    path, n, rate, nan_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    time.sleep(float(sys.argv[5]))  # the watcher starts first and waits for the log
    rng = random.Random(0)
    with RunLogger(path, vocab_size=64, data="random", seq_len=16, batch_size=16) as log:
        t0 = time.monotonic()
        for step in range(1, n + 1):
            loss = math.log(64) + 0.5 * math.exp(-step / 50) + rng.gauss(0, 0.02)
            log.batch(step, float("nan") if nan_at and step >= nan_at else loss, lr=1e-3)
            if step % 100 == 0:
                log.eval(step, math.log(64) + 0.5 * math.exp(-step / 50) + 0.001)
            ahead = step / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
""")


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), LANG="C.UTF-8", COLUMNS="200")
    env.pop("LC_ALL", None)
    return env


def _writer(path: Path, n: int, rate: float, nan_at: int = 0, delay: float = 0.5) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n), str(rate), str(nan_at), str(delay)], env=_env())


def _watch(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lossdoc", "watch", *args], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _cli(*args: str) -> tuple[int, str, str]:
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = cli_run(["watch", *args])
    return rc, so.getvalue(), se.getvalue()


@pytest.mark.slow  # a writer process in real time (seconds of wall clock)
def test_watch_follows_a_log_another_process_writes_until_it_ends(tmp_path):
    run_dir = tmp_path / "run"
    watch = _watch(str(run_dir), "--wait", "--until-done")  # the folder does not exist yet
    writer = _writer(run_dir, 1500, 1000.0)
    try:
        out, err = watch.communicate(timeout=60)
    finally:
        writer.wait(timeout=60)
    assert watch.returncode == 0, err
    lines = out.strip().splitlines()
    expected = diagnose(read_run(run_dir)).verdict  # the finished log, read whole by explain's reader
    assert expected == "expected-plateau"
    assert lines[-1] == "the run ended (completed); verdict: expected plateau"
    assert lines[-2].startswith("step ") and ": expected plateau (" in lines[-2]
    assert len(lines) == len(set(lines)) and len(lines) <= 6  # piped: one line per verdict change, not one per poll


@pytest.mark.slow  # a writer process in real time (seconds of wall clock)
def test_fail_on_broken_exits_1_soon_after_the_first_nan_while_the_writer_goes_on(tmp_path):
    run_dir = tmp_path / "run"
    watch = _watch(str(run_dir), "--wait", "--fail-on", "broken")
    writer = _writer(run_dir, 20_000, 1000.0, nan_at=800)  # would run for 20 s
    try:
        out, err = watch.communicate(timeout=60)
        still_writing = writer.poll() is None
    finally:
        writer.kill()
        writer.wait()
    assert watch.returncode == 1, (out, err)
    assert still_writing  # watch stopped on the verdict, not at the end of the run
    assert "broken (training loss NaN" in out and out.strip().splitlines()[-1] == "verdict broken (--fail-on broken): exit 1"
    steps = [json.loads(ln)["step"] for ln in (run_dir / "run.jsonl").read_text().splitlines() if '"batch"' in ln]
    assert max(steps) < 20_000


def test_a_missing_path_without_wait_is_one_line_and_exit_2(tmp_path):
    rc, out, err = _cli(str(tmp_path / "nope"))
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert "no such file or folder" in err and "--wait" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--interval", "0.5"], ["--fail-on", "sometimes"], ["--idle", "0"]])
def test_bad_options_are_one_line_and_exit_2(tmp_path, args):
    (tmp_path / "run.jsonl").write_text("")
    rc, out, err = _cli(str(tmp_path / "run.jsonl"), *args)
    assert rc == 2 and err.count("\n") == 1 and args[0] in err


def test_a_log_that_is_not_one_is_one_line_and_exit_2(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01\x02" * 100)
    rc, out, err = _cli(str(p), "--until-done")
    assert rc == 2 and err.count("\n") == 1


def _write_log(path: Path, steps: int, *, nan_at: int = 0) -> None:
    with RunLogger(path, vocab_size=V, data="random", seq_len=16, batch_size=4) as log:
        for step in range(1, steps + 1):
            log.batch(step, float("nan") if nan_at and step >= nan_at else math.log(V) + 1 / step, lr=1e-3, grad_norm=0.5)
            if step % 10 == 0:
                log.eval(step, math.log(V) + 1 / step)


def _same(a, b) -> None:
    for name in ("step", "epoch", "loss", "lr", "grad_norm", "tokens"):
        assert np.array_equal(getattr(a.batches, name), getattr(b.batches, name), equal_nan=True), name
    for name in ("epoch", "step", "train_loss", "val_loss", "val_tokens"):
        assert np.array_equal(getattr(a.epochs, name), getattr(b.epochs, name), equal_nan=True), name
    assert (a.vocab_size, a.entropy_floor, a.random_data, a.batch_tokens, a.status) == (
        b.vocab_size,
        b.entropy_floor,
        b.random_data,
        b.batch_tokens,
        b.status,
    )
    assert diagnose(a).verdict == diagnose(b).verdict


def test_records_without_lr_or_grad_norm_are_tailed_as_the_reader_reads_them(tmp_path):
    """A RunLogger given no lr or gradient norm leaves them out (not measured): the tail and the reader agree."""
    with RunLogger(tmp_path / "run", vocab_size=V, data="random", seq_len=16, batch_size=4) as log:
        for step in range(1, 41):
            log.batch(step, math.log(V) + 1 / step, grad_norm=0.5 if step % 2 else None)
            if step % 10 == 0:
                log.eval(step, math.log(V) + 1 / step)
    assert '"lr"' not in (tmp_path / "run" / "run.jsonl").read_text()
    tail = JsonlTail(tmp_path / "run" / "run.jsonl")
    tail.read_new()
    run = tail.run()
    _same(run, read_run(tmp_path / "run" / "run.jsonl"))
    assert np.isnan(run.batches.lr).all() and np.isnan(run.batches.grad_norm[1::2]).all() and (run.batches.grad_norm[::2] == 0.5).all()


def test_the_tail_reads_only_new_bytes_and_builds_the_readers_run(tmp_path):
    _write_log(tmp_path / "full", 120, nan_at=100)
    data = (tmp_path / "full" / "run.jsonl").read_bytes()
    growing = tmp_path / "run.jsonl"
    growing.write_bytes(b"")
    tail = JsonlTail(growing)
    cuts = [0, 37, 400, 401, len(data) // 2, len(data) - 5, len(data)]  # torn lines included
    for a, b in zip(cuts, cuts[1:]):
        with open(growing, "ab") as fh:
            fh.write(data[a:b])
        tail.read_new()
        assert tail.offset == b  # each read starts where the last one stopped
    _same(tail.run(), read_run(tmp_path / "full" / "run.jsonl"))
    assert tail.ended and tail.status == "completed"


def test_a_repeated_step_and_a_truncated_log(tmp_path):
    _write_log(tmp_path / "a", 30)
    log = tmp_path / "a" / "run.jsonl"
    tail = JsonlTail(log)
    tail.read_new()
    with open(log, "a") as fh:  # a resumed run writes step 5 again: the latest record wins, as in the reader
        fh.write(
            json.dumps(
                {
                    "type": "batch",
                    "epoch": 1,
                    "batch": 5,
                    "num_batches": 5,
                    "step": 5,
                    "loss": 9.0,
                    "lr": 1e-3,
                    "grad_norm": 0.5,
                    "tokens": 60,
                    "elapsed_s": 1.0,
                }
            )
            + "\n"
        )
    tail.read_new()
    _same(tail.run(), read_run(log))
    assert tail.run().batches.loss[4] == 9.0
    _write_log(tmp_path / "b", 12)
    log.write_bytes((tmp_path / "b" / "run.jsonl").read_bytes())  # shorter than before: read again from the start
    tail.read_new()
    _same(tail.run(), read_run(log))


def test_other_formats_are_read_again_when_they_change(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,loss,val_loss\n" + "".join(f"{s},{5 - s / 100},\n" for s in range(1, 40)))
    now = [0.0]
    f = Follower(csv, min_interval=1.0, idle_s=10.0, clock=lambda: now[0])
    run = f.poll()
    assert f.mode == "reread" and len(run.batches) == 39
    now[0] = 0.5
    assert f.poll() is None  # at most once per interval
    now[0] = 1.5
    assert f.poll() is None and not f.done  # unchanged: not read again
    with open(csv, "a") as fh:
        fh.write("40,4.6,4.65\n")
    now[0] = 3.0
    run = f.poll()
    assert run.records_read == 40 and run.epochs.val_loss.tolist() == [4.65]
    now[0] = 12.0
    assert f.poll() is None and not f.done
    now[0] = 13.5
    assert f.done  # no change for idle_s: a format without an end record has ended


def test_the_live_panel_shows_verdict_losses_floor_and_the_last_change(tmp_path):
    from lossdoc.render.watch import WatchView

    _write_log(tmp_path / "a", 60)
    _write_log(tmp_path / "b", 60, nan_at=55)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with WatchView(console, "en", "run", live=True) as view:
        for name in ("a", "b"):
            r = read_run(tmp_path / name)
            view.update(r, diagnose(r))
    text = buf.getvalue()
    assert "verdict          broken" in text and "NaN at step 60" in text and "floor            4.1589" in text  # ln 64
    assert "last change      non-finite loss: FAIL  The loss became NaN at step 55" in text


def test_piped_lines_in_chinese(tmp_path):
    from lossdoc.render.watch import WatchView

    _write_log(tmp_path / "a", 60)
    console = Console(record=True, force_terminal=False, width=200)
    with WatchView(console, "zh", "run") as view:
        r = read_run(tmp_path / "a")
        view.update(r, diagnose(r))
        view.update(r, diagnose(r))  # same verdict: no second line
        view.ended("completed")
    lines = console.export_text().strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("第 60 步：") and "下限 4.1589" in lines[0] and "运行已结束" in lines[1]


def test_one_second_of_growth_costs_only_its_own_bytes(tmp_path, monkeypatch):
    """Not a timing assertion: the bytes read per poll. 1,000 new records cost their own bytes, not the whole log's
    (benchmarks/watch_speed.py measures the time)."""
    import lossdoc.runlog.follow as follow

    _write_log(tmp_path / "a", 3000)
    log = tmp_path / "a" / "run.jsonl"
    tail = JsonlTail(log)
    tail.read_new()
    before = tail.offset
    extra = "".join(
        json.dumps(
            {
                "type": "batch",
                "epoch": 400,
                "batch": i,
                "num_batches": i,
                "step": 3000 + i,
                "loss": 4.16,
                "lr": 1e-3,
                "grad_norm": 0.5,
                "tokens": 60,
                "elapsed_s": 1.0,
            }
        )
        + "\n"
        for i in range(1, 1001)
    ).encode()
    with open(log, "ab") as fh:
        fh.write(extra)
    reads = []

    class Counting:
        def __init__(self, *a, **k):
            self.fh = open(*a, **k)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def seek(self, n):
            return self.fh.seek(n)

        def read(self, n=-1):
            data = self.fh.read(n)
            reads.append(len(data))
            return data

    monkeypatch.setattr(follow, "open", Counting, raising=False)
    tail.read_new()
    assert sum(reads) == len(extra) and tail.offset == before + len(extra)
    assert len(tail.run().batches) == 4000


def test_a_log_without_an_end_record_ends_after_idle_seconds_with_exit_3(tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_text("step,loss,val_loss\n" + "".join(f"{s},{5 - s / 100},{5 - s / 100 if s % 10 == 0 else ''}\n" for s in range(1, 41)))
    rc, out, err = _cli(str(csv), "--until-done", "--idle", "0.3")
    assert rc == 3, err
    last = " ".join(out.split()).split("; verdict: ")[-1]  # the console wraps at 80 columns
    assert "no new record for 0.3 s and no end record: the writer may have stopped (exit 3); verdict so far: " in last


@pytest.mark.slow  # a writer process in real time (seconds of wall clock)
def test_a_lossdoc_writer_killed_without_an_end_record_ends_the_watch_after_idle_seconds(tmp_path):
    """SIGKILL (or the out-of-memory killer) leaves no end record: --until-done --idle S returns, exit 3, one line."""
    run_dir = tmp_path / "run"
    writer = _writer(run_dir, 100_000, 1000.0, delay=0.0)  # would run for 100 s
    try:
        deadline = time.monotonic() + 30
        while not ((run_dir / "run.jsonl").is_file() and (run_dir / "run.jsonl").stat().st_size > 20_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        writer.kill()  # SIGKILL: no end record
        writer.wait()
        watch = _watch(str(run_dir), "--until-done", "--idle", "1")
        t0 = time.monotonic()
        out, err = watch.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert '"type": "end"' not in (run_dir / "run.jsonl").read_text() and '"type":"end"' not in (run_dir / "run.jsonl").read_text()
    assert watch.returncode == 3, (out, err)
    lines = out.strip().splitlines()
    assert lines[-1].startswith("no new record for 1 s and no end record: the writer may have stopped (exit 3); verdict so far: ")
    assert sum("no new record" in ln for ln in out.splitlines() + err.splitlines()) == 1
    assert 1 <= took < 30


def test_the_follower_of_a_lossdoc_log_is_idle_after_idle_s_without_a_record(tmp_path):
    run_dir = tmp_path / "run"
    log = RunLogger(run_dir, vocab_size=V, data="random", seq_len=16, batch_size=4)
    for step in range(1, 21):
        log.batch(step, math.log(V) + 1 / step, lr=1e-3)
    now = [0.0]
    f = Follower(run_dir / "run.jsonl", min_interval=1.0, idle_s=10.0, clock=lambda: now[0])
    assert f.poll() is not None and not f.done
    now[0] = 9.0
    assert f.poll() is None and not f.done
    log.batch(21, 4.2)  # a record arrives: the idle clock starts again
    now[0] = 10.5
    assert f.poll() is not None and not f.done
    now[0] = 20.0
    assert f.poll() is None and not f.done
    now[0] = 20.6
    assert f.done and f.idle and f.status is None
    log.close("completed")  # an end record: done, not idle
    now[0] = 22.0
    f.poll()
    assert f.done and not f.idle and f.status == "completed"


def test_a_half_written_first_line_waits_instead_of_choosing_a_format(tmp_path):
    from lossdoc.errors import LossdocError

    _write_log(tmp_path / "full", 30)
    data = (tmp_path / "full" / "run.jsonl").read_bytes()
    log = tmp_path / "run.jsonl"
    log.write_bytes(data[:40])  # part of the header
    f = Follower(log, min_interval=0.0)
    with pytest.raises(LossdocError) as exc:
        f.poll()
    assert exc.value.key == "error.log_empty" and f.mode is None
    log.write_bytes(data)
    assert len(f.poll().batches) == 30 and f.mode == "tail"


def test_a_folder_of_runs_is_watched_through_its_newest_run(tmp_path):
    _write_log(tmp_path / "runs" / "old", 20)
    time.sleep(0.05)
    _write_log(tmp_path / "runs" / "new", 40)
    os.utime(tmp_path / "runs" / "old", (1, 1))
    rc, out, err = _cli(str(tmp_path / "runs"), "--until-done")
    assert rc == 0 and "new" in err and out.splitlines()[0].startswith("step 40: ")
