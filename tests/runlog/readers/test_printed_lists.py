"""Losses printed as their framework's scalars, and each loss after a bare number and a colon: classes of the
thirty-eighth and thirty-ninth held-out sets (docs/accuracy.md). A TensorFlow captioning model's ``training_loss.txt``
(``[<tf.Tensor: shape=(), dtype=float32, numpy=1.3171446>, ...]``, what ``print(losses)`` shows of a list of eager
tensors) and an HPN model's ``loss.txt`` (``0: 0.2986`` a line, ``print(f"{epoch}: {loss}")``) were refused as
"cannot tell which kind of log"."""

from __future__ import annotations

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run

LOSSES = [1.3171446, 1.2596035, 1.189564, 1.1553439, 1.1012, 1.0544]


@pytest.mark.parametrize(
    "wrap",
    [
        "<tf.Tensor: shape=(), dtype=float32, numpy={x}>",
        "tensor({x}, grad_fn=<NllLossBackward0>)",
        "tensor({x}, device='cuda:0')",
        "np.float32({x})",
        "np.float64({x})",
        "array({x}, dtype=float32)",
        "tf.Tensor({x}, shape=(), dtype=float32)",
    ],
)
def test_a_printed_list_of_framework_scalars_is_a_list_of_losses(tmp_path, wrap):
    path = tmp_path / "training_loss.txt"
    path.write_text("[" + ", ".join(wrap.format(x=x) for x in LOSSES) + "]\n")
    run = read_run(path)
    assert run.format == "numbers"
    assert run.batches.loss.tolist() == pytest.approx(LOSSES)


def test_the_list_can_wrap_over_lines_and_hold_a_nan(tmp_path):
    path = tmp_path / "train_losses.txt"
    items = [f"<tf.Tensor: shape=(), dtype=float32, numpy={x}>" for x in [*LOSSES, "nan"]]
    path.write_text("[" + ",\n ".join(items) + "]\n")
    run = read_run(path)
    assert run.batches.loss[:-1].tolist() == pytest.approx(LOSSES)
    assert any(e.kind == "nonfinite_loss" for e in run.events)
    assert diagnose(run).verdict == "broken"


def test_a_list_longer_than_the_head_that_detection_reads(tmp_path):
    # detection sees the first 8 KB, which ends inside a scalar: up to the last whole one is judged
    path = tmp_path / "loss.txt"
    values = [2.0 - i * 0.001 for i in range(400)]
    path.write_text("[" + ", ".join(f"<tf.Tensor: shape=(), dtype=float32, numpy={x:.7f}>" for x in values) + "]")
    assert path.stat().st_size > 8192
    run = read_run(path)
    assert run.format == "numbers"
    assert run.batches.loss.tolist() == pytest.approx(values)


def test_each_loss_after_a_bare_number_and_a_colon(tmp_path):
    path = tmp_path / "loss.txt"
    path.write_text("".join(f"{e}: {x}\n" for e, x in enumerate(LOSSES, start=1)))
    run = read_run(path)
    assert run.format == "numbers"
    assert run.batches.step.tolist() == [1, 2, 3, 4, 5, 6]
    assert run.batches.loss.tolist() == pytest.approx(LOSSES)
    assert [w.key for w in run.warnings if w.key.startswith("warn.numbers_counter")] == ["warn.numbers_counter_bare"]


def test_a_clock_is_not_a_counter(tmp_path):
    # "12:30" a line is a time of day, and integers are never losses
    path = tmp_path / "times.txt"
    path.write_text("12:30\n12:45\n13:00\n13:15\n")
    with pytest.raises(LossdocError):
        read_run(path)


def test_a_list_in_a_file_named_for_a_metric_is_no_loss(tmp_path):
    path = tmp_path / "per_class_accuracy.txt"
    path.write_text("".join(f"{i}: {0.95 - 0.01 * i:.4f}\n" for i in range(10)))
    with pytest.raises(LossdocError):
        read_run(path)
