"""Many runs in one `lossdoc explain`: the time for N runs of B batches each, against the sum of N single explains
divided by the cores (issue 26: the one command must not take longer than that).

Usage:
    python benchmarks/many_runs.py [--runs 200] [--batches 10000] [--sample 10] [--keep DIR]

It writes N logs in the consoles of the scale-out readers (Megatron-LM, torchtitan, fairseq, OLMo, Composer,
litgpt, DeepSpeed, in turn; the format strings of scripts/make_scale_fixtures.py), a loss decaying with batch
noise and an evaluation every 1,000 steps. Then it times
  * ``python -m lossdoc explain ROOT`` once (all N runs, one table), in a fresh interpreter;
  * ``python -m lossdoc explain FILE`` for --sample of the runs (every format), each in a fresh interpreter, and
    takes their mean times N as the sum of N single explains (running all N one by one takes as long as that).
The ratio printed is (one command) / (sum of singles / cores); at most 1 is the target.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_scale_fixtures", ROOT / "scripts" / "make_scale_fixtures.py")
assert spec is not None and spec.loader is not None
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
FORMATS = ["megatron", "torchtitan", "fairseq", "olmo", "composer", "litgpt", "deepspeed"]


def write_runs(root: Path, runs: int, batches: int) -> list[Path]:
    gen.STEPS = batches
    out = []
    for i in range(runs):
        rng = random.Random(i)
        floor = 2.0 + rng.random()
        b = [(s, floor + 8.0 * (1 + s / 50) ** -0.5 + rng.gauss(0, 0.05)) for s in range(1, batches + 1)]
        e = [(s, floor + 8.0 * (1 + s / 50) ** -0.5 + 0.05) for s in range(1000, batches + 1, 1000)]
        name = FORMATS[i % len(FORMATS)]
        writer, _ = gen.WRITERS[name]
        folder = root / f"run{i:03d}"
        folder.mkdir(parents=True)
        p = folder / "train.log"
        p.write_text(writer("healthy", b, e), encoding="utf-8")
        out.append(p)
    return out


def timed(cmd: list[str]) -> tuple[float, int]:
    env = {**os.environ, "COLUMNS": "200"}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--batches", type=int, default=10000)
    ap.add_argument("--sample", type=int, default=14)
    ap.add_argument("--keep", type=Path, default=None)
    a = ap.parse_args()
    root = a.keep or Path(tempfile.mkdtemp(prefix="lossdoc-many-"))
    try:
        t0 = time.perf_counter()
        logs = write_runs(root, a.runs, a.batches)
        size = sum(p.stat().st_size for p in logs)
        print(f"wrote {a.runs} runs x {a.batches} batches ({size / 2**20:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        many, rc = timed([sys.executable, "-m", "lossdoc", "explain", str(root)])
        print(f"explain ROOT ({a.runs} runs, one table): {many:.1f} s, exit {rc}")
        step = max(1, a.runs // a.sample)
        singles = []
        for p in logs[::step][: a.sample]:
            s, rc = timed([sys.executable, "-m", "lossdoc", "explain", str(p)])
            singles.append(s)
        mean = statistics.mean(singles)
        total = mean * a.runs
        print(f"single explain: mean {mean:.2f} s over {len(singles)} runs (min {min(singles):.2f}, max {max(singles):.2f})")
        print(f"sum of {a.runs} singles ~ {total:.0f} s; / {cores} cores = {total / cores:.0f} s")
        print(f"ratio (one command) / (sum / cores) = {many / (total / cores):.2f}")
    finally:
        if a.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
