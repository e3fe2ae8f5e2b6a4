"""Reading classes found in the sixteenth held-out set (docs/accuracy.md), each a class of real logs, not one file:
a headerless table that prints a loss beside its perplexity (RWKV's train_log.txt, word-LM loops), alone or after
the commands that ran it in a README's code block."""

import math

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.generic import ppl_header

LOSSES = [4.875856, 4.028621, 3.801625, 3.66307, 3.578974, 3.510906, 3.462345, 3.412196, 3.376724, 3.336911, 3.313411, 3.295895]


def _rwkv_lines():
    # RWKV-LM's train_log.txt: mini-epoch, loss, perplexity, learning rate, date, time, mini-epoch again
    return [f"{i} {x:.6f} {math.exp(x):.4f} {0.0006 - i * 3e-6:.8f} 2025-04-24 02:{23 + 5 * i:02d}:42.481256 {i}" for i, x in enumerate(LOSSES)]


def test_a_loss_beside_its_perplexity_names_both_columns(tmp_path):
    f = tmp_path / "train_log.txt"
    f.write_text("\n".join(_rwkv_lines()) + "\n")
    run = read_run(f)
    assert run.batches.loss.tolist() == LOSSES
    assert run.batches.epoch.tolist() == list(range(1, len(LOSSES) + 1))  # mini-epochs counted from 0, read from 1
    keys = {w.key for w in run.warnings}
    assert "warn.ppl_columns" in keys and "warn.table_preamble" not in keys  # the table starts at the first line
    assert diagnose(run).verdict == "still-learning"


def test_the_table_after_the_commands_that_ran_it_in_a_readme(tmp_path):
    page = [
        "## How to train",
        "",
        "```",
        "# train",
        "sh ./demo-training-run.sh",
        "",
        "your train_log.txt should look like:",
        *_rwkv_lines(),
        "```",
        "",
        "| a | b |",
    ]
    f = tmp_path / "README.md"
    f.write_text("\n".join(page) + "\n")
    run = read_run(f)
    assert run.batches.loss.tolist() == LOSSES
    assert "warn.table_preamble" in {w.key for w in run.warnings}


def test_columns_that_are_not_a_loss_and_its_perplexity_are_not_named_so():
    rows = [[str(i), f"{2.0 + i / 10:.3f}", f"{5 + i}", "x"] for i in range(5)]  # no column is e^ of another
    assert ppl_header(rows) is None
    # the perplexity of a loss printed to 2 decimals still matches (rounding), a loss above 30 nats is no loss
    assert ppl_header([[str(i), f"{x:.2f}", f"{math.exp(x):.1f}"] for i, x in enumerate((3.14, 2.72, 2.5))]) == ["epoch", "loss", "ppl"]
    assert ppl_header([[str(i), f"{x:.1f}", f"{math.exp(x):.6g}"] for i, x in enumerate((31.0, 32.0, 33.0))]) is None


def test_a_table_without_a_perplexity_is_refused_as_before(tmp_path):
    f = tmp_path / "table.txt"
    f.write_text("".join(f"{i} {2.0 + i / 10:.3f} {5 + i} 2025-01-0{i + 1} 10:00\n" for i in range(5)))
    with pytest.raises(LossdocError):
        read_run(f)


def test_a_console_that_prints_loss_and_ppl_and_a_headed_table_stay_what_they_were(tmp_path):
    # word_language_model's console: words between the numbers, the console reader's (not a headerless table)
    lines = ["Namespace(lr=20, epochs=3)"]
    lines += [f"| epoch {e:3d} | {b:5d}/ 2983 batches | lr 20.00 | ms/batch 12.1 | loss {x:5.2f} | ppl {math.exp(x):8.2f}" for e, b, x in
              [(1, 200, 7.64), (1, 400, 6.87), (1, 600, 6.49), (2, 200, 5.9), (2, 400, 5.8), (2, 600, 5.7)]]  # fmt: skip
    f = tmp_path / "log.md"
    f.write_text("\n".join(lines) + "\n")
    assert read_run(f).format == "console"
    # a table with a header whose rows hold a loss and its perplexity: the header names the columns
    t = tmp_path / "metrics.csv"
    t.write_text("epoch,step,train_loss_step,train_perplexity_step\n" + "".join(f"0,{50 * i},{x},{math.exp(x)}\n" for i, x in enumerate(LOSSES, 1)))
    run = read_run(t)
    assert run.batches.loss.tolist() == LOSSES and "warn.ppl_columns" not in {w.key for w in run.warnings}


def test_a_progress_bars_description_names_the_epoch(tmp_path):
    # tqdm(desc=f"Processing Epoch {epoch:02d}"): each epoch's bar ends at the same batch count; the description says
    # which epoch it is (before, every bar landed on one step and overwrote the last)
    losses = [5.861, 5.44, 5.21, 4.778, 4.463, 4.381, 4.134, 4.126, 3.9, 3.49, 3.604, 3.192, 3.34, 2.771]
    bars = [f"Processing Epoch {e:02d}: 100%|##########| 1819/1819 [14:27<00:00,  2.10it/s, loss={x:.3f}]" for e, x in enumerate(losses)]
    f = tmp_path / "train.log"
    f.write_text("\n\n".join(bars) + "\n")
    run = read_run(f)
    assert run.batches.loss.tolist() == losses
    assert diagnose(run).verdict == "still-learning"
    # "Best epoch: 7" is no progress bar: not an epoch read from a summary
    from lossdoc.runlog.readers.console import classify

    assert classify("Training Epoch") == "epoch" and classify("Best epoch") is None
