"""explain on the development corpus of real logs, ../shared/wild (46 logs other people committed to public
repositories, each with a careful reader's judgement). Read by path, never copied here; skipped where the corpus is
not beside the checkout (a clean clone in CI). The same cases run through the real CLI in
benchmarks/accuracy.py; here in-process, with the same flags (lossdoc.runlog.overrides.apply_overrides)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.readers import read_run

WILD = Path(__file__).resolve().parents[2].parent / "shared" / "wild"
MANIFEST = WILD / "manifest.json"

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason="../shared/wild is not beside this checkout")


def _facts(flags: str) -> dict:
    """The manifest's flags (--vocab-size N, --pretrained, --from-scratch, --random, --floor X) as overrides."""
    args, out = shlex.split(flags), {}
    for i, a in enumerate(args):
        if a == "--vocab-size":
            out["vocab_size"] = int(args[i + 1])
        elif a == "--floor":
            out["floor"] = float(args[i + 1])
        elif a in ("--pretrained", "--from-scratch"):
            out["pretrained"] = a == "--pretrained"
        elif a == "--random":
            out["random"] = True
    return out


def _verdict(case: dict, with_flags: bool) -> str:
    try:
        run = read_run(WILD / case["path"])
        facts = _facts(case.get("flags", "")) if with_flags else {}
        return diagnose(apply_overrides(run, **facts) if facts else run).verdict
    except LossdocError:
        return "error"


@pytest.mark.parametrize("with_flags,at_least", [(True, 45), (False, 43)])
def test_the_development_corpus_meets_issue_23s_bar(with_flags, at_least):
    cases = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert len(cases) == 46
    misses = {name: v for name, c in cases.items() if (v := _verdict(c, with_flags)) not in c["verdict"].split("|")}
    assert len(cases) - len(misses) >= at_least, misses
