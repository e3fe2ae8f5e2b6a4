"""Loss histories kept as one JSON document by hand-written training scripts (json.dump of Python lists): the shapes
found in public repositories' loss_history.json files. Each test writes its own file."""

from __future__ import annotations

import json

import numpy as np

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
