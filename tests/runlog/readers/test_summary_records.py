"""One record of final figures, read as a page of values (inconclusive), not refused. Classes of the twenty-ninth and
thirty-third held-out sets (docs/accuracy.md): a character model's ``metrics.json`` written at the end of its run
(``{"step": 999, "train_loss": 1.95, "val_loss": 2.03, ...}``) was refused ("neither a set of equal-length arrays nor
a list of records"); a noisy-labels run's dump of one batch's per-sample losses ending ``loss_mean: 1.6365`` was
refused as no log."""

from __future__ import annotations

import json

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.values import values_in

METRICS = {
    "dataset": "tinyshakespeare",
    "num_params": 3208960,
    "step": 999,
    "train_loss": 1.9531879425048828,
    "val_loss": 2.031393527984619,
    "val_perplexity": 7.624704197607763,
    "model_config": {"vocab_size": 65, "n_layer": 4},
}


def test_a_json_object_of_final_figures_is_a_page_of_values(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(METRICS, indent=2), encoding="utf-8")
    run = read_run(path)
    assert run.format == "values"
    values = {v["name"]: v["value"] for v in run.config["values"]}
    assert values["train loss"] == pytest.approx(1.9531879425048828)
    assert values["val loss"] == pytest.approx(2.031393527984619)
    assert diagnose(run).verdict == "inconclusive"


def test_a_json_object_with_no_loss_in_it_is_still_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"lr": 0.001, "epochs": 10, "model": {"layers": 4}}), encoding="utf-8")
    with pytest.raises(LossdocError) as err:
        read_run(path, fmt="json")
    assert err.value.key == "error.json_shape"


def test_a_json_object_with_a_named_column_flag_is_not_a_page(tmp_path):
    # a column named on the command line asks for a table: the object is none, and the refusal says so
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(METRICS, indent=2), encoding="utf-8")  # (on one line it is one JSON Lines record)
    with pytest.raises(LossdocError) as err:
        read_run(path, train_col="train_loss")
    assert err.value.key == "error.json_shape"


def test_a_loss_named_with_its_statistic_is_the_loss():
    found = values_in(["       3.2238, 1.2128], device='cuda:0', grad_fn=<SumBackward1>), loss_mean: 1.636504888534546", "val loss_avg: 2.1"])
    assert [(v["name"], v["value"]) for v in found] == [("loss mean", 1.636504888534546), ("val loss avg", 2.1)]
    assert values_in(["loss_every: 10.5", "loss_meaning: 2.5"]) == []


def test_a_dump_of_per_sample_losses_with_their_mean_is_one_value(tmp_path):
    lines = [
        "Loss: tensor([1.5017, 1.4541, 1.7289, 2.3377,",
        "        0.7230, 1.3891], device='cuda:0', grad_fn=<SumBackward1>), loss_mean: 1.636504888534546",
    ]
    path = tmp_path / "losses.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(path)
    assert [v["value"] for v in run.config["values"]] == [1.636504888534546]
    assert diagnose(run).verdict == "inconclusive"


def test_a_curve_keyed_by_step_is_read_as_the_curve_not_as_final_figures(tmp_path):
    # pandas' to_json orient "columns" with steps for its index (tests/runlog/readers/test_json_tables.py)
    path = tmp_path / "metrics.json"
    doc = {"train_loss": {"0": 3.0, "100": 2.6, "200": 2.4}, "val_loss": {"0": 3.1, "200": 2.5}, "best_val_loss": 2.4}
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    run = read_run(path)
    assert run.format == "json"
    # a row with both losses is an evaluation with its training level (step 0: before any update)
    assert run.batches.step.tolist() == [100] and run.batches.loss.tolist() == [2.6]
    assert run.epochs.step.tolist() == [0, 200] and run.epochs.val_loss.tolist() == [3.1, 2.5]
    assert run.epochs.train_loss.tolist() == [3.0, 2.4]


@pytest.mark.parametrize(
    "doc",
    [{"losses": {"train": [3.0, 2.6, 2.4], "val": [3.1, 2.5]}, "final_val_loss": 2.4}],
    ids=["arrays-beside-a-figure"],
)
def test_a_json_object_that_holds_a_curve_is_not_called_final_figures(tmp_path, doc):
    # a curve in a shape no reader knows is refused (the user can say which format it is), not read as its figures
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    with pytest.raises(LossdocError) as err:
        read_run(path)
    assert err.value.key == "error.json_shape"
