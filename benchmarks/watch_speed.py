"""Can `lossdoc watch` keep up with a log that grows by 1,000 records a second? (issue 14)

Not a test (speed depends on the machine and its load). Writes a lossdoc run.jsonl of N batch records (an
evaluation every 100), then times, for lossdoc.runlog.follow.Follower on it:
  * catch-up: the first poll (reads the whole file, builds the Run) and one diagnosis;
  * one second of growth: 1,000 more records appended, then one poll (reads only those bytes) and one diagnosis.
watch keeps up while "poll + diagnose" for one second of growth stays well under 1 s. Usage:
    python benchmarks/watch_speed.py [--records 100000 600000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossdoc.analysis import diagnose  # noqa: E402
from lossdoc.runlog.follow import Follower  # noqa: E402
from lossdoc.runlog.logger import RunLogger  # noqa: E402

V = 64


def _write(log: RunLogger, first: int, n: int, rng: random.Random) -> None:
    for step in range(first, first + n):
        log.batch(step, math.log(V) + 0.5 * math.exp(-step / 50) + rng.gauss(0, 0.02), lr=1e-3)
        if step % 100 == 0:
            log.eval(step, math.log(V) + abs(rng.gauss(0, 0.002)))


def bench(n: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(0)
        log = RunLogger(Path(tmp) / "run", vocab_size=V, data="random", seq_len=16, batch_size=16)
        _write(log, 1, n, rng)
        f = Follower(Path(tmp) / "run", min_interval=0.0)
        t0 = time.perf_counter()
        run = f.poll()
        t1 = time.perf_counter()
        diagnose(run)
        t2 = time.perf_counter()
        print(f"{n:>9,} records  catch-up: poll {t1 - t0:.3f} s, diagnose {t2 - t1:.3f} s")
        step = n + 1
        for _ in range(repeat):
            _write(log, step, 1000, rng)
            step += 1000
            t0 = time.perf_counter()
            run = f.poll()
            t1 = time.perf_counter()
            diagnose(run)
            t2 = time.perf_counter()
            print(f"{'':>9}  +1,000 records: poll {t1 - t0:.3f} s, diagnose {t2 - t1:.3f} s, total {t2 - t0:.3f} s")
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, nargs="+", default=[100_000, 600_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for n in args.records:
        bench(n, args.repeat)


if __name__ == "__main__":
    main()
