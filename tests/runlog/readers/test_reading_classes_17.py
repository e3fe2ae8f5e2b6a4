"""Reading classes of the seventeenth held-out set (docs/accuracy.md), each a test that fails before its change."""

from __future__ import annotations

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import HEAD_BYTES, read_run

BAR = "".join(f"Map: {5 * k:3d}%|{'#' * (k // 2):<10}| {72 * k}/1448 [00:{k:02d}<00:{20 - k:02d}, 6256.56 examples/s]" for k in range(21))
SETUP = "nohup: ignoring input\n" + (BAR + "\n  warnings.warn(\n") * 8 + "trainable params: 4,128,768 || all params: 7,619,745,280\n"


def test_trainer_dicts_after_long_set_up_output_are_read_as_the_curve(tmp_path):
    # class: the first loss lines lie beyond the first look (8 KB), after progress bars whose carriage returns were lost
    losses = [0.616, 0.538, 0.518, 0.5372, 0.5284, 0.5177, 0.4496, 0.5271, 0.5525, 0.4753]
    body = "".join(f"{{'loss': {v}, 'grad_norm': 0.23, 'learning_rate': 1.7e-05, 'epoch': {0.055 * (i + 1):.3f}}}\n" for i, v in enumerate(losses))
    body += "{'eval_loss': 0.4173, 'eval_runtime': 45.1, 'epoch': 0.55}\n"
    f = tmp_path / "sft.log"
    f.write_text(SETUP + body)
    assert len(SETUP.encode()) > HEAD_BYTES
    run = read_run(f)
    assert run.format == "console"
    assert run.batches.loss.tolist() == losses
    assert run.epochs.val_loss.tolist() == [0.4173]


def test_a_nanogpt_log_after_a_long_config_echo_is_read_as_nanogpt(tmp_path):
    echo = "".join(f"Overriding: setting_{i} = {i}\n" for i in range(600))  # a long configuration echo
    iters = "".join(f"iter {i * 10}: loss {4.2 - i / 100:.4f}, time 12.00ms, mfu 1.00%\n" for i in range(30))
    f = tmp_path / "train.log"
    f.write_text(echo + iters)
    assert len(echo.encode()) > HEAD_BYTES
    run = read_run(f)
    assert run.format == "nanogpt" and len(run.batches) == 30


def test_long_set_up_output_with_no_loss_after_it_is_still_refused(tmp_path):
    f = tmp_path / "setup.log"
    f.write_text(SETUP * 3)
    with pytest.raises(LossdocError) as exc:
        read_run(f)
    assert exc.value.key == "error.unknown_format"


def test_the_curve_after_long_set_up_output_gets_its_verdict(tmp_path):
    # batch lines and evaluation lines: two shapes, which the console's sparse last try does not read
    lines = "".join(
        f"step {i * 10} | loss {5.0 - 3.0 * (1 - 0.97**i):.4f}\n" + (f"  -> val loss {2.1 + 0.01 * (i == 199):.4f}\n" if i % 20 == 19 else "")
        for i in range(200)
    )
    f = tmp_path / "train.log"
    f.write_text(SETUP + lines)
    run = read_run(f)
    assert len(run.batches) == 200 and len(run.epochs) == 10
    assert diagnose(run).verdict == "converged"
