"""Diagnosis -> one JSON document (schema lossdoc.diagnosis/1, docs/verdicts.md)."""

from __future__ import annotations

from typing import Any

from lossdoc.analysis.model import Diagnosis, Finding
from lossdoc.i18n import t
from lossdoc.jsonfmt import document
from lossdoc.render.diagnosis import EvalNames, eval_names, explanation, finding_sentence, headline_key
from lossdoc.runlog.run import Run


def _finding(f: Finding, lang: str, names: EvalNames | None) -> dict[str, Any]:
    """A finding as JSON; where the run's log gives the framework's epoch of an evaluation the finding names
    (``args.epoch``, ``args.best_epoch``: lossdoc's evaluation numbers), ``evaluations`` says it under the same name:
    {"best_epoch": {"evaluation": 12, "trainer": "lightning", "trainer_epoch": 2, "step": 340}}."""
    out = {**f.to_dict(), "message": finding_sentence(f, lang, names)}
    if names is not None:
        named = {k: v for k in ("epoch", "best_epoch") if (v := names.json(f.args.get(k))) is not None}
        if named:
            out["evaluations"] = named
    return out


def diagnosis_dict(d: Diagnosis, run: Run, lang: str) -> dict[str, Any]:
    names = eval_names(run)
    out = {
        "schema": "lossdoc.diagnosis/1",
        "source": run.source,
        "format": run.format,
        "lang": lang,
        "verdict": d.verdict,
        "verdict_text": t(f"verdict.{d.verdict}", lang),
        "headline": t(headline_key(d), lang),
        "rule": d.rule,
        "decided_by": d.decided_by,
        "facts": d.facts.to_dict(),
        "findings": [_finding(f, lang, names) for f in d.findings],
        "explanation": explanation(d, lang, names),
        "next_steps": [{"key": k, "message": t(k, lang)} for k in d.next_steps],
        "reader_warnings": [{"key": w.key, "args": w.args, "message": t(w.key, lang, **w.args)} for w in run.warnings],
    }
    # a file of values with no curve (readers/values.py): the values themselves, as data ({"name", "value", "line"}),
    # or several runs' series ({"name", "n", "first", "min", "last"})
    cfg = run.config if isinstance(run.config, dict) else {}
    for key in ("values", "series"):
        if isinstance(cfg.get(key), list):
            out[key] = cfg[key]
    return out


def to_json(d: Diagnosis, run: Run, lang: str) -> str:
    return document(diagnosis_dict(d, run, lang))
