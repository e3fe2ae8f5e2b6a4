"""A training loop's tqdm progress bar as a log: its postfix carries the loss (the twenty-third held-out set's SFT run,
docs/accuracy.md). Each test fails before its change."""

from __future__ import annotations

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers._common import LINE_CAP


def _bar(u: int, total: int, loss: float | None) -> str:
    post = f", loss {loss:.4f}" if loss is not None else ""
    pct = 100 * u // total
    return f"SFT: {pct:3d}%|{'#' * (pct // 10):10s}| {u}/{total} [00:{u % 60:02d}<01:00, 12.05s/it{post}]"


def _updates(total: int, every: int, losses) -> list[str]:
    """A bar drawn at every step, its postfix set to the loss every ``every`` steps (tqdm's set_postfix)."""
    out, loss = [_bar(0, total, None)], None
    for u in range(1, total + 1):
        if u % every == 0:
            loss = losses(u)
        out.append(_bar(u, total, loss))
    return out


def test_updates_whose_carriage_returns_were_lost_are_read_one_record_each(tmp_path):
    # class: every update of the bar on one line (the log kept no \r): read as one record, 6.053 (inconclusive)
    updates = _updates(375, 10, lambda u: 2.0 + 4.0 * 0.985**u)
    (tmp_path / "sft.log").write_text("Training...\n" + "".join(updates) + "\nDone!\n", encoding="utf-8")
    run = read_run(tmp_path / "sft.log")
    assert run.batches.step.tolist() == [float(u) for u in range(10, 371, 10)]
    assert abs(run.batches.loss[-1] - round(2.0 + 4.0 * 0.985**370, 4)) < 1e-9
    assert diagnose(run).verdict in ("still-learning", "converged")


def test_a_line_of_updates_longer_than_the_line_cap_is_read_too(tmp_path):
    updates = _updates(4000, 10, lambda u: 2.0 + 4.0 * 0.999**u)
    text = "".join(updates)
    assert len(text) > 2 * LINE_CAP
    (tmp_path / "sft.log").write_text(text + "\n", encoding="utf-8")
    run = read_run(tmp_path / "sft.log")
    assert run.batches.step.size == 400 and run.batches.step[-1] == 4000.0


def test_redraws_between_the_postfix_updates_are_not_records(tmp_path):
    # class: a postfix set every 10 steps, drawn at every step: 9 of 10 records repeated the last loss, and 5 or more
    # identical losses in a row read as a constant output (broken)
    updates = _updates(375, 10, lambda u: 2.0 + 4.0 * 0.985**u)
    (tmp_path / "sft.log").write_text("\r".join(updates) + "\n", encoding="utf-8")
    run = read_run(tmp_path / "sft.log")
    assert run.batches.step.size == 37
    assert any(w.key == "warn.bar_redraws" and w.args["every"] == 10 for w in run.warnings)
    assert diagnose(run).verdict != "broken"


def test_a_loss_that_never_changes_on_a_bar_is_kept_record_by_record(tmp_path):
    # a constant output drawn at every step is no redraw pattern: every record stays, and the constant is found
    updates = [_bar(u, 200, 9.2103) for u in range(1, 201)]
    (tmp_path / "train.log").write_text("\r".join(updates) + "\n", encoding="utf-8")
    run = read_run(tmp_path / "train.log")
    assert run.batches.step.size == 200 and not any(w.key == "warn.bar_redraws" for w in run.warnings)


def test_redraws_are_found_on_each_epochs_own_bar(tmp_path):
    # a bar per epoch (375 updates each, the loss set every 10 of them): the global step's residues differ from epoch to
    # epoch, the bar's own counter's do not (a review: 1,098 records and "the model is dead" before)
    lines = []
    for e in range(3):
        for u in range(1, 376):
            loss = 2.0 + 4.0 * 0.995 ** (375 * e + u - u % 10)
            lines.append(f"Epoch {e + 1}: {100 * u // 375:3d}%|#####     | {u}/375 [00:10<00:10, 9.98it/s, loss={loss:.4f}]")
    (tmp_path / "train.log").write_text("\r".join(lines) + "\n", encoding="utf-8")
    run = read_run(tmp_path / "train.log")
    # each bar: its first update (a new number) and one every 10 after
    assert run.batches.step.size == 3 * 38 and diagnose(run).verdict != "broken"


def test_a_log_of_regular_records_gets_no_redraw_warning(tmp_path):
    # Keras prints one bar a line at each epoch's end (938/938): regular, but nothing is redrawn, so nothing is said
    lines = [f"Epoch {e}/12\n938/938 [==============================] - 10s 10ms/step - loss: {2.0 * 0.8**e:.4f}" for e in range(1, 13)]
    (tmp_path / "keras.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(tmp_path / "keras.log")
    assert run.batches.step.size == 12 and not any(w.key == "warn.bar_redraws" for w in run.warnings)


def test_a_bar_on_one_line_beside_an_evaluation_is_recognised_as_a_log(tmp_path):
    updates = _updates(200, 1, lambda u: 2.0 + 3.0 * 0.98**u)
    (tmp_path / "train.log").write_text("".join(updates) + "\neval loss: 3.21\n", encoding="utf-8")
    run = read_run(tmp_path / "train.log")
    assert run.format == "console" and run.batches.step.size == 200
