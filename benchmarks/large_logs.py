"""Large logs of every format: how long `lossdoc explain` takes and how much memory it needs.

Not a test (no timed assertions in tests): the numbers for docs/reliability.md. The targets (issue #18):
a 100 MB log of any supported format explains within 10 s and 500 MB peak resident memory.

Usage:
    python benchmarks/large_logs.py [--mb 100] [--formats lossdoc,csv,...] [--keep DIR]

For each format it writes a valid log of about --mb MB with the record shapes real tools write
(a loss decaying to a floor with batch noise, an evaluation every 1,000 steps), then runs
``python -m lossdoc explain FILE --json`` in a fresh interpreter and prints the exit code, wall time
and peak resident memory of that process (start-up included). Two hostile shapes are included: a
lossdoc header followed by ``{}`` lines, and a TensorBoard file of one 50 MB record.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lossdoc.runlog.readers.tensorboard import masked_crc  # noqa: E402

EVAL_EVERY = 1000


def _losses(rng: random.Random):
    s = 0
    while True:
        s += 1
        yield s, 2.0 + 4.0 * math.exp(-s / 20000) + rng.gauss(0, 0.05)


def _fill(path: Path, size: int, head: str, line, tail: str = "") -> None:
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head)
        written = len(head)
        for s, loss in _losses(rng):
            chunk = line(s, loss)
            f.write(chunk)
            written += len(chunk)
            if written >= size:
                break
        f.write(tail)


def lossdoc_log(path: Path, size: int) -> Path:
    head = (
        json.dumps(
            {
                "type": "run",
                "schema": "lossdoc.run/1",
                "run_id": "big",
                "vocab_size": 10000,
                "batch_tokens": 1024,
                "data": {"kind": "zipf", "entropy_floor": 2.0},
                "model": {"init_logit_std": 0.58},
            }
        )
        + "\n"
    )

    def line(s: int, loss: float) -> str:
        out = (
            json.dumps(
                {
                    "type": "batch",
                    "epoch": s // 10000 + 1,
                    "batch": s % 10000 + 1,
                    "num_batches": 10000,
                    "step": s,
                    "loss": round(loss, 6),
                    "lr": 3e-4,
                    "grad_norm": 0.5,
                    "tokens": 1024,
                    "elapsed_s": round(s * 0.1, 2),
                }
            )
            + "\n"
        )
        if s % EVAL_EVERY == 0:
            out += (
                json.dumps(
                    {
                        "type": "epoch",
                        "epoch": s // EVAL_EVERY,
                        "step": s,
                        "train_loss": round(loss, 6),
                        "val_loss": round(loss + 0.02, 6),
                        "val_tokens": 100000,
                    }
                )
                + "\n"
            )
        return out

    _fill(path / "metrics.jsonl", size, head, line, json.dumps({"type": "end", "status": "completed"}) + "\n")
    return path / "metrics.jsonl"


def lossdoc_empty_records(path: Path, size: int) -> Path:
    head = json.dumps({"type": "run", "schema": "lossdoc.run/1", "run_id": "big", "vocab_size": 10000}) + "\n"
    head += json.dumps({"type": "batch", "step": 1, "loss": 9.2}) + "\n"
    with open(path / "metrics.jsonl", "w") as f:
        f.write(head)
        f.write("{}\n" * ((size - len(head)) // 3))
    return path / "metrics.jsonl"


def hf_state(path: Path, size: int) -> Path:
    rng = random.Random(0)
    parts = []
    written = 0
    for s, loss in _losses(rng):
        e = {"epoch": round(s / 10000, 4), "grad_norm": 0.5, "learning_rate": 3e-4, "loss": round(loss, 4), "step": s}
        parts.append(e)
        written += 100
        if s % EVAL_EVERY == 0:
            parts.append({"epoch": round(s / 10000, 4), "eval_loss": round(loss + 0.02, 4), "eval_runtime": 1.0, "step": s})
            written += 100
        if written >= size:
            break
    with open(path / "trainer_state.json", "w") as f:
        json.dump({"global_step": len(parts), "log_history": parts}, f, indent=2)
    return path / "trainer_state.json"


def lightning(path: Path, size: int) -> Path:
    folder = path / "version_0"
    folder.mkdir()

    def line(s: int, loss: float) -> str:
        out = f"{(s - 1) // 10000},{s - 1},{loss:.6f},,\n"
        if s % EVAL_EVERY == 0:
            out += f"{(s - 1) // 10000},{s - 1},,{loss + 0.02:.6f},{loss:.6f}\n"
        return out

    _fill(folder / "metrics.csv", size, "epoch,step,train_loss_step,val_loss,train_loss_epoch\n", line)
    (folder / "hparams.yaml").write_text("vocab_size: 10000\nlr: 0.0003\n")
    return folder


def generic_csv(path: Path, size: int) -> Path:
    def line(s: int, loss: float) -> str:
        return f"{s},{loss:.6f},0.0003\n" if s % EVAL_EVERY else f"{s},{loss:.6f},0.0003\n{s},,,{loss + 0.02:.6f}\n"

    _fill(path / "log.csv", size, "step,train_loss,lr,val_loss\n", line)
    return path / "log.csv"


def generic_jsonl(path: Path, size: int) -> Path:
    def line(s: int, loss: float) -> str:
        out = json.dumps({"step": s, "loss": round(loss, 6), "lr": 3e-4}) + "\n"
        return out + (json.dumps({"step": s, "val_loss": round(loss + 0.02, 6)}) + "\n" if s % EVAL_EVERY == 0 else "")

    _fill(path / "log.jsonl", size, "", line)
    return path / "log.jsonl"


def nanogpt(path: Path, size: int) -> Path:
    def line(s: int, loss: float) -> str:
        out = f"iter {s - 1}: loss {loss:.4f}, time 12.34ms, mfu 5.67%\n"
        if s % EVAL_EVERY == 0:
            out += f"step {s}: train loss {loss:.4f}, val loss {loss + 0.02:.4f}\nsaving checkpoint to out\n"
        return out

    _fill(path / "train.log", size, "", line)
    return path / "train.log"


def seed_console(path: Path, size: int) -> Path:
    per = 10000

    def line(s: int, loss: float) -> str:
        ep, b = (s - 1) // per + 1, (s - 1) % per + 1
        out = f"Epoch {ep}, Batch {b}/{per}, Loss: {loss:.4f}\n"
        if b == per:
            out += f"Train Loss: {loss:.4f}\nVal Loss: {loss + 0.02:.4f}\nCheckpoint saved\n"
        return out

    _fill(path / "console.txt", size, "", line)
    return path / "console.txt"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _record(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", masked_crc(head)) + payload + struct.pack("<I", masked_crc(payload))


def _scalar_event(step: int, tag: str, value: float) -> bytes:
    tb = tag.encode()
    val = b"\x0a" + _varint(len(tb)) + tb + b"\x15" + struct.pack("<f", value)
    summary = b"\x0a" + _varint(len(val)) + val
    return b"\x09" + struct.pack("<d", 1.7e9 + step) + b"\x10" + _varint(step) + b"\x2a" + _varint(len(summary)) + summary


def tensorboard(path: Path, size: int) -> Path:
    rng = random.Random(0)
    folder = path / "tb"
    folder.mkdir()
    written = 0
    with open(folder / "events.out.tfevents.1700000000.big.0", "wb") as f:
        for s, loss in _losses(rng):
            rec = _record(_scalar_event(s, "train/loss", loss))
            if s % EVAL_EVERY == 0:
                rec += _record(_scalar_event(s, "val/loss", loss + 0.02))
            f.write(rec)
            written += len(rec)
            if written >= size:
                break
    return folder


def tensorboard_one_record(path: Path, size: int) -> Path:
    folder = path / "tb1"
    folder.mkdir()
    with open(folder / "events.out.tfevents.1700000000.one.0", "wb") as f:
        for s in range(1, 200):
            f.write(_record(_scalar_event(s, "loss", 3.0 - s / 100)))
        f.write(_record(b"\x2a" + _varint(size // 2) + b"\x00" * (size // 2)))  # one record of size/2 bytes
    return folder


def console(path: Path, size: int) -> Path:
    def line(s: int, loss: float) -> str:
        out = f"2025-03-02 05:16:20,348 - INFO - step {s} | loss {loss:.4f} | lr 0.0003\n"
        return out + (f"2025-03-02 05:16:20,348 - INFO - step {s} | val_loss {loss + 0.02:.4f}\n" if s % EVAL_EVERY == 0 else "")

    _fill(path / "train.log", size, "", line)
    return path / "train.log"


def json_columns(path: Path, size: int) -> Path:
    rng = random.Random(0)
    n = size // 22  # about 22 bytes a step: "123456, " in step and "2.123456, " in loss
    steps = list(range(1, n + 1))
    losses = [round(2.0 + 4.0 * math.exp(-s / 20000) + rng.gauss(0, 0.05), 6) for s in steps]
    (path / "history.json").write_text(json.dumps({"step": steps, "train_loss": losses}), encoding="utf-8")
    return path / "history.json"


FORMATS = {
    "lossdoc": lossdoc_log,
    "lossdoc-empty-records": lossdoc_empty_records,
    "hf-trainer": hf_state,
    "lightning-csv": lightning,
    "csv": generic_csv,
    "jsonl": generic_jsonl,
    "nanogpt": nanogpt,
    "seed-console": seed_console,
    "tensorboard": tensorboard,
    "tensorboard-one-record": tensorboard_one_record,
    "console": console,
    "json": json_columns,
}


# Peak RSS in kB of the process itself: VmHWM starts again at exec, while getrusage's ru_maxrss keeps the
# peak of the forked parent (this script, which has just generated the log) on Linux.
_HWM = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"


def measure(target: Path) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MB, first stderr line) of `explain TARGET --json` in a fresh process."""
    code = (
        "import sys; from lossdoc.cli import run; rc = run(['explain', sys.argv[1], '--json']); "
        "sys.stderr.write('\\nMAXRSS %s\\n' % " + _HWM + "); sys.exit(rc)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    rss = 0.0
    lines = []
    for ln in proc.stderr.splitlines():
        if ln.startswith("MAXRSS "):
            rss = int(ln.split()[1]) / 1024
        elif ln.strip():
            lines.append(ln)
    return proc.returncode, wall, rss, (lines[0][:160] if lines else "")


def phases(target: Path) -> str:
    """Reading and diagnosing timed apart, in a fresh process: 'read X s / Y MB, diagnose Z s / W MB' (peak RSS so far)."""
    code = (
        "import sys, time; from lossdoc.runlog.readers import read_run; from lossdoc.analysis import diagnose; "
        "rss = lambda: " + _HWM + " // 1024; t = time.perf_counter(); r = read_run(sys.argv[1]); "
        "t1 = time.perf_counter(); a = rss(); diagnose(r); t2 = time.perf_counter(); "
        "print(f'read {t1 - t:.1f} s / {a} MB, diagnose {t2 - t1:.1f} s / {rss()} MB ({len(r.batches):,} batches, {len(r.epochs):,} evaluations)')"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, env=env)
    return proc.stdout.strip() or proc.stderr.strip().splitlines()[-1][:160]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--keep", type=Path, default=None, help="write the logs here (default: a temporary folder, removed)")
    ap.add_argument("--phases", action="store_true", help="also time reading and diagnosing apart (in another fresh process)")
    args = ap.parse_args()
    size = int(args.mb * 1e6)
    base = Path(args.keep or tempfile.mkdtemp(prefix="lossdoc-large-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"{'format':24} {'MB':>6} {'rc':>3} {'wall s':>7} {'peak MB':>8}  note")
    try:
        for name in args.formats.split(","):
            folder = base / name
            folder.mkdir(exist_ok=True)
            target = FORMATS[name](folder, size)
            mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            rc, wall, rss, note = measure(target)
            if args.phases:
                note = (note + " " if note else "") + phases(target)
            print(f"{name:24} {mb:6.0f} {rc:3d} {wall:7.1f} {rss:8.0f}  {note}", flush=True)
            if args.keep is None:
                for p in sorted(folder.rglob("*"), reverse=True):
                    p.unlink() if p.is_file() else p.rmdir()
    finally:
        if args.keep is None:
            import shutil

            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
