"""Large logs of every format: how long `lossdoc explain` takes and how much memory it needs.

Not a test (no timed assertions in tests): the numbers for docs/reliability.md. The targets (issue #18):
a 100 MB log of any supported format explains within 10 s and 500 MB peak resident memory.

Usage:
    python benchmarks/large_logs.py [--mb 100] [--formats lossdoc,csv,...] [--keep DIR]

For each format it writes a valid log of about --mb MB with the record shapes real tools write
(a loss decaying to a floor with batch noise, an evaluation every 1,000 steps), then runs
``python -m lossdoc explain FILE --json`` in a fresh interpreter and prints the exit code, wall time, CPU time
and peak resident memory of that process (start-up included). The readers of training at scale (issue 26: megatron,
torchtitan, litgpt, fairseq, fairseq-json, deepspeed, olmo, composer, mlflow) are measured the same way
(docs/performance.md). Two hostile shapes are included: a
lossdoc header followed by ``{}`` lines, and a TensorBoard file of one 50 MB record.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
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


# -- the consoles of training at scale (issue 26): the shapes of tests/fixtures/scale/ (scripts/make_scale_fixtures.py,
# which cites each framework's format strings), one log line per step, an evaluation every EVAL_EVERY steps


def megatron(path: Path, size: int) -> Path:
    head = "------------------------ arguments ------------------------\n"
    for k, v in (("fp16", "True"), ("global_batch_size", "16"), ("micro_batch_size", "4"), ("seq_length", "512"), ("world_size", "4")):
        head += "  {} {} {}\n".format(k, "." * (48 - len(k)), v)
    head += "-------------------- end of arguments ---------------------\n"
    head += " > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)\n"

    def line(s: int, loss: float) -> str:
        out = (
            f" [2025-04-13 23:41:20] iteration {s:8d}/{10**8:8d} | consumed samples: {s * 16:12d} | elapsed time per iteration (ms): 820.7 |"
            f" learning rate: 3.000000E-04 | global batch size: {16:5d} | lm loss: {loss:.6E} | loss scale: 65536.0 | grad norm: 0.512 |"
            f" number of skipped iterations: {0:3d} | number of nan iterations: {0:3d} |\n"
        )
        if s % EVAL_EVERY == 0:
            out += f" validation loss at iteration {s} | lm loss value: {loss + 0.02:.6E} | lm loss PPL: {math.exp(loss + 0.02):.6E} | \n"
        return out

    _fill(path / "train.log", size, head, line)
    return path / "train.log"


def torchtitan(path: Path, size: int) -> Path:
    """Two ranks interleaved (torchrun --tee): one is read."""
    p = "[titan] 2025-01-01 12:00:00,000 - root - INFO - "
    head = f"[rank0]:{p}Training starts at step 1, with local batch size 8, global batch size 16, gradient accumulation steps 1, sequence length 2048, total steps 100000000 (warmup 200)\n"

    def line(s: int, loss: float) -> str:
        out = "".join(
            f"[rank{r}]:{p}\033[31mstep: {s:2}  \033[32mloss: {loss + 0.01 * r:7.4f}  \033[33mgrad_norm:  0.5000  \033[33mmemory:  1.23GiB(1.55%)"
            f"  \033[34mtps: 12,345  \033[36mtflops: 0.50  \033[35mmfu: 0.05%\033[39m\n"
            for r in (0, 1)
        )
        if s % EVAL_EVERY == 0:
            out += f"[rank0]:{p}\033[33mvalidate step: {s:2}  \033[32mloss: {loss + 0.02:7.4f}  \033[34mmemory:  1.23GiB(1.55%)  \033[36mtps: 23,456\033[39m\n"
        return out

    _fill(path / "train.log", size, head, line)
    return path / "train.log"


def litgpt(path: Path, size: int) -> Path:
    """Four iterations (lines) per optimizer step, as with gradient accumulation."""
    head = " 'model_config': {'block_size': 512, 'n_layer': 6, 'padded_vocab_size': 50304, 'vocab_size': 50254},\n"

    def line(s: int, loss: float) -> str:
        out = "".join(
            f"Epoch 1 | iter {4 * (s - 1) + k + 1} step {s if k == 3 else s - 1} | loss train: {loss + 0.02 * (k - 1.5):.3f}, val: n/a |"
            f" iter time: 123.45 ms{' (step)' if k == 3 else ''} remaining time: 0:10:00\n"
            for k in range(4)
        )
        if s % EVAL_EVERY == 0:
            out += f"Validating ...\niter {4 * s}: val loss {loss + 0.02:.4f}, val time: 1234.56 ms\n"
        return out

    _fill(path / "pretrain.log", size, head, line)
    return path / "pretrain.log"


def fairseq(path: Path, size: int) -> Path:
    """Losses in bits, as fairseq logs them."""
    b2 = 1 / math.log(2)
    pre = "2021-03-01 12:00:00 | INFO | "
    head = pre + "fairseq.tasks.language_modeling | dictionary: 50264 types\n"

    def line(s: int, loss: float) -> str:
        ep, i = (s - 1) // 10000 + 1, (s - 1) % 10000 + 1
        out = (
            pre + f"train_inner | epoch {ep:03d}:    {i:4d} / 10000 loss={loss * b2:.3f}, ppl={2 ** (loss * b2):.2f}, wps=123456, ups=2.5,"
            f" wpb=4096, bsz=8, num_updates={s}, lr=0.0005, gnorm=1.234, train_wall=8, gb_free=10.5, wall=100\n"
        )
        if s % EVAL_EVERY == 0:
            out += (
                pre + f"valid | epoch {ep:03d} | valid on 'valid' subset | loss {(loss + 0.02) * b2:.3f} | ppl {2 ** ((loss + 0.02) * b2):.2f}"
                f" | wps 234567 | wpb 4096 | bsz 8 | num_updates {s}\n"
            )
        return out

    _fill(path / "train.log", size, head, line)
    return path / "train.log"


def fairseq_json(path: Path, size: int) -> Path:
    b2 = 1 / math.log(2)

    def line(s: int, loss: float) -> str:
        ep = (s - 1) // 10000 + 1
        rec = {"epoch": ep, "update": round(ep - 1 + ((s - 1) % 10000 + 1) / 10000, 3), "loss": f"{loss * b2:.3f}", "ppl": f"{2 ** (loss * b2):.2f}"}
        out = "[train_inner][INFO] - " + json.dumps({**rec, "wpb": "4096", "num_updates": str(s), "lr": "0.0005", "gnorm": "1.234"}) + "\n"
        if s % EVAL_EVERY == 0:
            out += "[valid][INFO] - " + json.dumps({"epoch": ep, "valid_loss": f"{(loss + 0.02) * b2:.3f}", "valid_num_updates": str(s)}) + "\n"
        return out

    _fill(path / "train.log", size, "[fairseq.tasks.language_modeling][INFO] - dictionary: 50264 types\n", line)
    return path / "train.log"


def deepspeed(path: Path, size: int) -> Path:
    pre = "[2024-05-01 12:00:00,000] [INFO] "
    head = pre + "[config.py:1000:print] DeepSpeedEngine configuration:\n" + pre + "[config.py:1004:print]   train_batch_size ............. 32\n"

    def line(s: int, loss: float) -> str:
        return pre + f"[logging.py:96:log_dist] [Rank 0] step={s}, skipped=0, lr=[3.000000e-04], mom=[(0.9, 0.999)], loss={loss:.4f}\n"

    _fill(path / "train.log", size, head, line)
    return path / "train.log"


def olmo(path: Path, size: int) -> Path:
    head = "2024-02-01 12:00:00.000\tnode0:0\tolmo.util:100\tINFO\tConfiguration:\n  vocab_size: 50280\n  embedding_size: 50304\n"

    def line(s: int, loss: float) -> str:
        out = f"2024-02-01 12:00:00.000\tnode0:0\tolmo.train:900\tINFO\t[step={s}/100000000]\n"
        out += f"    train/CrossEntropyLoss={loss:.4f}\n    train/Perplexity={math.exp(loss):,.1f}\n    optim/total_grad_norm=0.512\n"
        if s % EVAL_EVERY == 0:
            out += f"    eval/c4_en-validation/CrossEntropyLoss={loss + 0.02:.4f}\n"
        return out

    _fill(path / "train.log", size, head, line)
    return path / "train.log"


def composer(path: Path, size: int) -> Path:
    def line(s: int, loss: float) -> str:
        out = f"[batch={s}/100000000]:\n\t Train time/batch: {s - 1}\n\t Train loss/train/total: {loss:.4f}\n"
        if s % EVAL_EVERY == 0:
            out += f"[Eval batch=4/4] Eval on eval data:\n\t Eval metrics/eval/LanguageCrossEntropy: {loss + 0.02:.4f}\n"
        return out

    _fill(path / "train.log", size, "max_seq_len: 1024\nvocab_size: 50368\n", line)
    return path / "train.log"


def mlflow(path: Path, size: int) -> Path:
    """An MLflow file-store run: ``<timestamp> <value> <step>`` lines (mlflow FileStore.log_metric), about 30 bytes
    a step, so 100 MB is over 3 million steps: beyond the million rows held, a sample."""
    run = path / "mlruns" / "1" / "0123456789abcdef"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "meta.yaml").write_text("run_id: 0123456789abcdef\nrun_name: big\nstatus: 3\n")
    (run / "params" / "vocab_size").write_text("50257")

    def line(s: int, loss: float) -> str:
        return f"{1714550400000 + s} {loss:.6f} {s}\n"

    _fill(run / "metrics" / "train_loss", size, "", line)
    rng = random.Random(1)
    with open(run / "metrics" / "val_loss", "w") as f:
        for s, loss in _losses(rng):
            if s > size // 30:
                break
            if s % EVAL_EVERY == 0:
                f.write(f"{1714550400000 + s} {loss + 0.02:.6f} {s}\n")
    return run


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
    "megatron": megatron,
    "torchtitan": torchtitan,
    "litgpt": litgpt,
    "fairseq": fairseq,
    "fairseq-json": fairseq_json,
    "deepspeed": deepspeed,
    "olmo": olmo,
    "composer": composer,
    "mlflow": mlflow,
}


# Peak RSS in kB of the process itself: VmHWM starts again at exec, while getrusage's ru_maxrss keeps the
# peak of the forked parent (this script, which has just generated the log) on Linux.
_HWM = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"


def measure(target: Path) -> tuple[int, float, float, float, str]:
    """(exit code, wall seconds, CPU seconds, peak RSS in MB, first stderr line) of `explain TARGET --json` in a fresh
    process. The CPU seconds (user + system of that process) do not grow when other work shares the machine."""
    code = (
        "import sys; from lossdoc.cli import run; rc = run(['explain', sys.argv[1], '--json']); "
        "sys.stderr.write('\\nMAXRSS %s\\n' % " + _HWM + "); sys.exit(rc)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    rss = 0.0
    lines = []
    for ln in proc.stderr.splitlines():
        if ln.startswith("MAXRSS "):
            rss = int(ln.split()[1]) / 1024
        elif ln.strip():
            lines.append(ln)
    return proc.returncode, wall, cpu, rss, (lines[0][:160] if lines else "")


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
    print(f"{'format':24} {'MB':>6} {'rc':>3} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}  note")
    try:
        for name in args.formats.split(","):
            folder = base / name
            folder.mkdir(exist_ok=True)
            target = FORMATS[name](folder, size)
            mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            rc, wall, cpu, rss, note = measure(target)
            if args.phases:
                note = (note + " " if note else "") + phases(target)
            print(f"{name:24} {mb:6.0f} {rc:3d} {wall:7.1f} {cpu:6.1f} {rss:8.0f}  {note}", flush=True)
            if args.keep is None:
                for p in sorted(folder.rglob("*"), reverse=True):
                    p.unlink() if p.is_file() else p.rmdir()
    finally:
        if args.keep is None:
            import shutil

            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
