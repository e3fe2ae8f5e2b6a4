"""explain's short view (issue 24): the findings that decided the verdict, never a row that argues against it."""

import io
from pathlib import Path

from rich.console import Console

from lossdoc.analysis import diagnose
from lossdoc.analysis.model import Diagnosis, Facts, Finding
from lossdoc.render.diagnosis import deciding_findings, render_diagnosis
from lossdoc.runlog.readers import read_run

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def _diagnosis(verdict, findings):
    return Diagnosis(verdict=verdict, findings=findings, facts=Facts(), next_steps=[])


def _f(code, status, key):
    return Finding(code=code, status=status, key=key, args={})


PLATEAU = [
    _f("log", "ok", "f.log.ok"),
    _f("uniform-lock", "ok", "f.uniform.ok"),  # "the outputs are not uniform": argues against a plateau of random data
    _f("floor", "ok", "f.floor.near"),
    _f("overfitting", "warn", "f.overfit.memorising_slight"),
    _f("spikes", "skipped", "f.spikes.none"),
]


def test_without_decided_by_the_fallback_is_fail_and_warn_rows_and_the_verdicts_own_check():
    d = _diagnosis("expected-plateau", PLATEAU)
    assert [f.code for f in deciding_findings(d)] == ["floor", "overfitting"]
    converged = _diagnosis("converged", [*PLATEAU, _f("progress", "ok", "f.progress.settled")])
    assert [f.code for f in deciding_findings(converged)] == ["overfitting", "progress"]


def test_decided_by_is_used_in_its_order_and_a_contradicting_row_is_dropped():
    d = _diagnosis("expected-plateau", PLATEAU)
    d.decided_by = ["overfitting", "uniform-lock", "floor", "spikes", "no-such-code"]  # type: ignore[attr-defined]
    assert [f.code for f in deciding_findings(d)] == ["overfitting", "floor"]
    broken = _diagnosis("broken", [_f("init-loss", "ok", "f.init.ok"), _f("divergence", "fail", "f.diverge.rise")])
    broken.decided_by = ["init-loss", "divergence"]  # type: ignore[attr-defined]
    assert [f.code for f in deciding_findings(broken)] == ["divergence"]  # an ok row never argues for "broken"


def _text(d, run, lang, **kw):
    buf = io.StringIO()
    render_diagnosis(Console(file=buf, width=100, color_system=None), d, run, lang, **kw)
    return buf.getvalue()


def test_short_view_is_short_and_details_has_every_check():
    run = read_run(FIX / "seed_console" / "seed_en.txt")
    d = diagnose(run)
    for lang, why, facts, next_ in (("en", "Why this verdict", "Facts", "Next steps"), ("zh", "结论的依据", "已知事实", "下一步")):
        short = _text(d, run, lang, details=False)
        assert why in short and facts in short and next_ in short
        assert "9.2290" in short and "9.2102" in short  # the deciding finding carries its number and reference
        assert len(short.splitlines()) <= 35, short
        assert "--details" in short
        full = _text(d, run, lang, details=True)
        assert len(full.splitlines()) > len(short.splitlines())
    short = _text(d, run, "en", details=False)
    assert "uniform output" not in short and "spikes" not in short
    full = _text(d, run, "en", details=True)
    assert "uniform output" in full and "spikes" in full and "Why this verdict" not in full


def test_a_warn_row_is_in_the_short_view():
    run = read_run(FIX / "seed_console" / "seed_en.txt")
    d = diagnose(run)
    assert "overfitting" not in _text(d, run, "en", details=False)
    next(f for f in d.findings if f.code == "overfitting").status = "warn"
    short = _text(d, run, "en", details=False)
    assert "overfitting  warn" in short and "distance to floor" in short
