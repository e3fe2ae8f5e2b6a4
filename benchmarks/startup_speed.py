"""Start-up of the commands that must start fast (issue 15, goal 4): `lossdoc --help` (at most 0.25 s) and
`lossdoc baseline --vocab-size 10000` (at most 0.3 s), whole process, torch never imported.

Not a test: numbers for docs/performance.md. Usage:

    python benchmarks/startup_speed.py [--repeat 7] [--against DIR]

Runs each command ``--repeat`` times in a fresh interpreter (``python -m lossdoc ...``) and prints the best and
the median wall time, and which of torch, pydantic and numpy the process imported. ``--against DIR`` runs the
same commands from another checkout of lossdoc too (``git archive COMMIT | tar -x -C DIR``), alternating the
two, so both see the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"--help": ["--help"], "baseline": ["baseline", "--vocab-size", "10000"]}
PROBE = (
    "import runpy, sys; sys.argv = ['lossdoc', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('lossdoc', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    "print('IMPORTED', *[m for m in ('torch', 'pydantic', 'numpy') if m in sys.modules], file=sys.stderr)"
)


def timed(root: Path, argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lossdoc", *argv], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def imported(root: Path, argv: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(root)}
    err = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=root, env=env, capture_output=True, text=True).stderr
    return err.rsplit("IMPORTED", 1)[1].strip() or "none of torch, pydantic, numpy"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--against", type=Path, help="another lossdoc checkout to time the same way, alternating")
    args = ap.parse_args()
    roots = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for argv in COMMANDS.values():
        times: dict[str, list[float]] = {k: [] for k in roots}
        for i in range(args.repeat):
            for k in list(roots) if i % 2 == 0 else list(roots)[::-1]:
                times[k].append(timed(roots[k], argv))
        for k, ts in times.items():
            print(
                f"lossdoc {' '.join(argv):32s} [{k:7s}] best {min(ts):.3f} s, median {statistics.median(ts):.3f} s "
                f"(of {args.repeat}); imports: {imported(roots[k], argv)}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
