"""No crash on odd numbers (issue 23): a console line whose epoch or batch is beyond the float range (1e400, inf)
made the console reader place it at int(inf) -> OverflowError, and a valid log was refused. Every reader must
give a Run or one LossdocError for such lines, whatever the number; thousands separators are read as such."""

from __future__ import annotations

import itertools
import math

import pytest

from lossdoc.cli import run as lossdoc_cli
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import formats, read_run
from lossdoc.runlog.readers._common import to_float

ODD = ["1e400", "-1e400", "1e309", "inf", "-inf", "nan", "NaN", "-0", "1,234.5", "9" * 40, "9" * 5000, "1e-400", "Infinity"]
TEMPLATES = [
    "Epoch {a}/{a} | Batch {b}/{b} | loss {c}",
    "epoch {a} batch {b}/250 loss={c}",
    "Epoch {a}, Batch {b}/250, Loss: {c}",
    "step {a} | loss {c} | lr {b}",
    "iter {a}: loss {c}, time 1.0ms, mfu 1.0%",
    "step {a}: train loss {c}, val loss {b}",
    "{a} train {c}",
    "{{'loss': {c}, 'epoch': {a}, 'step': {b}}}",
    "第 {a} 轮 第 {b} 步 损失: {c}",
    "{a},{c}",
]


def _good(tpl: str, i: int) -> str:
    return tpl.format(a=str(i), b=str(i + 1), c=f"{3.0 - 0.1 * i:.2f}")


@pytest.mark.parametrize("tpl", TEMPLATES)
def test_no_crash_on_odd_numbers(tmp_path, tpl):
    # Each odd line is written once, to a file of its own (odd.log in a folder per line), and every reader reads
    # it: writing the same file again 260 times a template cost seconds of waiting (on ext4, replacing a file's
    # contents in place makes the kernel write the old ones out first).
    good = [_good(tpl, i) for i in range(1, 5)]
    paths = []
    for k, (a, b, c) in enumerate(zip(ODD, itertools.cycle(ODD[:7][::-1]), itertools.cycle(["2.5", "1e400", "nan", "1,234.5", "-0"]))):
        p = tmp_path / str(k) / "odd.log"
        p.parent.mkdir()
        p.write_text("\n".join([good[0], tpl.format(a=a, b=b, c=c), *good[1:]]) + "\n")
        paths.append(p)
    for fmt in [None, *[f for f in formats() if f not in ("tensorboard", "lossdoc")]]:
        for p in paths:
            try:
                read_run(p, fmt)
            except LossdocError:
                pass  # a one-line refusal is fine; any other exception is a crash


def test_console_line_beyond_float_range_is_skipped_not_fatal(tmp_path):
    """The line that crashed: epoch and batch 1e400 give step inf; the line is counted, the others are read."""
    p = tmp_path / "train.log"
    lines = [f"Epoch 1/1 | Batch {i}/250 | loss {3.0 - 0.1 * i:.2f}" for i in range(1, 6)]
    lines.insert(2, "Epoch 1e400/250 | Batch 1e400/250 | loss 2.5")
    p.write_text("\n".join(lines) + "\n")
    run = read_run(p)
    assert run.format == "console"
    assert run.batches.step.tolist() == [1, 2, 3, 4, 5]
    assert [w.args for w in run.warnings if w.key == "warn.not_numbers"] == [{"count": 1, "first": 3}]


def test_explain_exits_cleanly_on_odd_numbers(tmp_path, capsys):
    p = tmp_path / "train.log"
    p.write_text(
        "".join(
            f"Epoch {e}, Batch {b}/250, loss {v}\n"
            for e, b, v in [(1, 1, 3.0), ("1e400", "inf", 2.9), (1, 2, "nan"), (1, 3, "1e400"), (1, 4, 2.7), (1, 5, 2.6)]
        )
    )
    code = lossdoc_cli(["explain", str(p), "--json"])  # the CLI's own entry, in this process: anything unexpected would be exit 2
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "Traceback" not in err


def test_thousands_separators():
    assert to_float("1,234.5") == 1234.5
    assert to_float("-12,345,678") == -12345678.0
    assert to_float("1,23") is None and to_float("12,3456") is None  # not thousands: not a number
    assert to_float("-0") == 0.0 and math.copysign(1, to_float("-0")) == -1


def test_thousands_in_console_lines(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"step {s:,} | loss {v} | tokens 1,048,576\n" for s, v in [(1000, 3.1), (2000, 2.9), (3000, 2.8), (4000, 2.75)]))
    run = read_run(p)
    assert run.batches.step.tolist() == [1000, 2000, 3000, 4000]
    assert run.batches.loss.tolist() == [3.1, 2.9, 2.8, 2.75]
