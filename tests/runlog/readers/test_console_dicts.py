"""Console logs whose lines are printed Python dicts or JSON objects, as the Hugging Face Trainer prints its
logs to stdout: quoted names are read as names, and the Trainer's closing summary is skipped."""

import pytest

from lossdoc.runlog.readers import read_run

TRAINER_STDOUT = """\
***** Running training *****
  Num examples = 1000
{'loss': 3.2512, 'learning_rate': 4.5e-05, 'epoch': 0.25}
{'loss': 2.8031, 'learning_rate': 4.0e-05, 'epoch': 0.5}
{'loss': 2.6120, 'learning_rate': 3.5e-05, 'grad_norm': 1.25, 'epoch': 0.75}
{'loss': 2.5004, 'learning_rate': 3.0e-05, 'epoch': 1.0}
{'eval_loss': 2.6403, 'eval_runtime': 3.21, 'eval_samples_per_second': 31.2, 'epoch': 1.0}
{'loss': 2.4217, 'learning_rate': 2.5e-05, 'epoch': 1.25}
{'loss': 2.3555, 'learning_rate': 2.0e-05, 'epoch': 1.5}
{'loss': 2.3020, 'learning_rate': 1.5e-05, 'epoch': 1.75}
{'loss': 2.2871, 'learning_rate': 1.0e-05, 'epoch': 2.0}
{'eval_loss': 2.5811, 'eval_runtime': 3.19, 'eval_samples_per_second': 31.3, 'epoch': 2.0}
{'train_runtime': 120.5, 'train_samples_per_second': 16.6, 'train_steps_per_second': 1.04, 'train_loss': 2.5667, 'epoch': 2.0}
"""


def test_the_trainers_printed_dicts_are_read(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(TRAINER_STDOUT)
    run = read_run(log)
    assert run.format == "console"
    assert run.batches.loss.tolist() == [3.2512, 2.8031, 2.6120, 2.5004, 2.4217, 2.3555, 2.3020, 2.2871]  # no summary mean
    assert run.batches.lr[0] == pytest.approx(4.5e-05) and run.batches.grad_norm[2] == pytest.approx(1.25)
    assert sorted(run.epochs.val_loss.tolist()) == [2.5811, 2.6403]


def test_json_objects_printed_among_other_console_text_are_read(tmp_path):
    # not a JSON Lines file (other text on the lines), so the console reader reads the quoted names
    log = tmp_path / "train.log"
    log.write_text("starting\n" + "".join(f'{{"step": {s}, "loss": {4.0 - s / 100:.3f}, "lr": 0.001}} 1200 tok/s\n' for s in range(10, 110, 10)))
    run = read_run(log)
    assert run.format == "console"
    assert run.batches.step.tolist() == [float(s) for s in range(10, 110, 10)]
    assert run.batches.loss[-1] == pytest.approx(3.0) and run.batches.lr[0] == pytest.approx(0.001)


def test_a_paste_of_the_trainers_dict_lines_alone_is_read_as_a_console_log(tmp_path):
    # no other text: the first line opens a brace, but a printed Python dict is not JSON Lines
    log = tmp_path / "paste.txt"
    log.write_text("\n".join(ln for ln in TRAINER_STDOUT.splitlines() if ln.startswith("{")) + "\n")
    run = read_run(log)
    assert run.format == "console" and run.batches.loss.size == 8 and run.epochs.val_loss.size == 2


def test_a_quoted_label_before_a_colon_does_not_swallow_the_next_name():
    from lossdoc.runlog.readers.console import _line_facts

    assert _line_facts("Phase 'train': step 10 loss 2.3") == {"step": (10.0, None), "train": (2.3, None)}
    assert _line_facts("Saving 'best': step 10 val loss 2.3") == {"step": (10.0, None), "val": (2.3, None)}
    assert _line_facts("{'train/loss': 1.5, 'step': 3}") == {"train": (1.5, None), "step": (3.0, None)}
