"""Explain's accuracy on simulated loss curves of known truth: `python benchmarks/calibration.py [options]` (issue 23).

Each case is a curve from benchmarks/simcurves.py (its docstring defines the 8 families, their truth sets
and the 5 tiers), written in one real writer's on-disk format (lossdoc's run.jsonl through lossdoc.RunLogger,
Hugging Face trainer_state.json with config.json, Lightning metrics.csv with hparams.yaml, a generic CSV,
a nanoGPT console log), read back with lossdoc's reader (``read_run``), given the flags an honest user would
pass (``apply_overrides``, exactly as `lossdoc explain` applies them) and diagnosed in-process (``diagnose``).
A case is right ("exact") when the verdict is in its truth set.

Printed: the confusion matrix (truth family x verdict), exact accuracy per family, per tier and per format,
and the false-alarm rate: healthy truth (random-plateau, still-learning, converged, short-flat, fine-tune)
called broken or overfitting. `--show-misses` lists every miss (family/sub, tier, format, seed, records,
verdict, the fail/warn finding codes). `--json` prints all of it as JSON.

Cases: for every family, every tier it has and every format it is written in, `--n-per-cell` cases
(case i of a cell has seed `--seed` and index i; the same arguments give the same curves and verdicts).

`--seed-run RUN.jsonl` instead diagnoses every prefix of a real lossdoc run log, cut after each record and
without its end record (what `lossdoc watch` sees while the run is live), and prints the verdict for each
prefix length and how many prefixes were called broken.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the checkout this script lives in is the one measured, whatever lossdoc is installed (an editable install may point
# at another clone)
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import simcurves as sim  # noqa: E402  (benchmarks/ is not a package)

VERDICTS = ("broken", "overfitting", "expected-plateau", "converged", "still-learning", "inconclusive", "error")
SHORT = {
    "broken": "brok",
    "overfitting": "over",
    "expected-plateau": "plat",
    "converged": "conv",
    "still-learning": "still",
    "inconclusive": "inc",
    "error": "err",
}
UNHEALTHY = ("broken", "overfitting")


def diagnose_path(path: Path, flags: dict[str, Any]) -> tuple[str, list[str]]:
    """(verdict, ['fail:code', 'warn:code', ...]) as `lossdoc explain PATH FLAGS` would decide; ('error', [message]) for a refusal."""
    from lossdoc.analysis.diagnose import diagnose
    from lossdoc.errors import LossdocError
    from lossdoc.runlog.overrides import apply_overrides
    from lossdoc.runlog.readers import read_run

    try:
        run = read_run(path)
        run = apply_overrides(run, **flags)
        d = diagnose(run)
    except LossdocError as exc:
        return "error", [f"{exc.key}"]
    except Exception as exc:  # noqa: BLE001 - a crash is a result to report, not to stop on
        return "error", [f"crash {type(exc).__name__}: {exc}"[:120]]
    codes = [f"{f.status}:{f.code}" for f in d.findings if f.status in ("fail", "warn")]
    return d.verdict, codes


def cells(families: list[str], formats: list[str]) -> list[tuple[str, str, str]]:
    return [(fam, tier, fmt) for fam in families for tier in sim.FAMILY_TIERS[fam] for fmt in sim.FAMILY_FORMATS[fam] if fmt in formats]


def run_case(spec: tuple[str, str, str, int, int]) -> dict[str, Any]:
    family, tier, fmt, seed, index = spec
    case = sim.generate(family, tier, fmt, seed, index)
    with tempfile.TemporaryDirectory(prefix="lossdoc-calib-") as tmp:
        path, flags = sim.write(case, Path(tmp))
        verdict, codes = diagnose_path(path, flags)
    return {
        "family": family,
        "sub": case.sub,
        "tier": tier,
        "format": fmt,
        "seed": seed,
        "index": index,
        "records": int(case.loss.size),
        "evaluations": int(case.eval_step.size),
        "truth": list(case.truth),
        "verdict": verdict,
        "ok": verdict in case.truth,
        "codes": codes,
        "flags": sim.flags_argv(flags),
    }


def run_all(families: list[str], formats: list[str], n_per_cell: int, seed: int, workers: int) -> list[dict[str, Any]]:
    specs = [(fam, tier, fmt, seed, i) for fam, tier, fmt in cells(families, formats) for i in range(n_per_cell)]
    if workers <= 1 or len(specs) < 8:
        return [run_case(s) for s in specs]
    import multiprocessing as mp

    with mp.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(workers) as pool:
        return pool.map(run_case, specs, chunksize=4)


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(rows: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(rows)
        ok = sum(r["ok"] for r in rows)
        return {"n": n, "exact": ok, "rate": ok / n if n else math.nan}

    by: dict[str, dict[str, list[dict[str, Any]]]] = {"family": defaultdict(list), "tier": defaultdict(list), "format": defaultdict(list)}
    confusion: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        for key in by:
            by[key][r[key]].append(r)
        confusion[r["family"]][r["verdict"]] += 1
    subs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        subs[_sub_key(r)].append(r)
    healthy = [r for r in results if r["family"] in sim.HEALTHY_FAMILIES]
    alarms = [r for r in healthy if r["verdict"] in UNHEALTHY]
    return {
        "cases": len(results),
        "exact": rate(results),
        "families": {k: rate(v) for k, v in by["family"].items()},
        "tiers": {k: rate(v) for k, v in sorted(by["tier"].items(), key=lambda kv: sim.TIERS.index(kv[0]))},
        "formats": {k: rate(v) for k, v in sorted(by["format"].items(), key=lambda kv: sim.FORMATS.index(kv[0]))},
        "confusion": {fam: dict(confusion[fam]) for fam in by["family"]},
        "subfamilies": {
            k: {"all": rate(v), "with_evals": rate([r for r in v if r["evaluations"]]), "without_evals": rate([r for r in v if not r["evaluations"]])}
            for k, v in sorted(subs.items())
        },
        "false_alarms": {"healthy": len(healthy), "alarms": len(alarms), "rate": len(alarms) / len(healthy) if healthy else math.nan},
        "misses": [r for r in results if not r["ok"]],
    }


def _sub_key(r: dict[str, Any]) -> str:
    """family/sub for the families whose sub names a cause or kind (stuck, divergence), else the family."""
    return f"{r['family']}/{r['sub']}" if r["family"] in ("stuck", "divergence") and r["sub"] else r["family"]


def _pct(x: dict[str, Any]) -> str:
    if not x["n"]:
        return f"{'-':>4}/{0:<4} {'':>6}"
    return f"{x['exact']:>4}/{x['n']:<4} {100 * x['rate']:5.1f}%"


def render(summary: dict[str, Any], show_misses: bool) -> str:
    out: list[str] = []
    fams = list(summary["families"])
    out.append("Confusion matrix (rows: truth family; columns: verdict)")
    head = f"{'family':<16} {'truth':<28}" + "".join(f"{SHORT[v]:>6}" for v in VERDICTS) + f"{'exact':>16}"
    out.append(head)
    for fam in fams:
        row = summary["confusion"][fam]
        truth = "|".join(sim.TRUTH[fam])
        out.append(f"{fam:<16} {truth:<28}" + "".join(f"{row.get(v, 0):>6}" for v in VERDICTS) + f"  {_pct(summary['families'][fam])}")
    out.append("")
    out.append(f"{'family/cause':<40} {'all':>16} {'with evaluations':>20} {'without':>16}")
    for k, v in summary["subfamilies"].items():
        out.append(f"{k:<40} {_pct(v['all']):>16} {_pct(v['with_evals']):>20} {_pct(v['without_evals']):>16}")
    out.append("")
    out.append("Exact per tier:    " + ";  ".join(f"{k} {_pct(v)}" for k, v in summary["tiers"].items()))
    out.append("Exact per format:  " + ";  ".join(f"{k} {_pct(v)}" for k, v in summary["formats"].items()))
    fa = summary["false_alarms"]
    out.append(f"All cases: {_pct(summary['exact'])}")
    out.append(f"False alarms (healthy truth called broken or overfitting): {fa['alarms']}/{fa['healthy']} = {100 * fa['rate']:.1f}%")
    if show_misses:
        out.append("")
        out.append(f"Misses ({len(summary['misses'])}): family/sub, tier, format, seed:index, records/evaluations, verdict, findings")
        for r in summary["misses"]:
            fam = r["family"] + (f"/{r['sub']}" if r["sub"] else "")
            codes = ", ".join(r["codes"]) or "-"
            flags = " ".join(r["flags"])
            out.append(
                f"  {fam:<34} {r['tier']:<14} {r['format']:<9} {r['seed']}:{r['index']:<4} {r['records']:>5}/{r['evaluations']:<3}"
                f" {r['verdict']:<16} {codes}" + (f"  [{flags}]" if flags else "")
            )
    return "\n".join(out)


# --- --seed-run --------------------------------------------------------------------------------------------------


class NotARunLog(ValueError):
    pass


def seed_run(path: Path) -> dict[str, Any]:
    """Diagnose every prefix of a lossdoc run log, cut after each record: live (no end record, what `lossdoc watch`
    reads while the run goes on) and stopped there (an end record with status "interrupted", as Ctrl-C leaves it)."""
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    try:
        records = [json.loads(ln) for ln in lines]
    except ValueError:
        raise NotARunLog(f"{path} is not a lossdoc run log (a line is not JSON)") from None
    if not records or not isinstance(records[0], dict) or records[0].get("type") != "run":
        raise NotARunLog(f"{path} is not a lossdoc run log (its first record is not the run header)")
    header = lines[0]
    body = [ln for ln, rec in zip(lines[1:], records[1:]) if not (isinstance(rec, dict) and rec.get("type") == "end")]
    rows = []
    steps = 0
    with tempfile.TemporaryDirectory(prefix="lossdoc-seedrun-") as tmp:
        p = Path(tmp) / "run.jsonl"
        for k in range(1, len(body) + 1):
            rec = json.loads(body[k - 1])
            rec = rec if isinstance(rec, dict) else {}
            steps += rec.get("type") == "batch"
            p.write_text("\n".join([header, *body[:k]]) + "\n", encoding="utf-8")
            verdict, codes = diagnose_path(p, {})
            end = {"type": "end", "status": "interrupted", "steps": steps}
            with open(p, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(end) + "\n")
            stopped, stopped_codes = diagnose_path(p, {})
            rows.append(
                {
                    "records": k,
                    "step": rec.get("step"),
                    "last": rec.get("type"),
                    "verdict": verdict,
                    "codes": codes,
                    "stopped": stopped,
                    "stopped_codes": stopped_codes,
                }
            )
    live, stop = Counter(r["verdict"] for r in rows), Counter(r["stopped"] for r in rows)
    return {
        "log": str(path),
        "prefixes": len(rows),
        "verdicts": dict(live),
        "broken": live.get("broken", 0),
        "verdicts_stopped": dict(stop),
        "broken_stopped": stop.get("broken", 0),
        "rows": rows,
    }


def render_seed_run(res: dict[str, Any]) -> str:
    out = [f"Prefixes of {res['log']}, each cut after one more record: {res['prefixes']}"]
    out.append("live: no end record (a watch); stopped: an end record with status interrupted")
    out.append("records  step  last    live              stopped           findings, live (fail/warn)")
    for r in res["rows"]:
        out.append(f"{r['records']:>7} {r['step']!s:>5}  {r['last']:<7} {r['verdict']:<17} {r['stopped']:<17} {', '.join(r['codes']) or '-'}")
    out.append("Verdicts, live:    " + ", ".join(f"{v} {n}" for v, n in sorted(res["verdicts"].items())))
    out.append("Verdicts, stopped: " + ", ".join(f"{v} {n}" for v, n in sorted(res["verdicts_stopped"].items())))
    out.append(f"Prefixes called broken: {res['broken']} of {res['prefixes']} live, {res['broken_stopped']} stopped")
    return "\n".join(out)


def _csv_list(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise SystemExit(f"calibration.py: error: --{what}: {', '.join(bad) or 'empty'} not one of {', '.join(allowed)}")
    return items


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, exit 2 (argparse would print the usage too)
        print(f"calibration.py: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n-per-cell", type=int, default=15, help="cases per (family, tier, format) cell (default 15)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the whole run (default 0)")
    ap.add_argument("--families", default=",".join(sim.FAMILIES), help="comma-separated families (default: all)")
    ap.add_argument("--formats", default=",".join(sim.FORMATS), help="comma-separated formats (default: all)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default: 2 or the CPUs)")
    ap.add_argument("--show-misses", action="store_true", help="list every miss")
    ap.add_argument("--json", dest="as_json", action="store_true", help="print the results as JSON")
    ap.add_argument("--seed-run", type=Path, metavar="RUN.jsonl", help="diagnose every prefix of this lossdoc run log instead")
    args = ap.parse_args(argv)
    if args.seed_run is not None:
        if not args.seed_run.is_file():
            print(f"calibration.py: error: --seed-run: {args.seed_run} is not a file (give a lossdoc run.jsonl)", file=sys.stderr)
            return 2
        try:
            res = seed_run(args.seed_run)
        except (NotARunLog, OSError) as exc:
            print(f"calibration.py: error: --seed-run: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(res, indent=1) if args.as_json else render_seed_run(res))
        return 0
    if args.n_per_cell < 1:
        print("calibration.py: error: --n-per-cell must be at least 1", file=sys.stderr)
        return 2
    try:
        families = _csv_list(args.families, sim.FAMILIES, "families")
        formats = _csv_list(args.formats, sim.FORMATS, "formats")
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if not cells(families, formats):
        print(f"calibration.py: error: no cases: {', '.join(families)} not written as {', '.join(formats)}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("calibration.py: error: --workers must be at least 1", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = run_all(families, formats, args.n_per_cell, args.seed, args.workers)
    summary = summarise(results)
    summary.update({"seed": args.seed, "n_per_cell": args.n_per_cell, "seconds": round(time.perf_counter() - t0, 1)})
    if args.as_json:
        print(json.dumps(summary, indent=1))
    else:
        print(render(summary, args.show_misses))
        print(f"({summary['cases']} cases, seed {args.seed}, {args.n_per_cell} per cell, {summary['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
