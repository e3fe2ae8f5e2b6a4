"""The contract of `lossdoc explain` (issue #18, docs/reliability.md "Hostile inputs"): exit 0 with a verdict,
1 for --fail-on, or 2 with exactly one line on stderr; never a traceback. Enforced at one place, cli.run()."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from lossdoc.cli import run
from lossdoc.errors import LossdocError, one_line

GOOD_CSV = "step,loss,val_loss\n1,4.6,\n2,4.5,\n3,4.4,4.45\n4,4.3,\n5,4.2,4.25\n"


def explain(*args: str) -> tuple[int, str, str]:
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = run(["explain", *args])
    return rc, so.getvalue(), se.getvalue()


def one_error_line(result: tuple[int, str, str]) -> str:
    rc, out, err = result
    assert rc == 2 and out == "", (rc, out[:300])
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("lossdoc: "), err
    assert "Traceback" not in err
    return lines[0]


def test_one_line_escapes_newlines_control_characters_and_undecodable_bytes():
    name = "a\nb\rc\x1b[31m\u2028" + b"\xff".decode("utf-8", "surrogateescape") + "中"
    assert one_line(name) == "a\\nb\\rc\\x1b[31m\\u2028\\xff中"
    assert "\n" not in LossdocError("error.log_missing", path=name).render("zh")


def test_a_file_name_with_a_newline_is_named_on_one_line(tmp_path):
    line = one_error_line(explain(str(tmp_path / "no\nsuch.log")))
    assert "no\\nsuch.log" in line


def test_a_file_name_that_is_not_utf8_is_named_on_one_line(tmp_path):
    p = tmp_path / ("bad" + b"\xff\xfe".decode("utf-8", "surrogateescape") + ".log")
    p.write_bytes(b"\x00\x01 not a log")
    line = one_error_line(explain(str(p)))
    assert "bad\\xff\\xfe.log" in line


def test_an_unexpected_exception_is_one_line_naming_the_input(tmp_path, monkeypatch):
    from lossdoc.runlog.readers import generic

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(generic, "table_to_run", boom)
    p = tmp_path / "log.csv"
    p.write_text(GOOD_CSV)
    monkeypatch.delenv("LOSSDOC_DEBUG", raising=False)
    line = one_error_line(explain(str(p), "--lang", "zh"))
    assert "ZeroDivisionError" in line and str(p) in line and "LOSSDOC_DEBUG=1" in line
    monkeypatch.setenv("LOSSDOC_DEBUG", "1")  # developers see the real traceback
    with pytest.raises(ZeroDivisionError):
        explain(str(p))


def test_fifo_is_refused_in_one_line_without_opening_it(tmp_path):
    fifo = tmp_path / "log.txt"
    os.mkfifo(fifo)  # opening it for reading would block forever
    assert "named pipe" in one_error_line(explain(str(fifo)))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    os.mkfifo(run_dir / "metrics.jsonl")
    one_error_line(explain(str(run_dir)))


@pytest.mark.parametrize("fmt", [None, "lossdoc", "hf-trainer", "tensorboard", "lightning-csv", "nanogpt", "seed-console", "csv", "jsonl"])
def test_a_link_to_dev_zero_is_refused_under_every_format(tmp_path, fmt):
    link = tmp_path / "zero.log"
    link.symlink_to("/dev/zero")
    args = [str(link)] + (["--format", fmt] if fmt else [])
    assert "character device" in one_error_line(explain(*args))


def test_dev_zero_as_a_file_a_reader_looks_for_in_a_folder_is_not_read(tmp_path):
    for i, name in enumerate(("metrics.jsonl", "trainer_state.json", "metrics.csv", "events.out.tfevents.1.x.0")):
        d = tmp_path / f"run{i}"
        d.mkdir()
        (d / name).symlink_to("/dev/zero")
        one_error_line(explain(str(d)))


def test_a_log_beyond_the_size_cap_is_refused_in_one_line(tmp_path, monkeypatch):
    from lossdoc.runlog import readers

    monkeypatch.setattr(readers, "MAX_LOG_BYTES", 50)
    p = tmp_path / "log.csv"
    p.write_text(GOOD_CSV)
    assert "MB" in one_error_line(explain(str(p)))


@pytest.mark.parametrize(
    "flags",
    [
        ["--floor", "1e308", "--vocab-size", "100", "--random"],
        ["--floor", "1e308"],
        ["--random-low", "9" * 30, "--vocab-size", "10", "--random"],
        ["--vocab-size", "9" * 5000],
    ],
)
def test_flags_out_of_range_are_one_line(tmp_path, flags):
    p = tmp_path / "log.csv"
    p.write_text(GOOD_CSV)
    one_error_line(explain(str(p), *flags))


def test_the_largest_floor_allowed_renders(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text(GOOD_CSV)
    rc, out, err = explain(str(p), "--floor", "100", "--vocab-size", "100", "--random", "--plot")
    assert rc == 0 and err == "", err
    rc, out, err = explain(str(p), "--floor", "100", "--json")
    assert rc == 0 and json.loads(out)["verdict"]


def test_plot_with_numbers_near_the_float_limit_and_non_finite_ones(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,loss,val_loss\n1,4.6,\n2,1e308,\n3,-1e308,nan\n4,inf,\n1e300,4.3,4.2\n5,4.2,-inf\n6,4.1,1.7e308\n")
    for lang in ("en", "zh"):
        rc, out, err = explain(str(p), "--plot", "--lang", lang)
        assert rc == 0 and err == "", err


def test_a_terminal_that_cannot_encode_the_report_gets_one_line(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "log.csv"
    p.write_text(GOOD_CSV)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONIOENCODING="ascii", PYTHONPATH=str(root))
    env.pop("LOSSDOC_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "lossdoc", "explain", str(p), "--lang", "zh"], capture_output=True, env=env, timeout=120)
    err = proc.stderr.decode("ascii")
    assert proc.returncode == 2 and len(err.rstrip("\n").split("\n")) == 1 and "PYTHONIOENCODING" in err, err
    assert "Traceback" not in err
