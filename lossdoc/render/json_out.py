"""Diagnosis -> one JSON document (schema lossdoc.diagnosis/1, docs/verdicts.md)."""

from __future__ import annotations

from typing import Any

from lossdoc.analysis.model import Diagnosis
from lossdoc.i18n import t
from lossdoc.jsonfmt import document
from lossdoc.render.diagnosis import explanation, finding_sentence, headline_key
from lossdoc.runlog.run import Run


def diagnosis_dict(d: Diagnosis, run: Run, lang: str) -> dict[str, Any]:
    return {
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
        "findings": [{**f.to_dict(), "message": finding_sentence(f, lang)} for f in d.findings],
        "explanation": explanation(d, lang),
        "next_steps": [{"key": k, "message": t(k, lang)} for k in d.next_steps],
        "reader_warnings": [{"key": w.key, "args": w.args, "message": t(w.key, lang, **w.args)} for w in run.warnings],
    }


def to_json(d: Diagnosis, run: Run, lang: str) -> str:
    return document(diagnosis_dict(d, run, lang))
