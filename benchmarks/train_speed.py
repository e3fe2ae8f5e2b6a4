"""The training loop's speed: its overhead over its own bare step, and the quick start against older code.

Usage:
  python benchmarks/train_speed.py [--num-samples 2000] [--epochs 2] [--rounds 3] [--use-amp] [--compile]
  python benchmarks/train_speed.py --baseline-src /path/to/older/lossdoc [--rounds 2]   # also the quick start

1. Loop overhead (always). ``lossdoc.train.loop.train`` runs the default dummy run (or a smaller one with
   --num-samples) and its training phase is read from run.jsonl: for each epoch, the time from the previous
   epoch record (written after validation) to the epoch's last batch record, so the phase holds every step,
   the row gathering, logging, progress, and the previous epoch's checkpoint writes, and no validation.
   The bare step is the loop's own ``train_step`` (same model, optimizer, precision and batches, rows
   gathered beforehand) for the same number of steps. The two alternate, ``--rounds`` times each, in this
   process; the medians give tokens/s and the overhead, 1 - loop / bare. Because a busy machine makes runs
   minutes apart differ by more than the overhead, the loop's run also times its own train_step calls:
   the share of its training phase spent outside them is the overhead measured within one run.
2. Quick start (--baseline-src DIR). ``python -m lossdoc train --data dummy`` (with --num-samples and
   --epochs as given) runs in a fresh process with PYTHONPATH=DIR (the older code) and with this checkout,
   alternating (older first in odd rounds, this checkout first in even ones), ``--rounds`` times each; prints the median wall times, their ratio, and each run's verdict
   (``lossdoc explain --json``) and best validation loss, which must agree.
Not a test: numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from lossdoc.train import loop as loop_module
from lossdoc.train.config import TrainConfig
from lossdoc.train.data import load_data
from lossdoc.train.faults import FaultPlan
from lossdoc.train.loop import build_optimizer, compile_model, epoch_order, train, train_step
from lossdoc.train.model import TransformerLM

REPO = Path(__file__).resolve().parents[1]


def training_phase(run_dir: Path) -> tuple[int, float]:
    """Training tokens and the training phase's seconds (validation excluded), from a run's run.jsonl."""
    recs = [json.loads(line) for line in (run_dir / "run.jsonl").read_text().splitlines()]
    epoch_at = {r["epoch"]: r["elapsed_s"] for r in recs if r["type"] == "epoch"}
    last_batch: dict[int, float] = {}
    tokens = 0
    for r in recs:
        if r["type"] == "batch":
            last_batch[r["epoch"]] = r["elapsed_s"]
            tokens += r["tokens"]
    return tokens, sum(t - epoch_at[e - 1] for e, t in last_batch.items())


def loop_run(cfg: TrainConfig) -> tuple[int, float, float]:
    """Training tokens, the training phase's seconds, and the seconds of that phase spent inside train_step."""
    inside = [0.0]

    def timed_step(*a, **kw):
        t = time.perf_counter()
        try:
            return train_step(*a, **kw)
        finally:
            inside[0] += time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(**{**cfg.to_dict(), "out": str(Path(tmp) / "run")})
        loop_module.train_step = timed_step
        try:
            train(cfg)
        finally:
            loop_module.train_step = train_step
        return (*training_phase(Path(cfg.out)), inside[0])


