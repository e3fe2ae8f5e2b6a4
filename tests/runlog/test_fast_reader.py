"""The lossdoc.run/1 reader's fast path (msgspec, column by column) gives the same Run as the plain path
(json.loads and num() per line) on the same file, whatever the lines hold (issue 15)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import lossdoc_jsonl

HEADER = json.dumps({"type": "run", "schema": "lossdoc.run/1", "vocab_size": 100, "data": {"kind": "dummy"}})


def batch(step, loss, **extra) -> str:
    rec = {"type": "batch", "epoch": 1, "batch": step, "step": step, "loss": loss, "lr": 0.001, "grad_norm": 0.5, "tokens": 64}
    rec.update(extra)
    return json.dumps(rec)


# Lines a log can hold, ordinary and odd: each must be read the same way by both paths.
ODD_LINES = [
    batch(7, "NaN"),
    batch(8, None),
    batch(9, 1.5, lr="Infinity"),
    batch(10, True),
    batch(11, 2.0, grad_norm=False),
    batch(12, "1.5"),
    batch(13, 2**70),
    batch(14, 10**400),
    batch(15, -0),
    batch(16, 2.5, tokens=None),
    batch(17.9, 3.0),
    batch(-3, 1.0),
    batch(18, 1e308 * 10 if False else 1.7e308),
    batch(19, 2.0, epoch=[1, 2]),
    '{"type": "batch", "step": 20}',
    '{"type": "batch", "loss": 2.0}',
    '{"type":"batch","step":21,"loss":2.0,"loss":3.0}',
    '{"type": "batch", "step": 22, "loss": NaN}',
    '{"type": "batch", "step": 23, "loss": 1e999}',
    '{"type": "batch", "step": 24, "loss": "\\ud800"}',
    '{"type": "batch", "step": 25, "loss": 2.0}\r',
    '{"type": "batch", "step": 26, "loss": 2.0} {"type": "batch", "step": 27, "loss": 2.0}',
    "[1, 2]",
    "5",
    '"text"',
    "null",
    "{}",
    '{"a": 1}',
    "",
    "   ",
    "{not json",
    '{"type": "batch", "step": 28, "loss": 01}',
    json.dumps({"type": "epoch", "epoch": 1, "step": 10, "train_loss": 2.0, "val_loss": 2.1, "val_tokens": 640}),
    json.dumps({"type": "epoch", "epoch": 2, "step": 20, "val_loss": "NaN"}),
    json.dumps({"type": "event", "kind": "resumed", "step": 5, "message": "again"}),
    json.dumps({"type": "end", "status": "completed"}),
    json.dumps({"type": "mystery", "x": 1}),
    '{"type": "batch", "step": 29, "loss": 2.0, "deep": ' + "[" * 50 + "]" * 50 + "}",
    '{"type": "b\\u0061tch", "step": 30, "loss": 2.25}',
    '{"\\u0074ype": "batch", "step": 31, "loss": 2.5}',
    '{"type": "batch", "step": 32, "loss": 2.0, "note": "true or false"}',
]


def _same(a, b) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for name in ("step", "epoch", "loss", "lr", "grad_norm", "tokens"):
        x, y = getattr(a.batches, name), getattr(b.batches, name)
        assert x.shape == y.shape, name
        assert np.array_equal(x, y, equal_nan=True), name
        assert np.array_equal(np.signbit(x), np.signbit(y)), name  # 0.0 and -0.0 alike
    for name in ("epoch", "step", "train_loss", "val_loss", "val_tokens"):
        assert np.array_equal(getattr(a.epochs, name), getattr(b.epochs, name), equal_nan=True), name
    assert [(e.kind, e.message) for e in a.events] == [(e.kind, e.message) for e in b.events]
    assert np.array_equal([e.step for e in a.events], [e.step for e in b.events], equal_nan=True)
    assert [(w.key, w.args) for w in a.warnings] == [(w.key, w.args) for w in b.warnings]
    assert (a.records_read, a.records_skipped, a.status) == (b.records_read, b.records_skipped, b.status)


def _read(path, fast):
    try:
        return lossdoc_jsonl.read(path, fast=fast)
    except LossdocError as exc:  # a log with no batch or evaluation left: the same refusal from both paths
        return exc.key


def _both(path):
    return _read(path, True), _read(path, False)


def _log(tmp_path, lines, tail="\n"):
    p = tmp_path / "run.jsonl"
    p.write_bytes(("\n".join([HEADER, *lines]) + tail).encode("utf-8", errors="surrogatepass"))
    return p


def test_an_ordinary_log_reads_the_same_and_takes_the_fast_path(tmp_path, monkeypatch):
    rng = random.Random(0)
    lines = [batch(s, 9.2 + rng.gauss(0, 0.01)) for s in range(1, 3001)]
    lines.insert(1500, json.dumps({"type": "epoch", "epoch": 1, "step": 1500, "val_loss": 9.21, "val_tokens": 640}))
    lines.append(json.dumps({"type": "end", "status": "completed"}))
    p = _log(tmp_path, lines)
    fast, plain = _both(p)
    _same(fast, plain)
    # the columns hold each record's own values (an independent reading of the file)
    recs = [json.loads(line) for line in p.read_text().splitlines() if '"batch"' in line]
    assert fast.batches.loss.tolist() == [r["loss"] for r in recs]
    assert fast.batches.step.tolist() == [float(r["step"]) for r in recs]
    # and the batch lines did not go through json.loads one by one: only the header, the epoch and the end did
    calls = []
    real = lossdoc_jsonl.json.loads
    monkeypatch.setattr(lossdoc_jsonl.json, "loads", lambda s, *a, **k: calls.append(1) or real(s, *a, **k))
    lossdoc_jsonl.read(p)
    assert len(calls) <= 3


@pytest.mark.parametrize("chunk", [64, 300, 2 * 2**20])
def test_odd_lines_read_the_same_in_any_chunking(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(lossdoc_jsonl, "CHUNK", chunk)
    lines = [batch(s, 2.0 + s / 100) for s in range(1, 7)] + ODD_LINES + [batch(s, 2.0) for s in (33, 34, 6, 35)]
    _same(*_both(_log(tmp_path, lines)))


def test_a_resumed_log_keeps_the_last_record_of_a_step_on_both_paths(tmp_path):
    lines = [batch(s, 3.0) for s in range(1, 50)] + [batch(s, 2.0) for s in range(40, 60)] + [batch(45, "NaN")]
    fast, plain = _both(_log(tmp_path, lines))
    _same(fast, plain)
    assert fast.batches.step.tolist() == list(map(float, range(1, 60)))
    assert fast.batches.loss[43] == 2.0 and math.isnan(fast.batches.loss[44])


def test_a_torn_last_line_and_a_flood_of_empty_objects(tmp_path, monkeypatch):
    monkeypatch.setattr(lossdoc_jsonl, "CHUNK", 256)
    lines = [batch(1, 2.0)] + ["{}"] * 500 + [batch(2, 1.9), "{not json"] * 3 + [batch(3, 1.8)]
    _same(*_both(_log(tmp_path, lines + ['{"type": "batch", "st'], tail="")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, len(ODD_LINES) + 5), min_size=1, max_size=60), chunk=st.sampled_from([48, 200, 4096]))
def test_any_mixture_of_lines_reads_the_same(tmp_path, monkeypatch, picks, chunk):
    monkeypatch.setattr(lossdoc_jsonl, "CHUNK", chunk)
    lines = [ODD_LINES[i] if i < len(ODD_LINES) else batch(100 + k, 1.0 + i / 7) for k, i in enumerate(picks)]
    _same(*_both(_log(tmp_path, lines)))
