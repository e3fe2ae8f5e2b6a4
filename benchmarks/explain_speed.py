"""`lossdoc explain` on a long lossdoc.run/1 log against `pandas.read_json(lines=True)` on the same file.

Not a test: the numbers for docs/performance.md (issue 15, goal 3). Usage:

    python benchmarks/explain_speed.py [--batches 1000000] [--repeats 3] [--log PATH] [--no-pandas]

Writes a synthetic run.jsonl (a loss decaying to ln 9999 with batch noise, ten evaluations; json.dumps'
default separators, about 184 bytes a batch line, so 1,000,000 batches are 184 MB), or reuses --log. Then,
``--repeats`` times and alternating the two (the cores may be shared: both see the same load), it runs in a
fresh interpreter each

* ``lossdoc explain LOG --json``: the whole command, start-up included, wall time;
* ``pandas.read_json(LOG, lines=True)``: the parse alone (timed inside the child, after ``import pandas``);

and reads each child's peak resident memory from ``os.wait4``. It prints every run, the medians and the
ratio lossdoc / pandas (goal: at most 1/3, with lossdoc's peak at most 300 MB). The lossdoc child also
checks that torch was never imported. pandas is not a lossdoc dependency: install it to run this.

``--no-pandas``: lossdoc alone, for logs pandas cannot hold (``--batches 10000000`` writes 1.9 GB, which
``read_json`` would take some 20 GB to parse). A log of more than 1,000,000 batch records is read keeping a
systematic 1 in k of them: each lossdoc run prints the reader's N of M.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, n: int) -> None:
    rng = random.Random(0)
    floor = math.log(9999)
    with open(path, "w") as f:
        f.write(
            json.dumps(
                {
                    "type": "run",
                    "schema": "lossdoc.run/1",
                    "run_id": "bench",
                    "vocab_size": 10000,
                    "data": {"kind": "dummy", "entropy_floor": floor},
                    "model": {"init_logit_std": 0.5785},
                    "batch_tokens": 1008,
                }
            )
            + "\n"
        )
        f.write(json.dumps({"type": "epoch", "epoch": 0, "val_loss": 9.38, "train_loss": 9.38, "val_tokens": 12600}) + "\n")
        per_epoch = max(1, n // 10)
        for s in range(1, n + 1):
            loss = floor + 0.17 * math.exp(-s / (n / 50)) + rng.gauss(0, 0.012)
            f.write(
                json.dumps(
                    {
                        "type": "batch",
                        "epoch": (s - 1) // per_epoch + 1,
                        "batch": (s - 1) % per_epoch + 1,
                        "num_batches": per_epoch,
                        "step": s,
                        "loss": loss,
                        "lr": 5e-3,
                        "grad_norm": 0.5,
                        "tokens": 1008,
                        "elapsed_s": s * 0.1,
                    }
                )
                + "\n"
            )
            if s % per_epoch == 0:
                f.write(
                    json.dumps({"type": "epoch", "epoch": s // per_epoch, "train_loss": floor + 0.01, "val_loss": floor + 0.005, "val_tokens": 12600})
                    + "\n"
                )
        f.write(json.dumps({"type": "end", "status": "completed"}) + "\n")


LOSSDOC = (
    "import sys; from lossdoc.cli import run; code = run(['explain', sys.argv[1], '--json']); "
    "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(code)"
)
PANDAS = (
    "import sys, time, pandas as pd; t = time.perf_counter(); df = pd.read_json(sys.argv[1], lines=True); print(time.perf_counter() - t, len(df))"
)


def child(code: str, path: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of ``python -c code path``: the child's wall time, and its own peak
    resident memory (os.wait4 on its pid)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", code, str(path)],
            env,
            file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)],
        )
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"child failed: {err.read().decode(errors='replace')[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def _lossdoc_summary(out: str) -> str:
    """The verdict, and what the reader kept when it sampled the batch records."""
    doc = json.loads(out)
    text = f"verdict {doc['verdict']}"
    for w in doc.get("reader_warnings", []):
        if w["key"] == "warn.batches_sampled":
            a = w["args"]
            text += f"; batch records read 1 in {a['k']}: {a['kept']:,} of {a['total']:,}"
    return text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--log", type=Path, help="an existing lossdoc.run/1 log to use instead of writing one")
    ap.add_argument("--no-pandas", action="store_true", help="time lossdoc only (logs too large for pandas)")
    args = ap.parse_args()
    if args.log is not None:
        path = args.log
    else:
        path = Path(tempfile.mkdtemp()) / "run.jsonl"
        write_log(path, args.batches)
    print(f"log: {path} ({path.stat().st_size / 1e6:.1f} MB); load average before: {os.getloadavg()[0]:.2f}")
    rows: dict[str, list[tuple[float, float]]] = {"lossdoc": [], "pandas": []}
    names = ("lossdoc",) if args.no_pandas else ("lossdoc", "pandas")
    for i in range(args.repeats):
        for name in names if i % 2 == 0 else names[::-1]:
            wall, rss, out = child(LOSSDOC if name == "lossdoc" else PANDAS, path)
            seconds = wall if name == "lossdoc" else float(out.split()[0])
            rows[name].append((seconds, rss))
            extra = _lossdoc_summary(out) if name == "lossdoc" else f"parse only, {out.split()[1]} rows"
            print(f"  run {i + 1} {name:8s} {seconds:6.2f} s  peak {rss:7.0f} MB  ({extra})")
    if args.no_pandas:
        times = [s for s, _ in rows["lossdoc"]]
        print(
            f"median: lossdoc explain {statistics.median(times):.2f} s (whole command, peak {max(r for _, r in rows['lossdoc']):.0f} MB); "
            f"load average after: {os.getloadavg()[0]:.2f}"
        )
        return
    med = {k: statistics.median(s for s, _ in v) for k, v in rows.items()}
    peak = {k: max(r for _, r in v) for k, v in rows.items()}
    ratios = [lo[0] / pa[0] for lo, pa in zip(rows["lossdoc"], rows["pandas"])]
    print(
        f"median: lossdoc explain {med['lossdoc']:.2f} s (whole command, peak {peak['lossdoc']:.0f} MB); "
        f"pandas.read_json {med['pandas']:.2f} s (parse only, peak {peak['pandas']:.0f} MB)"
    )
    print(
        f"ratio lossdoc / pandas: {med['lossdoc'] / med['pandas']:.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)}); "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