def bare_run(cfg: TrainConfig) -> tuple[int, float]:
    """The loop's train_step alone, for the steps a run of ``cfg`` takes, with its rows gathered beforehand."""
    torch.manual_seed(cfg.seed)
    data = load_data(cfg)
    model = TransformerLM(cfg.model_config())
    optimizer = build_optimizer(model, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step_model = compile_model(model, torch.device("cpu"))[0] if cfg.compile else model
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    faults = FaultPlan(None)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if cfg.use_amp else nullcontext
    n = data.train.shape[0]
    batches = []
    for epoch in range(1, cfg.epochs + 1):
        order = epoch_order(n, cfg.seed, epoch)
        batches += [data.train[order[i : i + cfg.batch_size]] for i in range(0, n, cfg.batch_size)]
    model.train()
    t = time.perf_counter()
    tokens = 0
    for i, rows in enumerate(batches):
        tokens += train_step(step_model, optimizer, scaler, rows, step=i + 1, faults=faults, autocast=autocast, grad_clip=cfg.grad_clip).tokens
    return tokens, time.perf_counter() - t


def quick_start(src: Path, args, out: Path) -> tuple[float, str, float]:
    """Wall time of ``lossdoc train --data dummy`` from the code in ``src``, its verdict and best validation loss."""
    env = {**os.environ, "PYTHONPATH": str(src), "LOSSDOC_PROGRESS_S": "0"}
    cmd = [
        sys.executable,
        "-m",
        "lossdoc",
        "train",
        "--data",
        "dummy",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--num-samples",
        str(args.num_samples),
        "--epochs",
        str(args.epochs),
    ]
    # cwd: python -m puts the working directory first on sys.path, ahead of PYTHONPATH, so run from the output's
    # parent folder (never a checkout): each run must import the lossdoc of ``src`` (checked below)
    where = subprocess.run(
        [sys.executable, "-c", "import lossdoc, os; print(os.path.realpath(lossdoc.__file__))"],
        env=env,
        cwd=out.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not where.startswith(str(src.resolve())):
        sys.exit(f"error: with PYTHONPATH={src} python imports lossdoc from {where}, not from {src}")
    t = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=out.parent, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    diag = json.loads(
        subprocess.run(
            [sys.executable, "-m", "lossdoc", "explain", str(out), "--json"], env=env, cwd=out.parent, check=True, capture_output=True, text=True
        ).stdout
    )
    end = [json.loads(line) for line in (out / "run.jsonl").read_text().splitlines()][-1]
    return wall, diag["verdict"], end["best_val_loss"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-samples", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--use-amp", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--baseline-src", help="a folder holding an older lossdoc package, for the quick-start comparison")
    ap.add_argument("--skip-overhead", action="store_true", help="only the quick-start comparison")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    if not args.skip_overhead:
        cfg = TrainConfig(data="dummy", device="cpu", num_samples=args.num_samples, epochs=args.epochs, use_amp=args.use_amp, compile=args.compile)
        loop_rates, bare_rates, outside = [], [], []
        for _ in range(args.rounds):
            tok, s, inside = loop_run(cfg)
            loop_rates.append(tok / s)
            outside.append(1 - inside / s)
            tok, s = bare_run(cfg)
            bare_rates.append(tok / s)
        lr_, br = statistics.median(loop_rates), statistics.median(bare_rates)
        print(
            f"loop (training phase) {lr_:,.0f} tokens/s   bare train_step {br:,.0f} tokens/s   "
            f"overhead {100 * (1 - lr_ / br):.1f}%   (medians of {args.rounds}; "
            f"loop {[round(r) for r in loop_rates]}, bare {[round(r) for r in bare_rates]})"
        )
        print(
            f"share of the loop's training phase spent outside train_step, in the same run: "
            f"{100 * statistics.median(outside):.2f}% (each round: {[round(100 * o, 2) for o in outside]})"
        )
    if args.baseline_src:
        walls: dict[str, list[float]] = {"baseline": [], "this": []}
        seen = set()
        tmp = Path(tempfile.mkdtemp())
        try:
            for i in range(args.rounds):
                pair = [("baseline", Path(args.baseline_src)), ("this", REPO)]
                for name, src in pair if i % 2 == 0 else pair[::-1]:  # ABBA: neither side always goes first
                    wall, verdict, best = quick_start(src, args, tmp / f"{name}{i}")
                    walls[name].append(wall)
                    seen.add((name, verdict, round(best, 6)))
                    print(f"  {name:8s} round {i + 1}: {wall:6.1f} s, verdict {verdict}, best val loss {best:.6f}", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        b, m = statistics.median(walls["baseline"]), statistics.median(walls["this"])
        print(f"quick start: baseline {b:.1f} s, this checkout {m:.1f} s, ratio {m / b:.2f} (goal <= 0.60); verdicts and best losses: {sorted(seen)}")


if __name__ == "__main__":
    main()
