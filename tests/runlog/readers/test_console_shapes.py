"""Console shapes found in the fifth held-out set (docs/accuracy.md), each a class of real logs, not one file:
PyTorch-tutorial counters in brackets, phase names without the word "loss", a step counter that starts again at
each epoch, and Hugging Face's fractional epochs on evaluations that name no step."""

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run


def test_bracketed_counters_as_pytorch_tutorials_print_them(tmp_path):
    log = tmp_path / "loss_log.txt"
    log.write_text("".join(f"Epoch [{e}/250], Loss: {0.5 / e:.4f}\n" for e in range(1, 31)))
    run = read_run(log)
    assert run.format == "console"
    assert run.batches.loss.tolist() == pytest.approx([round(0.5 / e, 4) for e in range(1, 31)])
    assert run.batches.epoch.tolist() == list(range(1, 31))
    # and the step counter in brackets: epoch 2, step [100/600] is step 700
    log2 = tmp_path / "steps.txt"
    log2.write_text("".join(f"Epoch [{e}/3], Step [{s}/600], Loss: {3 - e * 0.3 - s / 1000:.4f}\n" for e in (1, 2, 3) for s in (200, 400, 600)))
    run2 = read_run(log2)
    assert run2.batches.step.tolist() == [200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]


def test_phase_names_without_the_word_loss(tmp_path):
    log = tmp_path / "train_log.txt"
    rows = [(1, 3.572, 3.603), (250, 2.225, 2.279), (500, 1.696, 1.856), (750, 1.476, 1.678)]
    log.write_text(
        "Loading corpus ... | vocab 65 | 1,003,855 train / 111,539 val tokens\n"
        + "".join(f"  step {s:5d} | train {t:.3f} | val {v:.3f} | {s // 10}s elapsed\n" for s, t, v in rows)
    )
    run = read_run(log)
    assert run.epochs.val_loss.tolist() == [r[2] for r in rows]
    assert run.epochs.train_loss.tolist() == [r[1] for r in rows]
    # an integer after a phase name is a count, not a loss; and a line that names a loss keeps it
    other = tmp_path / "counts.txt"
    other.write_text("".join(f"step {s} | train 1000 | val 200 | loss {4 - s / 100:.3f}\n" for s in range(1, 20)))
    run2 = read_run(other)
    assert run2.batches.loss.tolist() == pytest.approx([4 - s / 100 for s in range(1, 20)]) and not len(run2.epochs)


def test_a_step_counter_that_starts_again_at_each_epoch_is_laid_end_to_end(tmp_path):
    # the Annotated Transformer prints "Epoch Step" counted within each epoch, under an "[Epoch N] Training" line
    lines = []
    for e in range(3):
        lines.append(f"[Epoch {e}] Training ====")
        lines += [
            f"Epoch Step: {s:6d} | Accumulation Step: {s // 10 + 1:3d} | Loss: {5 - e - s / 1000:6.2f} | Tokens / Sec: 120.0"
            for s in (1, 41, 81, 121)
        ]
    log = tmp_path / "training_log.txt"
    log.write_text("\n".join(lines) + "\n")
    run = read_run(log)
    assert run.batches.loss.size == 12  # no epoch's batches overwritten by the next one's
    assert np.all(np.diff(run.batches.step) > 0)
    assert run.batches.loss[-1] == pytest.approx(2.88)


def test_fractional_epochs_place_each_evaluation_after_the_batches_before_it(tmp_path):
    # Hugging Face prints 'epoch': 0.11 on log lines and 1.0 on evaluations; no line names a step
    lines = []
    for e in range(1, 11):
        lines += [
            f"　　{{'loss': {3.0 - 0.15 * e - 0.01 * j:.4f}, 'grad_norm': 2.0, 'learning_rate': 1e-05, 'epoch': {e - 1 + 0.1 * j + 0.03:.2f}}}"
            for j in range(1, 10)
        ]
        lines.append(f"　　{{'eval_loss': {2.0 + 0.03 * max(0, e - 4) - 0.05 * min(e, 4):.4f}, 'eval_runtime': 17.9, 'epoch': {float(e)}}}")
    log = tmp_path / "loss.txt"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(log)
    assert len(run.epochs) == 10 and np.isfinite(run.epochs.step).all()
    d = diagnose(run)
    assert d.verdict == "overfitting"  # validation up 0.18 from epoch 4 while training falls: the training level is known


def test_a_validation_value_printed_alone_under_its_heading(tmp_path):
    # print(run_epoch(...)) under a "[Epoch N] Validation ====" heading (the Annotated Transformer): the value alone on
    # its line, in a tuple or a tensor, is that epoch's validation loss
    lines = []
    for e in range(3):
        lines.append(f"[Epoch {e}] Training ====")
        lines += [f"Epoch Step: {s:6d} | Loss: {4 - e - s / 1000:6.2f}" for s in (1, 41, 81)]
        lines += [f"[Epoch {e}] Validation ====", f"(tensor({3.5 - e / 2:.4f}), <__main__.TrainState object at 0x7f>)"]
    log = tmp_path / "training_log.txt"
    log.write_text("\n".join(lines) + "\n")
    run = read_run(log)
    assert run.epochs.val_loss.tolist() == [3.5, 3.0, 2.5]
    assert run.epochs.epoch.tolist() == [1.0, 2.0, 3.0]  # the epochs were counted from 0
    assert run.batches.loss.size == 9
    # a heading that names no epoch: the value follows the last batch read; a bare number needs a heading naming a loss
    plain = tmp_path / "plain.txt"
    plain.write_text(
        "".join(f"step {s} | loss {4 - s / 100:.3f}\n" + ("Validation loss:\n  %.4f\n" % (4.1 - s / 100) if s % 5 == 0 else "") for s in range(1, 21))
    )
    run3 = read_run(plain)
    assert run3.epochs.val_loss.tolist() == pytest.approx([4.05, 4.0, 3.95, 3.9]) and run3.epochs.step.tolist() == [5, 10, 15, 20]
    # a number alone is read only right under a validation heading: not under a training one, not after a sentence
    other = tmp_path / "other.txt"
    other.write_text(
        "".join(f"step {s} | loss {4 - s / 100:.3f}\n" for s in range(1, 20))
        + "Training\n2.5000\nThe validation set has 1000 rows\n2.4000\nValidation\nstep 20 | loss 3.800\nnote\nnote\nnote\n2.3000\n"
    )
    run2 = read_run(other)
    assert not len(run2.epochs)
    # under "Evaluating..." a bare number may be an accuracy (print(accuracy)): not read as a loss
    acc = tmp_path / "acc.log"
    acc.write_text(
        "".join(f"epoch {e} batch {b} loss {3 - e / 5 - b / 100:.3f}\n" for e in range(1, 5) for b in range(1, 6))
        + "".join(f"Evaluating...\n0.{60 + e}\n" for e in range(1, 5))
    )
    assert not len(read_run(acc).epochs)


