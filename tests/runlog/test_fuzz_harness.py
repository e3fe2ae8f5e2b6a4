"""The CI-sized run of scripts/fuzz.py (issue #18): a few hundred derandomised cases (seed 0) of every
format, neighbour file, special file, file name and flag, a share through `python -m lossdoc` in a
subprocess. Every case must keep explain's contract (docs/reliability.md, "Hostile inputs").

Failures the harness finds in code outside this suite's reach are listed in KNOWN with the reason; the
test fails if any other failure appears, and also if a known one stops appearing (then remove it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _harness():
    spec = importlib.util.spec_from_file_location("lossdoc_fuzz", ROOT / "scripts" / "fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow  # a few hundred subprocesses (~17 s); scripts/fuzz.py runs thousands
def test_a_few_hundred_generated_inputs_keep_the_contract():
    fuzz = _harness()
    summary = fuzz.run_cases(300, seed=0, cli_share=0.02, timeout=60.0)
    assert summary["cases"] >= 290
    assert set(summary["kinds"]) >= {"mutated", "neighbour", "special", "filename", "random", "flags"}
    assert summary["through_cli"] >= 3
    failures = summary["failures"]
    assert not failures, "\n".join(f"case {f['case']} [{f['kind']}] {f['detail']} {f['args']}: {f['problem']}: {f['stderr'][:300]}" for f in failures)


def test_the_harness_notices_a_broken_contract(monkeypatch):
    # not vacuous: a reader that raises makes the harness report the cases
    fuzz = _harness()
    from lossdoc.runlog.readers import generic

    def boom(*a, **k):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(generic, "table_to_run", boom)
    summary = fuzz.run_cases(40, seed=3, cli_share=0.0, timeout=60.0)
    assert any("broken on purpose" in f["stderr"] and f["problem"] == "unexpected error" for f in summary["failures"])
    assert fuzz.judge(1, "", "Traceback (most recent call last):\n", []) == "traceback"
    assert fuzz.judge(2, "", "lossdoc: error: a\nb\n", []) == "2 stderr lines"
    assert fuzz.judge(None, "", "", []) == "timeout"
    assert fuzz.judge(0, "{", "", ["--json"]) == "not one JSON document"
    assert fuzz.judge(0, "", "warning\n", []) == "stderr with exit 0"
