"""Explain's accuracy on a set of real logs: `python benchmarks/accuracy.py MANIFEST [--no-flags]`.

MANIFEST is a JSON file in the format of ../shared/wild/manifest.json: a dict of cases, each with
`path` (the log, relative to the manifest's folder), `verdict` (the acceptable verdicts, joined by
`|`; `error` means a clear one-line refusal, exit 2, is acceptable), `flags` (what a user would
pass to `lossdoc explain`) and `why`.

Each case runs through the real CLI (`python -m lossdoc explain PATH --json [flags]`) in a fresh
process, so a crash, a traceback or a hang counts against the tool. Printed: one row per case
(verdict, expected set, agree or not) and two counts:

  exact   the verdict is in the case's verdict set
  coarse  healthy (expected-plateau, converged, still-learning) vs. unhealthy (broken,
          overfitting) vs. no answer (inconclusive, error) agrees with the set's first verdict's class

`--no-flags` ignores every case's flags: the log (and the files beside it) must be enough.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

HEALTHY = {"expected-plateau", "converged", "still-learning"}
UNHEALTHY = {"broken", "overfitting"}


def coarse(verdict: str) -> str:
    if verdict in HEALTHY:
        return "healthy"
    if verdict in UNHEALTHY:
        return "unhealthy"
    return "no answer"


def run_case(log: Path, flags: list[str], timeout: float) -> tuple[str, str, float]:
    """(verdict or 'error' or 'crash', detail, seconds) for one log, through the real CLI."""
    cmd = [sys.executable, "-m", "lossdoc", "explain", str(log), "--json", *flags]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "crash", f"timeout after {timeout:.0f} s", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    if p.returncode == 2 and p.stderr.strip() and len(p.stderr.strip().splitlines()) == 1:
        return "error", p.stderr.strip(), dt
    if p.returncode not in (0, 1):
        return "crash", (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1], dt
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return "crash", "output is not JSON", dt
    findings = [f["code"] for f in doc.get("findings", []) if f.get("status") in ("fail", "warn")]
    return doc["verdict"], ", ".join(findings), dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--no-flags", action="store_true", help="ignore every case's flags")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("--json", dest="as_json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    if not args.manifest.is_file():  # the corpus is not in the repository (docs/accuracy.md): one line, not a traceback
        ap.exit(2, f"accuracy.py: no manifest at {args.manifest}: the corpus of real logs is not here (docs/accuracy.md says where it lives)\n")
    cases = json.loads(args.manifest.read_text(encoding="utf-8"))
    root = args.manifest.parent
    rows = []
    for name, case in cases.items():
        want = case["verdict"].split("|")
        flags = [] if args.no_flags else shlex.split(case.get("flags", ""))
        got, detail, dt = run_case(root / case["path"], flags, args.timeout)
        rows.append(
            {
                "case": name,
                "got": got,
                "want": want,
                "exact": got in want,
                "coarse": coarse(got) == coarse(want[0]) or got in want,
                "flags": " ".join(flags),
                "detail": detail,
                "seconds": round(dt, 2),
            }
        )
    if args.as_json:
        print(json.dumps(rows, indent=1))
    else:
        w = max(len(r["case"]) for r in rows)
        print(f"{'case':<{w}}  {'verdict':<16} {'expected':<36} ok")
        for r in rows:
            print(
                f"{r['case']:<{w}}  {r['got']:<16} {'|'.join(r['want']):<36} {'yes' if r['exact'] else 'NO'}"
                + ("" if r["exact"] else f"   ({r['detail'][:90]})")
            )
    n = len(rows)
    exact = sum(r["exact"] for r in rows)
    crs = sum(r["coarse"] for r in rows)
    mode = "no flags" if args.no_flags else "with each case's flags"
    print(f"\nexact: {exact}/{n}   coarse: {crs}/{n}   ({mode})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
