"""Training events carry a message key and its arguments; the English sentence is kept in the log."""

from __future__ import annotations

import math

from lossdoc.i18n import t
from lossdoc.runlog.events import event_record, event_text


def test_the_record_holds_key_args_and_the_english_sentence():
    rec = event_record(
        "nonfinite_loss", 23, "train.event.nonfinite_loss", {"value": math.nan, "epoch": 2, "batch": 3, "step": 23}, epoch=2, batch=3, value=math.nan
    )
    assert (rec["type"], rec["kind"], rec["step"], rec["key"]) == ("event", "nonfinite_loss", 23, "train.event.nonfinite_loss")
    assert rec["epoch"] == 2 and math.isnan(rec["value"])  # the record's own columns stay
    assert rec["message"] == t("train.event.nonfinite_loss", "en", value="nan", epoch=2, batch=3, step=23)


def test_the_event_is_said_in_the_reader_s_language_with_numbers_and_verdicts_shown():
    rec = event_record(
        "stopped", 40, "train.event.stopped", {"stop_on": "broken", "verdict": "broken", "findings": ["divergence", "spikes"], "step": 40}
    )
    zh = event_text(rec, "zh")
    assert zh == t("train.event.stopped", "zh", stop_on="broken", verdict=t("verdict.broken", "zh"), findings="divergence, spikes", step=40)
    assert "divergence, spikes" in event_text(rec, "en")
    grad = event_record("nonfinite_grad", 7, "train.event.nonfinite_grad", {"value": 1234.56789, "step": 7})
    assert "1234.5679" in event_text(grad, "en")


def test_records_written_before_events_had_keys_are_shown_by_their_message():
    old = {"type": "event", "kind": "resumed", "step": 5, "message": "resumed from checkpoints/last.pt at epoch 1"}
    assert event_text(old, "zh") == t("train.event.other", "zh", kind="resumed", message=old["message"])
    unknown = {"type": "event", "kind": "x", "step": 1, "message": "m", "key": "train.event.no_such", "args": {}}
    assert event_text(unknown, "en") == t("train.event.other", "en", kind="x", message="m")