# ---------------------------------------------------------------- blocks of an epoch's figures naming no epoch
# Class of the thirty-third held-out set (docs/accuracy.md): a loop printing "train accu: X / valid loss: Y / valid accu:
# Z" once an epoch, no epoch number anywhere, 29 times; every evaluation fell on one unplaced key and the last one won:
# one evaluation, "too little in this log" (judged converged: 46.2 -> 16.6 by epoch 9, then flat).


def _blocks(vals, train_word="train accu"):
    return "".join(f"{train_word}: {40 - i:.4f}\nvalid loss: {v:.6f}\nvalid accu: {0.1 * (i % 7):.4f}\n\n" for i, v in enumerate(vals))


def test_blocks_of_figures_naming_no_epoch_are_read_in_order(tmp_path):
    vals = [46.19, 45.83, 45.01, 43.35, 39.75, 33.33, 25.77, 20.16, 16.61, 16.80, 16.5, 16.4, 16.6, 16.3]
    (tmp_path / "val_loss.txt").write_text(_blocks(vals), encoding="utf-8")
    run = read_run(tmp_path / "val_loss.txt")
    assert list(run.epochs.epoch) == list(range(1, len(vals) + 1))
    np.testing.assert_allclose(run.epochs.val_loss, vals)
    assert [w.key for w in run.warnings] == ["warn.evals_counted"] and run.warnings[0].args == {"count": len(vals)}


def test_one_stepless_evaluation_before_training_is_still_step_0(tmp_path):
    # the rule the blocks leave alone: one evaluation before the first training line is the model before its first update
    lines = ["initial val loss: 3.20"] + [f"step {s} loss {3.2 - s / 500:.3f}" for s in range(10, 210, 10)]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(tmp_path / "train.log")
    assert list(run.epochs.step) == [0.0] and not any(w.key == "warn.evals_counted" for w in run.warnings)


def test_blocks_printed_before_a_run_keep_only_the_last_unplaced(tmp_path):
    # a report of two blocks and then a run: the blocks cannot be placed on the run's steps
    text = "valid loss: 3.30\nvalid loss: 3.10\n" + "".join(f"step {s} loss {3.0 - s / 1000:.3f}\n" for s in range(10, 210, 10))
    (tmp_path / "train.log").write_text(text, encoding="utf-8")
    run = read_run(tmp_path / "train.log")
    assert not any(w.key == "warn.evals_counted" for w in run.warnings)
    assert not np.any(run.epochs.step < 0) and list(run.epochs.val_loss) == [3.10]  # unplaced, as before blocks


def test_a_report_of_several_models_a_block_each_is_no_epochs(tmp_path):
    # an n-gram report: one dev perplexity per model order, among other text (the thirty-third set's Darija report,
    # judged inconclusive): the blocks are models, not epochs
    text = "".join(
        f"  --- training {n}-gram model ---\n    fit time       : {3.0 * n:.1f} s\n    dev  perplexity: {p:.2f}\n    saved -> ar_{n}gram.pkl\n\n"
        for n, p in ((1, 4672.09), (2, 794.57), (3, 470.2))
    )
    (tmp_path / "train_log.txt").write_text(text, encoding="utf-8")
    run = read_run(tmp_path / "train_log.txt")
    assert not any(w.key == "warn.evals_counted" for w in run.warnings) and len(run.epochs) <= 1
    assert diagnose(run).verdict == "inconclusive"


def test_a_test_line_after_the_blocks_does_not_overwrite_the_first_epoch(tmp_path):
    vals = [2.40, 2.10, 1.95, 1.91, 1.88, 1.873, 1.868, 1.871, 1.866, 1.869]
    (tmp_path / "log.txt").write_text("".join(f"valid loss: {v}\n" for v in vals) + "test loss: 1.2\n", encoding="utf-8")
    run = read_run(tmp_path / "log.txt")
    placed = run.epochs.val_loss[np.isfinite(run.epochs.step)]
    np.testing.assert_allclose(placed, vals)  # the test figure stays unplaced, as a report's


def test_a_nan_evaluation_in_the_blocks_is_an_epoch_of_its_own(tmp_path):
    (tmp_path / "log.txt").write_text(
        "".join(f"valid loss: {v}\n" for v in ["2.40", "2.10", "1.95", "1.91", "nan", "1.88", "1.86"]), encoding="utf-8"
    )
    run = read_run(tmp_path / "log.txt")
    assert list(run.epochs.epoch) == [1, 2, 3, 4, 5, 6, 7] and np.isnan(run.epochs.val_loss[4])
