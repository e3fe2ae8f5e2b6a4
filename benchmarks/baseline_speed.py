"""How long `lossdoc baseline --vocab-size 10000` takes in a fresh interpreter, and that it needs no torch.

Not a test (a speed number depends on the machine and its load): the number the old wall-clock
assertion in tests/cli/test_baseline_cli.py checked (under 1 s). Usage:
    python benchmarks/baseline_speed.py [--repeat 5]
Prints the command's own time (after `import lossdoc.cli`) and the whole process's, best of N.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = (
    "import sys, time; t = time.perf_counter(); from lossdoc.cli import run; t1 = time.perf_counter(); "
    "rc = run(['baseline', '--vocab-size', '10000']); dt = time.perf_counter() - t1; "
    "assert rc == 0 and 'torch' not in sys.modules; print(f'ELAPSED {dt:.3f} IMPORT {t1 - t:.3f}', file=sys.stderr)"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    command, process = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, check=True)
        process.append(time.perf_counter() - t)
        command.append(float(proc.stderr.rsplit("ELAPSED", 1)[1].split()[0]))
    print(f"lossdoc baseline --vocab-size 10000: command {min(command):.3f} s, whole process {min(process):.3f} s (best of {args.repeat})")


if __name__ == "__main__":
    main()
