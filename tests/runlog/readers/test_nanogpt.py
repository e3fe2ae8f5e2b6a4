"""nanoGPT-style logs: the lines nanoGPT's train.py prints, from a real small training loop."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import nanogpt, read_run


@pytest.mark.parametrize("name", ["counting_healthy", "random_plateau", "exploding_lr"])
def test_iters_and_evals(fix, name):
    path = fix / "nanogpt" / f"{name}.log"
    text = path.read_text()
    iters = [(int(a), float(b)) for a, b in re.findall(r"^iter (\d+): loss ([\d.]+)", text, re.M)]
    evals = [(int(a), float(b), float(c)) for a, b, c in re.findall(r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+)", text, re.M)]
    run = read_run(path)
    assert run.format == "nanogpt"
    assert run.batches.step.tolist() == [i + 1 for i, _ in iters]  # iteration i's loss is before update i + 1
    assert run.batches.loss.tolist() == [x for _, x in iters]
    assert run.epochs.step.tolist() == [s for s, _, _ in evals]
    assert run.epochs.train_loss.tolist() == [t for _, t, _ in evals]
    assert run.epochs.val_loss.tolist() == [v for _, _, v in evals]
    assert run.epochs.epoch[0] == 0 and run.epochs.step[0] == 0  # nanoGPT evaluates before the first update
    assert run.epochs.epoch.tolist() == list(range(len(evals)))


def test_restart_and_checkpoint_lines(tmp_path):
    p = tmp_path / "train.log"
    p.write_text(
        "step 0: train loss 4.0, val loss 4.1\niter 0: loss 4.0, time 1ms\niter 1: loss 3.9, time 1ms\n"
        "saving checkpoint to out\niter 1: loss 3.8, time 1ms\niter 2: loss nan, time 1ms\n"
    )
    run = nanogpt.read(p)
    assert run.batches.step.tolist() == [1, 2, 3]
    assert run.batches.loss[1] == 3.8 and np.isnan(run.batches.loss[2])
    assert [w.key for w in run.warnings] == ["warn.steps_restart"]
    assert [(e.kind, e.step) for e in run.events] == [("checkpoint_saved", 0.0)]


def test_malformed(fix):
    with pytest.raises(LossdocError) as ei:
        read_run(fix / "malformed" / "nanogpt.log")
    assert ei.value.key == "error.nanogpt_no_lines"
