"""Reading classes found in the thirteenth held-out set (docs/accuracy.md), each a class of real logs, not one file:
a loss named in a sentence about its position, the validation phase named alone beside a named loss, a console log
whose few loss lines lie between long set-up output, and the loss named as the error Theano-era loops minimise."""

import json

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import HEAD_BYTES, read_run
from lossdoc.runlog.readers._common import train_by_measure, val_by_measure


def _train(run):
    """The training losses, where the reader put them: the batches, or beside each evaluation on the same line."""
    return run.batches.loss.tolist() if len(run.batches) else run.epochs.train_loss.tolist()


@pytest.mark.parametrize(
    "template",
    [
        "The loss of epoch{e}is:tf.Tensor({x}, shape=(), dtype=float32)",  # TensorFlow, printed without spaces
        "Loss at epoch {e}: {x}",
        "average loss for epoch {e} is {x}",
        "Training loss after epoch {e} = {x}",
    ],
)
def test_a_loss_named_in_a_sentence_about_its_epoch(tmp_path, template):
    losses = [round(8.0 - 0.1 * e, 4) for e in range(40)]
    log = tmp_path / "training_loss.txt"
    log.write_text("".join(template.format(e=e, x=x) + "\n" for e, x in enumerate(losses)))
    run = read_run(log)
    assert run.format == "console"
    assert _train(run) == pytest.approx(losses)
    epochs = run.batches.epoch.tolist() if len(run.batches) else run.epochs.epoch.tolist()
    # the number after "epoch" (a 0-based count may be read as completed epochs), not the loss, nor 0 on every line
    assert epochs[0] in (0, 1) and epochs == [epochs[0] + e for e in range(40)]


