"""The trainer_state.json reader decodes log_history an entry at a time (msgspec) into float columns (issue 15:
a dict per entry took 640 MB for a 135 MB state). It must give the Run that json.loads and a dict of batches
gave: that reader, as it was, is the oracle here (``_dict_reader``), on odd, repeated and missing entries."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.runlog.readers import hf_trainer
from lossdoc.runlog.readers._common import NAN, batch_series, epoch_series, to_float


def _num(v):
    x = to_float(v)
    return NAN if x is None else x


def _grad_norm(entry):
    """A gradient norm as the readers keep it since b3ec2df: absent or not a number, NaN; logged as NaN (the float
    or the text "nan"), +inf, kept apart from an absent one (lossdoc/runlog/sanitize.py)."""
    if "grad_norm" not in entry or entry["grad_norm"] is None:
        return NAN
    x = to_float(entry["grad_norm"])
    return NAN if x is None else math.inf if math.isnan(x) else x


def _dict_reader(path):
    """The reader before columns (commit 46aac3c): json.loads, then a dict of batches keyed by int(step)."""
    state = json.loads(path.read_text())
    batches, evals, skipped, dup = {}, [], 0, 0
    for entry in state["log_history"]:
        if not isinstance(entry, dict):
            skipped += 1
            continue
        step = to_float(entry.get("step"))
        epoch = to_float(entry.get("epoch"))
        epoch = NAN if epoch is None else epoch
        if "loss" in entry:
            loss = to_float(entry.get("loss"))
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            dup += int(step) in batches
            batches[int(step)] = (epoch, loss, _num(entry.get("learning_rate")), _grad_norm(entry), NAN)
        if "eval_loss" in entry:
            loss = to_float(entry.get("eval_loss"))
            if step is None or not math.isfinite(step) or loss is None:
                skipped += 1
                continue
            evals.append((0.0 if step == 0 else epoch, step, NAN, loss, NAN))
    config = {k: state[k] for k in hf_trainer._STATE_KEYS if k in state}
    return batch_series(batches), epoch_series(evals), len(state["log_history"]) - skipped, skipped, dup, config


VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 30),
    st.floats(-1, 10, allow_nan=False),
    st.sampled_from(["1.5", "nan", "abc", "", [1], {"a": 1}, 2**70, 1e308]),
)
ENTRY = st.one_of(
    st.dictionaries(st.sampled_from(["step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "other"]), VALUE, max_size=7),
    st.fixed_dictionaries({"step": st.integers(0, 20), "loss": st.floats(0, 10, allow_nan=False), "epoch": st.floats(0, 3, allow_nan=False)}),
    VALUE,  # not an object
)
NAN_TEXT = st.sampled_from(["", "NaN", "1e400"])  # a value msgspec refuses: the whole document, or one entry, goes to json


def _same(a, b):
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(ENTRY, min_size=1, max_size=30),
    odd=NAN_TEXT,
    state_keys=st.dictionaries(st.sampled_from(["global_step", "max_steps", "best_metric", "x"]), VALUE, max_size=3),
)
def test_columns_give_the_dict_readers_run(tmp_path, entries, odd, state_keys):
    text = json.dumps({**state_keys, "log_history": entries})
    if odd:  # one more entry with a loss written as NaN (Python's json writes it) or beyond the float range
        text = text[: text.rindex("]")] + (", " if entries else "") + f'{{"step": 99, "loss": {odd}}}]' + text[text.rindex("]") + 1 :]
    path = tmp_path / "trainer_state.json"
    path.write_text(text)
    batches, epochs, read, skipped, dup, config = _dict_reader(path)
    try:
        run = hf_trainer.read(path)
    except Exception as exc:
        assert not len(batches) and not np.any(~np.isnan(epochs.val_loss)), exc
        return
    for col in ("step", "epoch", "loss", "lr", "grad_norm", "tokens"):
        assert _same(getattr(run.batches, col), getattr(batches, col)), col
    for col in ("epoch", "step", "train_loss", "val_loss", "val_tokens"):
        assert _same(getattr(run.epochs, col), getattr(epochs, col)), col
    assert (run.records_read, run.records_skipped) == (read, skipped)
    warns = {w.key: w.args for w in run.warnings}
    assert warns.get("warn.duplicate_steps") == ({"count": dup} if dup else None)
    assert warns.get("warn.missing_fields") == ({"count": skipped} if skipped else None)
    assert {k: v for k, v in run.config.items()} == config


def test_a_long_run_of_digits_is_found_as_a_regex_finds_it():
    """msgspec reads integers of any length, json.loads refuses more digits than int() converts: such a document
    goes to json.loads whole (one line, as before). The sampled scan must find exactly the runs the plain regex finds."""
    import random
    import re
    import sys

    rng = random.Random(0)
    limit = sys.get_int_max_str_digits()
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(1, 6)):
            parts.append("x" * rng.randint(0, 5000))
            parts.append("7" * rng.choice([rng.randint(0, 5000), limit - 1, limit, limit + 1, limit + 2]))
        text = "".join(parts).encode()
        longest = max((len(run) for run in re.findall(rb"[0-9]+", text)), default=0)  # every run of digits, each once
        assert hf_trainer._long_digit_run(text) == (longest > limit)
