"""Evaluations named as the training framework numbers them (issue 25, item 8): a Lightning or transformers log keeps
each evaluation's own epoch (trainer_epoch), and every renderer names the evaluation by it and its step; a log
without it reads exactly as before ("epoch 7")."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lossdoc.analysis import diagnose
from lossdoc.i18n import catalogs
from lossdoc.render.charts import chart_data, legend
from lossdoc.render.diagnosis import EvalNames, epoch_phrase, eval_names, explanation, finding_sentence
from lossdoc.render.html import html_report
from lossdoc.render.json_out import diagnosis_dict
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run

V = 64


def _run(trainer: str | None = "lightning", named: bool = True) -> Run:
    """160 steps on random tokens, 8 evaluations every 20 steps, two per Lightning epoch (val_check_interval=0.5):
    evaluation k is Lightning's epoch (k - 1) // 2. The best validation is evaluation 7: Lightning epoch 3, step 140."""
    steps = np.arange(1, 161, dtype=float)
    loss = math.log(V) + 2.0 * np.exp(-steps / 10) + np.random.default_rng(0).normal(0, 0.02, steps.size)
    nan = np.full(steps.size, np.nan)
    batches = BatchSeries(steps, np.ceil(steps / 40), loss, np.full(steps.size, 1e-3), nan, np.full(steps.size, 1024.0))
    ev = np.arange(1, 9, dtype=float)
    val = math.log(V) + np.exp(-ev * 2) + np.array([0, 0, 0, 0, 0, 0, -0.001, 0.0005])
    epochs = EpochSeries(ev, ev * 20, np.full(8, np.nan), val, np.full(8, 8192.0))
    run = Run(source="x/run.jsonl", format="lossdoc", vocab_size=V, entropy_floor=math.log(V), random_data=True, batches=batches, epochs=epochs)
    run.batch_tokens = 1024.0
    if named:
        run.trainer_epochs = {int(k): float((k - 1) // 2) for k in ev}
        run.trainer = trainer
    return run


def _sentences(run: Run, lang: str) -> dict[str, str]:
    d = diagnose(run)
    names = eval_names(run)
    out = {f.code: finding_sentence(f, lang, names) for f in d.findings if f.code in ("floor", "overfitting")}
    out["explanation"] = " ".join(explanation(d, lang, names))
    return out


def test_a_lightning_run_names_its_best_validation_by_lightnings_epoch_and_step():
    en, zh = _sentences(_run(), "en"), _sentences(_run(), "zh")
    assert en["floor"].startswith("Best val 4.1579 (Lightning epoch 3, global step 140) is ")
    assert "from its best (4.1579, Lightning epoch 3, global step 140)" in en["overfitting"]
    assert "The best validation loss is 4.1579 (Lightning epoch 3, global step 140)" in en["explanation"]
    assert "epoch 7" not in " ".join(en.values())  # lossdoc's evaluation number is never called an epoch
    assert zh["floor"].startswith("最佳验证损失 4.1579（Lightning 的 epoch 3，全局第 140 步）")
    assert "最佳验证损失是 4.1579（Lightning 的 epoch 3，全局第 140 步）" in zh["explanation"]


def test_a_log_without_trainer_epochs_reads_as_before():
    en, zh = _sentences(_run(named=False), "en"), _sentences(_run(named=False), "zh")
    assert en["floor"].startswith("Best val 4.1579 (epoch 7) is ") and "(4.1579, epoch 7)" in en["overfitting"]
    assert "The best validation loss is 4.1579 (epoch 7)" in en["explanation"]
    assert zh["floor"].startswith("最佳验证损失 4.1579（第 7 轮）") and "（4.1579，第 7 轮）" in zh["overfitting"]
    assert eval_names(_run(named=False)) is None


def test_the_transformers_trainer_and_an_unknown_writer_have_their_own_words():
    assert "(Trainer epoch 3, global step 140)" in _sentences(_run("transformers"), "en")["floor"]
    assert "（Trainer 的 epoch 3，全局第 140 步）" in _sentences(_run("transformers"), "zh")["floor"]
    assert "(the trainer's epoch 3, step 140)" in _sentences(_run(None), "en")["floor"]
    names = EvalNames("transformers", {2: 1.5}, {})  # the many-run table keeps no series: no step to name
    assert epoch_phrase(2, "en", names) == "Trainer epoch 1.5" and epoch_phrase(2, "zh", names) == "Trainer 的 epoch 1.5"
    assert epoch_phrase(3, "en", names) == "epoch 3" and epoch_phrase("-", "en", names) == "epoch -"  # not named: its number


def test_json_gives_the_framework_epoch_beside_the_evaluation_number():
    run = _run()
    doc = diagnosis_dict(diagnose(run), run, "en")
    floor = next(f for f in doc["findings"] if f["code"] == "floor")
    assert floor["args"]["epoch"] == 7  # the analysis's own number is unchanged
    assert floor["evaluations"] == {"epoch": {"evaluation": 7, "trainer": "lightning", "trainer_epoch": 3.0, "step": 140.0}}
    over = next(f for f in doc["findings"] if f["code"] == "overfitting")
    assert over["evaluations"]["best_epoch"]["trainer_epoch"] == 3.0
    plain = _run(named=False)
    assert all("evaluations" not in f for f in diagnosis_dict(diagnose(plain), plain, "en")["findings"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_and_the_html_report_name_the_best_evaluation_as_the_framework_does(lang):
    run = _run()
    d = diagnose(run)
    words = dict(legend(chart_data(run, d), lang))
    plain_run = _run(named=False)
    plain = dict(legend(chart_data(plain_run, diagnose(plain_run)), lang))
    if lang == "en":
        assert words["best"] == "best Lightning epoch 3, global step 140: validation 4.1579" and plain["best"] == "best epoch 7: validation 4.1579"
        assert words["val"] == "validation loss per evaluation" and plain["val"] == "validation loss per epoch"
    else:
        assert words["best"] == "最佳验证损失（Lightning 的 epoch 3，全局第 140 步）：4.1579" and plain["best"] == "最佳验证损失（第 7 轮）：4.1579"
    html = html_report(run, d, chart_data(run, d), lang)
    assert 'data-epoch="7" data-trainer-epoch="3"' in html and "data-trainer-epoch" not in html_report(
        plain_run, diagnose(plain_run), chart_data(plain_run, diagnose(plain_run)), lang
    )


def test_the_overfit_mark_names_the_validation_minimum_by_the_framework_epoch():
    run = _run()
    val = np.array(run.epochs.val_loss)
    val[4:] = val[3] + np.array([0.2, 0.4, 0.6, 0.8])  # validation rises after evaluation 4 (Lightning epoch 1, step 80)
    train = np.array(run.batches.loss)
    train[80:] -= np.linspace(0, 1.0, train.size - 80)  # while training loss keeps falling
    run = dataclasses.replace(run, epochs=dataclasses.replace(run.epochs, val_loss=val), batches=dataclasses.replace(run.batches, loss=train))
    d = diagnose(run)
    assert d.finding("overfitting").status == "fail", d.finding("overfitting")
    words = dict(legend(chart_data(run, d), "en"))
    assert words["overfit"] == "overfitting from Lightning epoch 1, global step 80 (validation minimum)"


def test_a_stretch_of_evaluations_is_counted_in_evaluations_not_epochs():
    from lossdoc.analysis.model import Finding

    f = Finding("progress", "ok", "f.progress.settled_evals", {"span": 3, "change": 0.001, "se": 0.01})
    names = eval_names(_run())
    assert finding_sentence(f, "en", names).startswith("Over the last 3 evaluations the validation loss changed")
    assert finding_sentence(f, "zh", names).startswith("最后 3 次评估里验证损失")
    assert finding_sentence(f, "en").startswith("Over the last 3 epochs the validation loss changed")  # as before
    assert finding_sentence(f, "zh").startswith("最后 3 轮里验证损失")


def test_compare_counts_a_framework_run_in_its_own_epochs():
    from lossdoc.render.report import compare_rows

    items = [(run, diagnose(run)) for run in (_run(), _run("transformers"), _run(named=False))]
    # 8 evaluations: Lightning's epochs 0-3 are 4 epochs; the Trainer's epoch 3.0 is 3; without trainer_epoch, 8
    assert [row["values"]["epochs"] for row in compare_rows(items, "en")] == [4.0, 3.0, 8.0]


@pytest.mark.parametrize("trainer", [None, "lightning"])
def test_a_findings_own_count_of_evaluations_is_never_replaced_by_a_span(trainer):
    # "{evals}" is a count in some sentences (the log's evaluations, the end window's): the span phrase has its own
    # placeholder, so "4 records read: 0 batches, 4 evaluations" never becomes "- epochs evaluations"
    d = diagnose(_run(trainer))
    names = eval_names(_run(trainer)) if trainer else None
    for f in d.findings:
        if isinstance(f.args.get("evals"), int) and "{evals}" in catalogs()["en"][f.key]:
            text = finding_sentence(f, "en", names)
            assert f"{f.args['evals']} evaluations" in text, (f.key, text)
            assert "epochs evaluations" not in text
