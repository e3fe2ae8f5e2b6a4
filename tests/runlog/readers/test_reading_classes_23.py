"""Reading classes of the twenty-third held-out set (docs/accuracy.md), each a test that fails before its change: loss
histories under plural names, TensorBoard's CSV download of one scalar, the Trainer's closing metrics file, and an
evaluation repeated at the same step."""

from __future__ import annotations

import json

from lossdoc.analysis import diagnose
from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.readers import read_run

TRAIN = [0.153, 0.087, 0.049, 0.0286, 0.0203]
VAL = [0.1353, 0.1294, 0.1460, 0.1817, 0.1927]


def test_training_losses_and_validation_losses_are_the_curves(tmp_path):
    # class: {"training_losses": [...], "validation_losses": [...], "training_time": "0:44:01"}
    (tmp_path / "losses.json").write_text(json.dumps({"training_losses": TRAIN, "validation_losses": VAL, "training_time": "0:44:01"}))
    run = read_run(tmp_path / "losses.json")
    assert run.epochs.val_loss.tolist() == VAL and run.epochs.train_loss.tolist() == TRAIN
    assert diagnose(run).verdict == "overfitting"


def test_tensorboards_csv_download_reads_its_value_column_as_the_tags_series(tmp_path):
    # class: TensorBoard's "Download CSV" of one scalar, run_<run>-tag-<tag>.csv, "Wall time,Step,Value": the wall time
    # was read as the loss (1.5e9 "nats", broken); the tag names the series
    rows = [(1530525720.1 + 1200 * i, 250 * i, 0.25 + 10.7 * 0.8**i) for i in range(60)]
    body = "Wall time,Step,Value\n" + "".join(f"{t},{s},{v}\n" for t, s, v in rows)
    (tmp_path / "run_.-tag-validation_loss.csv").write_text(body)
    run = read_run(tmp_path / "run_.-tag-validation_loss.csv")
    assert len(run.batches) == 0 and run.epochs.val_loss.tolist() == [v for _, _, v in rows]
    (tmp_path / "run_.-tag-train_loss.csv").write_text(body)
    assert read_run(tmp_path / "run_.-tag-train_loss.csv").batches.loss.tolist() == [v for _, _, v in rows]


def test_the_trainers_closing_metrics_are_final_figures_not_an_error(tmp_path):
    # class: all_results.json (trainer.save_metrics): refused ("one JSON document, but neither ..."); inconclusive now
    metrics = {"epoch": 3.0, "eval_loss": 1.5778, "eval_runtime": 219.9, "train_loss": 1.6924, "train_runtime": 24486.8, "total_flos": 4.7e17}
    for name in ("all_results.json", "train_results.json"):
        (tmp_path / name).write_text(json.dumps(metrics, indent=4))
        run = read_run(tmp_path / name)
        assert run.config["summary"]["train_loss"] == 1.6924 and [w.key for w in run.warnings] == ["warn.hf_results_only"]
        d = diagnose(apply_overrides(run, pretrained=True))
        assert d.verdict == "inconclusive" and d.rule == "no-curve"


def test_an_evaluation_repeated_at_the_same_step_is_one_evaluation(tmp_path):
    # class: a Trainer log_history whose last evaluation is repeated twice at the same step (load_best_model_at_end, a
    # closing trainer.evaluate()): "3 evaluations in a row give exactly 0.0528: the weights are not changing", broken
    hist = [{"step": 500 * (i + 1), "loss": x, "epoch": (i + 1) / 2.5} for i, x in enumerate([0.374, 0.062, 0.037, 0.025, 0.024, 0.0073, 0.0144])]
    hist += [
        {"step": s, "eval_loss": v, "epoch": s / 1250}
        for s, v in ((1250, 0.05297), (2500, 0.05521), (3750, 0.05278), (3750, 0.05278), (3750, 0.05278))
    ]
    hist.sort(key=lambda r: r["step"])
    (tmp_path / "log_history.json").write_text(json.dumps(hist))
    d = diagnose(apply_overrides(read_run(tmp_path / "log_history.json"), pretrained=True))
    assert d.finding("no-learning").status != "fail" and d.verdict in ("converged", "still-learning")


def test_files_with_the_trainers_keys_but_not_its_results_file_are_read_by_their_own_readers(tmp_path):
    # a callback's JSON lines of the Trainer's log dicts, and a script's per-epoch lists beside a train_runtime: the
    # Trainer's results files are known by name only
    recs = [{"loss": 2.0 - 0.05 * i, "step": 10 * i, "eval_runtime": 1.0, "eval_loss": 2.1 - 0.04 * i} for i in range(1, 30)]
    (tmp_path / "log_history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    run = read_run(tmp_path / "log_history.jsonl")
    assert run.format == "jsonl" and len(run.epochs) == 29
    doc = {"train_loss": [2.0, 1.6, 1.3, 1.1, 0.9, 0.8], "eval_loss": [2.0, 1.7, 1.6, 1.65, 1.72, 1.8], "train_runtime": 321}
    (tmp_path / "metrics.json").write_text(json.dumps(doc))
    assert read_run(tmp_path / "metrics.json").epochs.val_loss.tolist() == doc["eval_loss"]


def test_a_keras_tensorboard_download_is_named_by_its_run(tmp_path):
    # Keras's TensorBoard callback names its runs train and validation and the tag epoch_loss
    body = "Wall time,Step,Value\n" + "".join(f"{1.6e9 + i},{i},{2.0 - 0.1 * i}\n" for i in range(12))
    (tmp_path / "run_validation-tag-epoch_loss.csv").write_text(body)
    (tmp_path / "run_train-tag-epoch_loss.csv").write_text(body)
    assert len(read_run(tmp_path / "run_validation-tag-epoch_loss.csv").epochs) == 12
    assert len(read_run(tmp_path / "run_train-tag-epoch_loss.csv").batches) == 12
