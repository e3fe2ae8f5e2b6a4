"""Training speed at several CPU thread counts: what ``lossdoc train --threads`` auto should pick.

Usage:
  python benchmarks/threads.py [--counts 1,2,4] [--procs 1,2] [--steps 20] [--rounds 3]

Each measurement is a fresh process (``--worker``) that builds the default run's model and data
(``TrainConfig()``: dummy data, V = 10000, d_model 256, 2 layers, batch 16 x 63 tokens), sets
torch.set_num_threads(K), takes 2 warm-up steps with the loop's own ``train_step`` and times the next
``--steps``. With ``--procs P``, P such processes run at once (two runs side by side, or --nproc P),
each with K threads. Counts and process numbers are interleaved, and the order turns each round, so a
change in the machine's other load hits every setting alike. Prints seconds per step (the median over
rounds, each round's value being the mean of its processes), tokens/s per process, and the 1-minute load
average before each measurement, together with what the auto rule (lossdoc.train.threads) would have
picked at that moment. Not a test: numbers for docs/train.md ("CPU threads").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def worker(threads: int, steps: int) -> None:
    """One process: time ``steps`` default-model steps with ``threads`` threads; print JSON."""
    import torch

    from lossdoc.train.config import TrainConfig
    from lossdoc.train.data import load_data
    from lossdoc.train.faults import FaultPlan
    from lossdoc.train.loop import build_optimizer, train_step
    from lossdoc.train.model import TransformerLM

    default = torch.get_num_threads()
    torch.set_num_threads(threads)
    cfg = TrainConfig(device="cpu")
    torch.manual_seed(cfg.seed)
    data = load_data(cfg)
    model = TransformerLM(cfg.model_config())
    model.train()
    opt = build_optimizer(model, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    faults = FaultPlan(None)
    from contextlib import nullcontext

    def step(i: int) -> int:
        rows = data.train[(i * cfg.batch_size) % (data.train.shape[0] - cfg.batch_size) :][: cfg.batch_size]
        return train_step(model, opt, scaler, rows, step=i + 1, faults=faults, autocast=nullcontext, grad_clip=cfg.grad_clip).tokens

    for i in range(2):
        step(i)
    t = time.perf_counter()
    tokens = sum(step(i) for i in range(2, 2 + steps))
    s = time.perf_counter() - t
    print(json.dumps({"threads": threads, "torch_default": default, "s_per_step": s / steps, "tokens_per_s": tokens / s}))


def measure(threads: int, procs: int, steps: int) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(threads), "--steps", str(steps)]
    running = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    out = []
    for p in running:
        stdout, _ = p.communicate()
        if p.returncode:
            sys.exit(f"worker failed with exit code {p.returncode}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counts", default="1,2,4", help="thread counts per process, comma-separated")
    ap.add_argument("--procs", default="1,2", help="processes running at once, comma-separated")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker, args.steps)
        return
    sys.path.insert(0, str(REPO))
    from lossdoc.train.threads import auto_threads, usable_cpus

    counts = [int(c) for c in args.counts.split(",")]
    procs = [int(p) for p in args.procs.split(",")]
    settings = [(p, k) for p in procs for k in counts]
    cpus = usable_cpus()
    print(f"{cpus} usable cores; default model, {args.steps} timed steps per process, {args.rounds} rounds, order turned each round")
    times: dict[tuple[int, int], list[float]] = {s: [] for s in settings}
    loads: dict[tuple[int, int], list[float]] = {s: [] for s in settings}
    torch_default = None
    for r in range(args.rounds):
        shift = r % len(settings)
        for p, k in settings[shift:] + settings[:shift]:
            load = os.getloadavg()[0]
            res = measure(k, p, args.steps)
            torch_default = res[0]["torch_default"]
            sps = statistics.mean(x["s_per_step"] for x in res)
            times[(p, k)].append(sps)
            loads[(p, k)].append(load)
            auto = auto_threads(cpus, load, p, torch_default)
            print(
                f"  round {r + 1}: {p} process(es) x {k} thread(s): {sps:.3f} s/step, load average before {load:.2f} (auto would pick {auto})",
                flush=True,
            )
    print(f"torch's default thread count here: {torch_default}")
    print("| processes at once | threads each | s/step (median) | tokens/s per process | rounds (s/step) | load average before |")
    print("|---|---|---|---|---|---|")
    for p, k in settings:
        m = statistics.median(times[(p, k)])
        each = ", ".join(f"{x:.3f}" for x in times[(p, k)])
        ld = ", ".join(f"{x:.1f}" for x in loads[(p, k)])
        print(f"| {p} | {k} | {m:.3f} | {16 * 63 / m:,.0f} | {each} | {ld} |")


if __name__ == "__main__":
    main()