def test_a_validation_sentence_is_a_validation_loss(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(
        "".join(f"Loss at step {s}: {5 - s / 1000:.3f}\nValidation loss after step {s} = {5.1 - s / 1100:.3f}\n" for s in range(100, 1100, 100))
    )
    run = read_run(log)
    assert run.batches.loss.tolist() == pytest.approx([round(5 - s / 1000, 3) for s in range(100, 1100, 100)])
    assert run.epochs.val_loss.tolist() == pytest.approx([round(5.1 - s / 1100, 3) for s in range(100, 1100, 100)])


def test_the_validation_phase_named_alone_beside_a_named_loss(tmp_path):
    rows = [(0, 4.12, 3.53), (100, 3.16, 2.97), (200, 3.25, 2.93), (300, 3.21, 2.91), (400, 3.02, 2.88), (500, 3.21, 2.87)]
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {s} | elapsed {s / 100:.2f}m | loss: {t} | val: {v}\n" for s, t, v in rows))
    run = read_run(log)
    assert _train(run) == [r[1] for r in rows]
    assert run.epochs.val_loss.tolist() == [r[2] for r in rows]
    assert run.epochs.step.tolist() == [r[0] for r in rows]
    # six evaluations that fall at every one: enough to say so (before, none were read: "too little to judge")
    assert diagnose(run).verdict in ("still-learning", "converged")
    # a validation accuracy has its own name and stays out
    acc = tmp_path / "acc.log"
    acc.write_text("".join(f"step {s} | loss: {t} | val_acc: 0.{s // 100 + 1}\n" for s, t, _ in rows))
    assert not len(read_run(acc).epochs)


def test_a_console_log_with_two_evaluations_between_long_set_up_output(tmp_path):
    # a speedrun smoke test: an evaluation at step 0 and at the end, thousands of bytes of timings, warnings and
    # settings between them, and W&B's summary after
    noise = "[rank0]: W0601 torch/_dynamo/convert_frame.py:1743 hit config.recompile_limit (8) " + "x" * 200 + "\n"
    lines = ["MuonH mode=scale_invariant lr=0.018\n", "step:0/125 val_loss:10.82583 train_time:0.000s step_avg:nanms\n"]
    lines += [f"step:{s}/125 train_time:{2 * s:.3f}s step_avg:1952.96ms\n" + (noise if s % 3 == 0 else "") for s in range(1, 126)]
    lines += ["step:125/125 val_loss:5.19007 train_time:244.120s step_avg:1952.96ms\n", "wandb: speedrun/final_best_val_loss 5.19007\n"]
    log = tmp_path / "smoke.log"
    log.write_text("".join(lines))
    assert log.stat().st_size > HEAD_BYTES  # the second evaluation lies beyond the first look
    run = read_run(log)
    assert run.format == "console"
    assert run.epochs.val_loss.tolist() == [10.82583, 5.19007]
    assert run.epochs.step.tolist() == [0, 125]
    assert diagnose(run).verdict == "inconclusive"  # two evaluations say it learns, not how the curve ends


def test_loss_lines_of_different_shapes_in_prose_are_not_a_curve(tmp_path):
    # the console's last try reads loss lines of one shape only: a training loss in one sentence, a validation loss in
    # another make no curve. They are a page of values (readers/values.py): no series, inconclusive for want of a curve
    text = "We trained for a while.\n" * 400 + "The first train loss 9.1 was high.\n" + "Notes: step 900 gave val loss 3.2 and accuracy 0.4\n"
    f = tmp_path / "notes.txt"
    f.write_text(text)
    run = read_run(f)
    assert run.format == "values" and not len(run.batches) and not len(run.epochs)
    assert [(v["name"], v["value"], v["line"]) for v in run.config["values"]] == [("first train loss", 9.1, 401), ("val loss", 3.2, 402)]
    d = diagnose(run)
    assert (d.verdict, d.rule) == ("inconclusive", "no-curve")


def test_the_error_theano_era_loops_minimise_is_read_as_the_loss(tmp_path):
    doc = {
        "epochs": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
        "batches": list(range(100, 1100, 100)),
        "train_errs": [3.21, 2.9, 2.7, 2.55, 2.45, 2.37, 2.3, 2.25, 2.2, 2.16],
        "valid_errs": [3.07, 2.85, 2.66, 2.52, 2.43, 2.36, 2.3, 2.26, 2.22, 2.19],
    }
    f = tmp_path / "train_log.json"
    f.write_text(json.dumps(doc))
    run = read_run(f)
    assert _train(run) == doc["train_errs"]
    assert run.epochs.val_loss.tolist() == doc["valid_errs"]
    assert {w.key for w in run.warnings} >= {"warn.loss_by_measure", "warn.val_by_measure"}


def test_an_error_rate_beside_a_named_loss_is_not_its_validation_loss():
    # beside a training loss, "val_error" is as likely a classifier's error rate: not read as the validation loss
    assert val_by_measure(["epoch", "val_error"], "train_loss") is None
    assert val_by_measure(["epoch", "valid_errs"], "train_errs") == "valid_errs"
    assert val_by_measure(["epoch", "val_cost"], "train_loss") == "val_cost"
    # a named loss wins over the error; the error only when nothing else names a loss
    assert train_by_measure(["train_err", "train_nll"]) == "train_nll"
    assert train_by_measure(["train_err", "time_cost"]) == "train_err"
    assert train_by_measure(["cost"]) == "cost"


def test_one_loss_line_among_set_up_output_is_a_run_of_one_point(tmp_path):
    # a fine-tune of one epoch: its arguments, its data loading, one loss line ("::" between name and value), its test
    log = tmp_path / "finetune.log"
    log.write_text(
        "args: {'train': 'data/sst-train.txt', 'epochs': 1, 'lr': 2e-05}\nload 8544 data from data/sst-train.txt\n"
        "save the model to finetune-1-2e-05.pt\nepoch 0: train loss :: 1.696, train acc :: 0.412, dev acc :: 0.391\n"
        "load model from finetune-1-2e-05.pt\ndev acc :: 0.391\ntest acc :: 0.390\n"
    )
    run = read_run(log)
    assert run.format == "console" and _train(run) == [1.696]
    assert diagnose(run).verdict == "inconclusive"


def test_final_losses_one_a_line_are_read_in_order_and_judge_nothing(tmp_path):
    f = tmp_path / "perplexity.txt"
    f.write_text(
        "Perplexity of model_base: 4623.76 loss: 8.4390\nPerplexity of model_pre: 51.35 loss: 3.9369\nperplexity of model_large: 160.64 loss: 5.0791"
    )
    run = read_run(f)
    assert _train(run) == [8.439, 3.9369, 5.0791]
    assert diagnose(run).verdict == "inconclusive"


def test_a_held_out_phase_named_alone_is_the_validation_loss(tmp_path):
    rows = [(e, 35.0 / e + 5, 27.0 / e + 5.1) for e in range(1, 29)]
    log = tmp_path / "pretrain.log"
    log.write_text("".join(f"[pretrain] epoch {e:3d}/40  train={t:.4f}  heldout={v:.4f}  lr=1.50e-04\n" for e, t, v in rows))
    run = read_run(log)
    assert run.epochs.val_loss.tolist() == pytest.approx([round(v, 4) for _, _, v in rows])


@pytest.mark.parametrize(
    "line",
    [
        "Epoch {e}/20 loss: {t:.4f} acc: 0.62 val: {a:.4f}",  # an accuracy named once, its validation value bare
        "Epoch {e}: loss {t:.4f}, accuracy: train 0.90 val {a:.4f}",
        "epoch {e} loss {t:.4f} val: {p:.1f}%",
        "step {e} | loss {t:.4f} | val {p:.1f} ppl",
    ],
)
def test_a_bare_validation_value_beside_another_measure_is_not_the_validation_loss(tmp_path, line):
    log = tmp_path / "train.log"
    log.write_text("".join(line.format(e=e, t=2.0 - 0.05 * e, a=0.6 + 0.01 * e, p=60 + e) + "\n" for e in range(1, 21)))
    run = read_run(log)
    assert not len(run.epochs) or not np.isfinite(run.epochs.val_loss).any()
    assert diagnose(run).verdict == "still-learning"  # not an accuracy's rise read as overfitting


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config.yaml", "training:\n  lr: 3e-4\n  loss: 1.0\n"),
        ("insurance.txt", "Net loss: 0.35M\n"),
        ("changelog.txt", "v1.2\n - Fix: loss at step 0 = nan when fp16 is on\n"),  # a NaN alone is no reading
        ("test_model.py", "def test():\n    assert loss == 2.3026  # ln(10)\n"),
        ("requirements.txt", "numpy==2.1\nloss-landscapes==3.1\n"),
    ],
)
def test_the_last_try_does_not_claim_a_text_that_is_no_log(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(LossdocError):
        read_run(f)


def test_a_sentence_with_a_final_loss_is_a_page_of_one_value_not_a_curve(tmp_path):
    # the console's last try does not claim it; the very last (readers/values.py) reads its one value: inconclusive
    f = tmp_path / "notes.txt"
    f.write_text("Train with the default config.\nThe final loss: 0.35 on CIFAR-10 after tuning.\n")
    run = read_run(f)
    assert run.format == "values" and not len(run.batches) and not len(run.epochs)
    assert [(v["name"], v["value"], v["line"]) for v in run.config["values"]] == [("final loss", 0.35, 2)]
    assert diagnose(run).rule == "no-curve"


def test_sentence_positions_with_thousands_a_total_or_an_epoch_and_words_before_them(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("".join(f"Loss at step {s:,} of 20,000: {3 - s / 20000:.4f}\n" for s in range(500, 10500, 500)))
    run = read_run(log)
    assert run.batches.step.tolist() == list(range(500, 10500, 500)) and len(run.batches) == 20
    log2 = tmp_path / "log2.txt"
    log2.write_text("".join(f"Saving checkpoint, here is the loss at epoch {e}: {1 - e / 40:.3f}\n" for e in range(1, 16)))
    run2 = read_run(log2)
    assert _train(run2) == pytest.approx([round(1 - e / 40, 3) for e in range(1, 16)])
    epochs2 = run2.batches.epoch.tolist() if len(run2.batches) else run2.epochs.epoch.tolist()
    assert epochs2 == list(range(1, 16))  # the epoch is read, not glued to the words before it
    log3 = tmp_path / "log3.txt"
    log3.write_text("".join(f"Loss at batch {b} of epoch {e}: {2 - e / 10 - b / 1000:.4f}\n" for e in (1, 2) for b in (100, 200, 300)))
    run3 = read_run(log3)
    assert run3.batches.epoch.tolist() == [1, 1, 1, 2, 2, 2] and len(run3.batches) == 6
