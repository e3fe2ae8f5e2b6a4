"""Loss histories kept as one JSON document by hand-written training scripts (json.dump of Python lists): the shapes
found in public repositories' loss_history.json files. Each test writes its own file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run


def _write(tmp_path, doc, indent=None):
    p = tmp_path / "loss_history.json"
    p.write_text(json.dumps(doc, indent=indent), encoding="utf-8")
    return p


def test_rows_of_step_train_val_are_read_by_position(tmp_path):
    rows = [[200 * (i + 1), 6.0 - 0.1 * i, 6.05 - 0.08 * i] for i in range(20)]
    run = read_run(_write(tmp_path, rows, indent=2))
    assert run.format == "json"
    # a row with both losses is an evaluation with its training loss beside it (as a Keras history's row is)
    e = run.epochs
    assert np.allclose(e.step, [r[0] for r in rows]) and np.allclose(e.train_loss, [r[1] for r in rows])
    assert np.allclose(e.val_loss, [r[2] for r in rows])
    assert [w.key for w in run.warnings] == ["warn.json_by_position"] and run.warnings[0].args["k"] == 3


def test_rows_of_step_loss_and_rows_that_are_not_a_history(tmp_path):
    run = read_run(_write(tmp_path, [[i, 3.0 - 0.01 * i] for i in range(1, 50)]))
    assert len(run.batches) == 49 and len(run.epochs) == 0
    (tmp_path / "b").mkdir()
    # a step that goes backwards, or rows of 4: not read by position (refused in one line, as any unknown shape)
    from lossdoc.errors import LossdocError

    for doc in ([[2, 1.0, 1.1], [1, 0.9, 1.0]], [[1, 2.0, 2.1, 2.2], [2, 1.9, 2.0, 2.1]]):
        try:
            read_run(_write(tmp_path / "b", doc))
        except LossdocError:
            continue
        raise AssertionError(f"{doc} was read")


def test_a_dict_of_train_and_val_lists_of_equal_length(tmp_path):
    doc = {"steps": list(range(0, 5000, 100)), "train": list(np.linspace(4, 2, 50)), "val": list(np.linspace(4.1, 2.2, 50))}
    run = read_run(_write(tmp_path, doc))
    assert len(run.epochs) == 50 and run.epochs.step[-1] == 4900 and np.isfinite(run.epochs.train_loss).all()
    assert diagnose(run).verdict in ("still-learning", "converged")


def test_a_shorter_val_list_is_spread_over_the_training_steps(tmp_path):
    doc = {"train": list(np.linspace(5.7, 2.2, 300)), "val": list(np.linspace(5.5, 2.4, 10))}
    run = read_run(_write(tmp_path, doc, indent=4))
    assert len(run.batches) == 300 and len(run.epochs) == 10
    assert np.allclose(run.epochs.step, [round((k + 1) * 300 / 10) for k in range(10)])
    assert [w.key for w in run.warnings] == ["warn.json_spread"]


def test_records_whose_values_sit_in_a_container_object(tmp_path):
    # {"epoch": 0, "metrics": {"loss": ..., "eval_loss": ..., "step": ...}}: the names inside the container are read
    # ("metrics/loss" is the loss), and a name that is already a loss name outside any container still wins
    doc = {
        "config": {"model_name": "Helsinki-NLP/opus-mt-ha-en"},
        "epoch_stats": [
            {
                "epoch": e,
                "metrics": {"loss": 4.6 - 0.2 * e, "grad_norm": 16.0, "step": 109.2 * (e + 1), "eval_loss": 4.7 - 0.15 * e, "eval_bleu": 5.0 + e},
            }
            for e in range(10)
        ],
    }
    run = read_run(_write(tmp_path, doc, indent=2))
    assert len(run.epochs) == 10
    assert run.epochs.val_loss.tolist() == pytest.approx([4.7 - 0.15 * e for e in range(10)])
    assert run.epochs.train_loss.tolist() == pytest.approx([4.6 - 0.2 * e for e in range(10)])
    assert run.epochs.step.tolist() == pytest.approx([109.2 * (e + 1) for e in range(10)])
    # a container name is not stripped from a name that means something else ("eval/loss" is validation, not "loss")
    from lossdoc.runlog.readers._common import TRAIN_NAMES, VAL_NAMES, pick

    assert pick(["eval/loss", "metrics/accuracy"], TRAIN_NAMES) is None
    assert pick(["logs/loss", "loss"], TRAIN_NAMES) == "loss" and pick(["metrics/eval_loss"], VAL_NAMES) == "metrics/eval_loss"
