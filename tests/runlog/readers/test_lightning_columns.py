"""The Lightning metrics.csv reader keeps float columns, a row at a time (issue 15: a 100 MB metrics.csv took
3 GB as a dict per row). It must give the Run the dict-per-row reader gave: that reader, as it was, is the
oracle here (``_dict_reader``), on tables of sparse, odd, repeated and short rows."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.runlog.readers import lightning_csv
from lossdoc.runlog.readers._common import NAN, batch_series, epoch_series
from lossdoc.runlog.readers.generic import _value, load_csv

COLUMNS = ["epoch", "step", "train_loss_step", "train_loss_epoch", "val_loss", "lr-AdamW", "grad_norm"]


def _dict_reader(path):
    """The reader before columns (commit 2d24cd6), for the default columns: a dict per row, a dict of batches."""
    table = load_csv(path)
    batches: dict[int, tuple[float, float, float, float, float]] = {}
    evals: dict[tuple[int, int], list[float]] = {}
    bad: list[int] = []
    dup = 0
    seen_train = False
    for row, lineno in zip(table.rows, table.lines):
        step = _value(row, "step", bad, lineno)
        epoch = _value(row, "epoch", bad, lineno)
        tr = _value(row, "train_loss_step", bad, lineno)
        tre = _value(row, "train_loss_epoch", bad, lineno)
        va = _value(row, "val_loss", bad, lineno)
        if step is None or not math.isfinite(step) or (tr is None and tre is None and va is None):
            continue
        ep = NAN if epoch is None else epoch + 1.0
        if tr is not None:
            s = int(step) + 1
            dup += s in batches
            lr = _value(row, "lr-AdamW", bad, lineno)
            gn = _value(row, "grad_norm", bad, lineno)
            batches[s] = (ep, tr, NAN if lr is None else lr, NAN if gn is None else gn, NAN)
            seen_train = True
        if va is not None or tre is not None:
            if va is not None and step == 0 and not seen_train and tre is None:
                key, out = (-1, 0), [0.0, 0.0, NAN, NAN]
            else:
                key, out = (int(epoch) if epoch is not None and math.isfinite(epoch) else -2, int(step)), [ep, step + 1.0, NAN, NAN]
            cur = evals.setdefault(key, out)
            if tre is not None:
                cur[2] = tre
            if va is not None:
                cur[3] = va
    return batch_series(batches), epoch_series([(e[0], e[1], e[2], e[3], NAN) for e in evals.values()]), bad, dup, len(table.rows)


CELL = st.one_of(
    st.just(""),
    st.integers(0, 40).map(str),
    st.floats(0, 10, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["nan", "inf", "-inf", "abc", " 2 ", "1e400", "-1"]),
)
ROW = st.lists(CELL, min_size=0, max_size=len(COLUMNS) + 2)  # short rows, and one cell too many


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=40), twice=st.sampled_from([None, "step", "train_loss_step", "lr-AdamW"]))
def test_columns_give_the_dict_readers_run(tmp_path, rows, twice):
    """``twice``: a column named twice (its cell is the last one a row has)."""
    path = tmp_path / "metrics.csv"
    body = "\n".join(",".join(r) if r else "," for r in rows)
    header = COLUMNS[:3] + [twice] + COLUMNS[3:] if twice else COLUMNS
    path.write_text(",".join(header) + "\n" + body + "\n")
    try:
        want = _dict_reader(path)
    except Exception as exc:  # the same refusal, then
        try:
            lightning_csv.read(path)
        except Exception as got:
            assert type(got) is type(exc) and str(got) == str(exc)
            return
        raise AssertionError(f"the dict reader refused ({exc}), the column reader did not") from None
    batches, epochs, bad, dup, n = want
    try:
        run = lightning_csv.read(path)
    except Exception as exc:
        assert not len(batches) and not np.any(~np.isnan(epochs.val_loss) | ~np.isnan(epochs.train_loss)), exc
        return
    for col in ("step", "epoch", "loss", "lr", "grad_norm", "tokens"):
        assert _same(getattr(run.batches, col), getattr(batches, col)), col
    for col in ("epoch", "step", "train_loss", "val_loss", "val_tokens"):
        assert _same(getattr(run.epochs, col), getattr(epochs, col)), col
    warns = {w.key: w.args for w in run.warnings}
    assert warns.get("warn.not_numbers") == ({"count": len(bad), "first": bad[0]} if bad else None)
    assert warns.get("warn.duplicate_steps") == ({"count": dup} if dup else None)
    assert run.records_read == n


def test_a_large_table_is_read_as_columns(tmp_path):
    """200,000 rows: the same Run as the dict reader, duplicates (a resumed run) included."""
    rng = np.random.default_rng(0)
    lines = [",".join(COLUMNS)]
    for s in list(range(100_000)) + list(range(90_000, 190_000)):
        lines.append(f"{s // 1000},{s},{3 + rng.normal(0, 0.1):.5f},,,0.001,")
        if s % 1000 == 999:
            lines.append(f"{s // 1000},{s},,3.1,3.2,,")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(lines) + "\n")
    batches, epochs, _, dup, n = _dict_reader(path)
    run = lightning_csv.read(path)
    assert dup == 10_000 and {w.key: w.args for w in run.warnings} == {"warn.duplicate_steps": {"count": dup}}
    for col in ("step", "epoch", "loss", "lr", "grad_norm"):
        assert _same(getattr(run.batches, col), getattr(batches, col)), col
    assert _same(run.epochs.val_loss, epochs.val_loss) and run.records_read == n
