"""How long `lossdoc explain` takes on a long lossdoc log (default: 100,000 batches).

Not a test: a number for docs/verdicts.md. Usage: python benchmarks/explain_speed.py [--batches 100000]
Writes a synthetic run.jsonl (a loss decaying to ln 9999 with batch noise), then times
the whole command in a fresh interpreter (start-up included) and the read and diagnose steps in-process.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_log(path: Path, n: int) -> None:
    rng = random.Random(0)
    floor = math.log(9999)
    with open(path, "w") as f:
        f.write(json.dumps({"type": "run", "schema": "lossdoc.run/1", "run_id": "bench", "vocab_size": 10000,
                            "data": {"kind": "dummy", "entropy_floor": floor}, "model": {"init_logit_std": 0.5785},
                            "batch_tokens": 1008}) + "\n")
        f.write(json.dumps({"type": "epoch", "epoch": 0, "val_loss": 9.38, "train_loss": 9.38, "val_tokens": 12600}) + "\n")
        per_epoch = max(1, n // 10)
        for s in range(1, n + 1):
            loss = floor + 0.17 * math.exp(-s / (n / 50)) + rng.gauss(0, 0.012)
            f.write(json.dumps({"type": "batch", "epoch": (s - 1) // per_epoch + 1, "batch": (s - 1) % per_epoch + 1,
                                "num_batches": per_epoch, "step": s, "loss": loss, "lr": 5e-3, "grad_norm": 0.5,
                                "tokens": 1008, "elapsed_s": s * 0.1}) + "\n")
            if s % per_epoch == 0:
                f.write(json.dumps({"type": "epoch", "epoch": s // per_epoch, "train_loss": floor + 0.01,
                                    "val_loss": floor + 0.005, "val_tokens": 12600}) + "\n")
        f.write(json.dumps({"type": "end", "status": "completed"}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=100_000)
    args = ap.parse_args()
    path = Path(tempfile.mkdtemp()) / "run.jsonl"
    write_log(path, args.batches)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", f"import sys; from lossdoc.cli import run; code = run(['explain', {str(path)!r}, '--json']); "
                           "assert 'torch' not in sys.modules; sys.exit(code)"], capture_output=True, text=True)
    wall = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr
    from lossdoc.analysis import diagnose
    from lossdoc.runlog.readers import read_run

    t0 = time.perf_counter()
    run = read_run(path)
    t1 = time.perf_counter()
    d = diagnose(run)
    t2 = time.perf_counter()
    print(f"{args.batches:,} batches ({path.stat().st_size / 1e6:.1f} MB): explain --json {wall:.2f} s wall "
          f"(read {t1 - t0:.2f} s, diagnose {t2 - t1:.2f} s), verdict {d.verdict}, torch not imported")


if __name__ == "__main__":
    main()
