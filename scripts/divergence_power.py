"""How often explain's divergence check fires on flat noise (false alarms) and on a real rise (power).

Usage: python scripts/divergence_power.py [--seeds 300]

Flat runs: n single-batch losses N(2.3, 0.4^2). Risen runs: the same with the last 30% raised by a fixed amount.
Each run goes through lossdoc.analysis.checks.check_divergence as a log with no V and no evaluations. Prints the
share of runs called diverging: the figures docs/verdicts.md quotes for the divergence rule.
"""

from __future__ import annotations

import argparse

import numpy as np

from lossdoc.analysis import checks
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run


def make_run(losses: np.ndarray) -> Run:
    n = losses.size
    ones = np.ones(n)
    empty = np.array([])
    return Run(
        source="synthetic",
        format="lossdoc",
        batches=BatchSeries(np.arange(1.0, n + 1), ones, losses, np.full(n, 1e-3), ones, np.full(n, 512.0)),
        epochs=EpochSeries(empty, empty, empty, empty, empty),
        status="completed",
        records_read=n,
    )


def diverging(losses: np.ndarray) -> bool:
    return checks.check_divergence(checks.build_context(make_run(losses))).status == "fail"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=300)
    seeds = ap.parse_args().seeds
    print("| run | batches | rise (nats) | called diverging |\n|---|---|---|---|")
    for n in (10, 12, 20, 25, 50, 100, 400, 2000):
        share = sum(diverging(2.3 + np.random.default_rng(s).normal(0, 0.4, n)) for s in range(seeds)) / seeds
        print(f"| flat, sd 0.4 | {n} | 0 | {100 * share:.1f}% |")
    for n, rise in ((20, 0.6), (100, 0.3), (100, 1.0), (1000, 0.3)):
        hits = 0
        for s in range(seeds):
            y = 2.3 + np.random.default_rng(1000 + s).normal(0, 0.4, n)
            y[int(0.7 * n) :] += rise
            hits += diverging(y)
        print(f"| last 30% risen, sd 0.4 | {n} | {rise} | {100 * hits / seeds:.1f}% |")


if __name__ == "__main__":
    main()
