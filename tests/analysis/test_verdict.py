"""The decision procedure (lossdoc/analysis/verdict.py): its table is the one docs/verdicts.md shows, its order is
the documented order, and each row decides on its own evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lossdoc.analysis import diagnose
from lossdoc.analysis.model import VERDICTS
from lossdoc.analysis.verdict import END, RULES, START, table_markdown, with_table
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run

DOC = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"


def test_docs_verdicts_md_holds_the_table_generated_from_the_rules():
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text
    # regenerate with: python scripts/verdict_table.py --write
    assert text.split(START, 1)[1].split(END, 1)[0] == table_markdown()
    assert with_table(text) == text


def test_impossible_values_come_first_then_overfitting_then_the_floor_then_the_trend():
    names = [r.name for r in RULES]
    assert names.index("impossible-value") < names.index("overfitting") < names.index("at-floor") < names.index("still-falling")
    assert names.index("divergence") < names.index("overfitting")
    assert {r.verdict for r in RULES} == set(VERDICTS)
    assert RULES[-1].holds(None, {})  # the last row always decides: every run gets a verdict


def _run(loss, val=None, **facts) -> Run:
    n = len(loss)
    b = BatchSeries.empty()
    run = Run(source="-", format="csv", **facts)
    step = np.arange(1, n + 1, dtype=np.float64)
    run.batches = type(b)(
        step=step,
        epoch=np.full(n, np.nan),
        loss=np.asarray(loss, dtype=np.float64),
        lr=np.full(n, np.nan),
        grad_norm=np.full(n, np.nan),
        tokens=np.full(n, np.nan),
    )
    if val is not None:
        m = len(val)
        e = EpochSeries.empty()
        run.epochs = type(e)(
            epoch=np.arange(1, m + 1, dtype=np.float64),
            step=np.linspace(n / m, n, m),
            train_loss=np.full(m, np.nan),
            val_loss=np.asarray(val, dtype=np.float64),
            val_tokens=np.full(m, np.nan),
        )
    return run


def test_the_diagnosis_names_the_rule_and_the_findings_that_decided_it():
    rng = np.random.default_rng(0)
    nan_run = _run(np.r_[np.linspace(5, 3, 50) + rng.normal(0, 0.02, 50), np.nan])
    d = diagnose(nan_run)
    assert (d.verdict, d.rule, d.decided_by) == ("broken", "impossible-value", ["nonfinite-loss"])
    falling = diagnose(_run(np.linspace(6, 3, 400) + rng.normal(0, 0.02, 400)))
    assert (falling.verdict, falling.rule, falling.decided_by) == ("still-learning", "still-falling", ["progress"])


def test_a_loss_at_ln_v_with_the_data_unknown_says_both_readings_and_is_not_called_converged():
    rng = np.random.default_rng(1)
    v = 10000
    run = _run(np.log(v) + rng.normal(0, 0.001, 2000), vocab_size=v)
    d = diagnose(run)
    assert d.verdict == "inconclusive" and d.rule == "at-ln-v-data-unknown"
    assert d.headline == "headline.inconclusive.ln_v"
    # the same run said to be random ids is the expected plateau, and said to be text is broken
    run.random_data, run.entropy_floor = True, float(np.log(v))
    assert diagnose(run).verdict == "expected-plateau"


def test_a_flat_log_with_nothing_to_compare_says_so_rather_than_too_little():
    # 60 records over thousands of steps is not "too little": what is missing is a reference (evaluations, V, a floor)
    rng = np.random.default_rng(3)
    d = diagnose(_run(2.65 + rng.normal(0, 0.08, 60), vocab_size=None))
    assert d.verdict == "inconclusive" and d.rule == "nothing-to-compare"
    assert d.headline == "headline.inconclusive.nothing_to_compare"
    # a log of three records is too little, and says that
    few = diagnose(_run(np.array([3.0, 2.9, 2.95]), vocab_size=None))
    assert few.rule == "too-little" and few.headline is None  # the verdict's own headline: "Too little in this log ..."
