"""Chaos test: kill a training run with SIGKILL at random moments, resume it each time,
and check that nothing was lost.

    python scripts/chaos.py --kills 20 --seed 1

What it does (docs/reliability.md):

1. A reference run: `lossdoc train --config configs/tiny.yaml` (CPU, fixed seed, dropout 0.1 so
   that the RNG state has to survive the kills too), never interrupted.
2. The same run in another folder, killed with SIGKILL --kills times. Each kill lands at a random
   moment: during start-up (imports, data, the first records), after a random number of training
   steps, or just after an epoch boundary (while the run evaluates, saves checkpoints and logs).
   After every kill it checks that
   - every checkpoint in checkpoints/ loads with lossdoc's own load_checkpoint (weights_only=True);
   - `lossdoc explain DIR --json` exits 0 with a verdict, or, when the log holds no training
     record yet, exits 2 with exactly one line on stderr;
   and then restarts: `lossdoc train --resume DIR` when checkpoints/last.pt exists, otherwise the
   original command with --overwrite (a kill before the first checkpoint leaves nothing to resume).
3. After the last kill the run is left to finish. Then the per-epoch train and val losses (the
   latest record of each epoch) must equal the reference exactly, every batch record ever written
   (replayed steps included) must equal the reference batch of that step, explain must say the
   run was resumed and completed, and no temporary checkpoint file may be left.

Exit code 0 when every check passed, 1 otherwise. Needs a few seconds per kill (each restart
imports torch). Run from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "configs" / "tiny.yaml"
EXTRA = ["--dropout", "0.1"]  # dropout draws random numbers: the RNG state must survive the kills
POLL_S = 0.002
RUN_TIMEOUT_S = 300


@dataclass
class Report:
    kills: int = 0
    plans: list[str] = field(default_factory=list)
    restarts_from_scratch: int = 0
    resumes: int = 0
    checkpoints_checked: int = 0
    temp_files_seen: int = 0
    explains: int = 0
    explain_no_records: int = 0
    torn_logs: int = 0
    epochs_compared: int = 0
    batch_records_compared: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"  # one thread, like the test suite: the same float sums everywhere
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["COLUMNS"] = "200"
    return env


def train_args(out: Path, epochs: int) -> list[str]:
    return [sys.executable, "-m", "lossdoc", "train", "--config", str(CONFIG), "--out", str(out), "--epochs", str(epochs), *EXTRA]


def launch(args: list[str], log_to: Path) -> subprocess.Popen:
    fh = open(log_to, "wb")
    try:
        return subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=fh, stderr=subprocess.STDOUT)
    finally:
        fh.close()


def records(log: Path) -> list[dict]:
    """The complete, parseable records of a log (a torn last line is left out)."""
    try:
        raw = log.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for line in raw.split(b"\n")[:-1]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def last_step(log: Path) -> int:
    """The highest batch step in the log so far (0 when none)."""
    steps = [r["step"] for r in records(log) if r.get("type") == "batch"]
    return max(steps, default=0)


def checkpoint_step(out: Path) -> int:
    from lossdoc.train.checkpoint import load_checkpoint

    p = out / "checkpoints" / "last.pt"
    return int(load_checkpoint(p)["progress"]["step"]) if p.is_file() else 0


def wait_until(proc: subprocess.Popen, predicate, timeout: float) -> bool:
    """Poll until predicate() holds (True) or the process ends or the time is up (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if predicate():
            return True
        time.sleep(POLL_S)
    return False


def check_checkpoints(out: Path, report: Report) -> None:
    from lossdoc.errors import LossdocError
    from lossdoc.train.checkpoint import load_checkpoint

    folder = out / "checkpoints"
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if p.name.endswith(".tmp"):
            report.temp_files_seen += 1
            continue
        try:
            ck = load_checkpoint(p)
            assert math.isfinite(float(ck["progress"]["step"]))
        except (LossdocError, KeyError, AssertionError) as exc:
            report.failures.append(f"kill {report.kills}: checkpoint {p.name} does not load: {exc}")
        report.checkpoints_checked += 1


def explain(out: Path, in_process: bool) -> tuple[int, str, str]:
    """`lossdoc explain OUT --json`: (exit code, stdout, stderr)."""
    if in_process:
        from lossdoc.cli import run

        so, se = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
            rc = run(["explain", str(out), "--json"])
        return rc, so.getvalue(), se.getvalue()
    p = subprocess.run(
        [sys.executable, "-m", "lossdoc", "explain", str(out), "--json"], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    return p.returncode, p.stdout, p.stderr


def check_explain(out: Path, report: Report, in_process: bool, when: str) -> dict | None:
    rc, stdout, stderr = explain(out, in_process)
    report.explains += 1
    log = out / "run.jsonl"
    if log.is_file() and log.stat().st_size and not log.read_bytes().endswith(b"\n"):
        report.torn_logs += 1
    has_data = any(r.get("type") in ("batch", "epoch") for r in records(log))
    if rc == 0:
        try:
            doc = json.loads(stdout)
            assert doc["verdict"]
            return doc
        except (ValueError, KeyError, AssertionError):
            report.failures.append(f"{when}: explain exited 0 without a JSON diagnosis: {stdout[:200]!r}")
            return None
    if rc == 2 and not has_data and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr:
        report.explain_no_records += 1
        return None
    report.failures.append(f"{when}: explain exited {rc} (log has records: {has_data}); stderr: {stderr.strip()[:400]!r}")
    return None


def kill_plan(rng: random.Random, proc: subprocess.Popen, out: Path, startup_s: float, nb: int) -> str:
    """Wait for a random moment of the running process; returns what the moment was."""
    log = out / "run.jsonl"
    u = rng.random()
    if u < 0.2:
        delay = rng.uniform(0.0, startup_s)
        time.sleep(delay)
        return f"startup+{delay:.2f}s"
    start = checkpoint_step(out) if (out / "checkpoints" / "last.pt").is_file() else 0
    if u < 0.75:
        target = start + rng.randint(1, 2 * nb)
        extra = rng.uniform(0.0, 0.01)
        label = f"step {target}"
    else:
        target = (start // nb + rng.randint(1, 2)) * nb  # the last batch of an epoch
        extra = rng.uniform(0.0, 0.03)  # then evaluation, checkpoints and the epoch record
        label = f"epoch end at step {target}"
    wait_until(proc, lambda: last_step(log) >= target, RUN_TIMEOUT_S)
    time.sleep(extra)
    return f"{label}+{extra * 1000:.0f}ms"


def epoch_table(recs: list[dict]) -> dict[int, tuple]:
    table = {}
    for r in recs:
        if r.get("type") == "epoch":
            table[r["epoch"]] = (r["train_loss"], r["val_loss"])
    return table


def batch_table(recs: list[dict]) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in recs if r.get("type") == "batch"}


def reference_run(ref: Path, epochs: int, workdir: Path) -> float:
    """The uninterrupted run; returns the seconds from launch to the first batch record."""
    t0 = time.monotonic()
    proc = launch(train_args(ref, epochs), workdir / "reference.out")
    wait_until(proc, lambda: last_step(ref / "run.jsonl") >= 1, RUN_TIMEOUT_S)
    startup = time.monotonic() - t0
    if proc.wait(RUN_TIMEOUT_S) != 0:
        raise SystemExit(f"the reference run failed; see {workdir / 'reference.out'}")
    return startup


def chaos(kills: int, seed: int, epochs: int, workdir: Path, *, reference: Path | None = None, in_process_explain: bool = False, say=print) -> Report:
    """Run the chaos test in workdir; returns the report (report.ok tells whether it passed)."""
    from lossdoc.runlog.readers import read_run
    from lossdoc.train.config import resolve_config

    rng = random.Random(seed)
    report = Report()
    nb = math.ceil((resolve_config(CONFIG).num_samples - resolve_config(CONFIG).num_val_samples) / resolve_config(CONFIG).batch_size)
    if reference is None:
        reference = workdir / "reference"
        startup_s = reference_run(reference, epochs, workdir)
        say(f"reference run: {epochs} epochs x {nb} batches, {startup_s:.1f}s to the first step")
    else:
        startup_s = 3.0
    ref_recs = records(reference / "run.jsonl")
    out = workdir / "chaos"
    cycle = 0
    while True:
        cycle += 1
        if (out / "checkpoints" / "last.pt").is_file():
            args = [sys.executable, "-m", "lossdoc", "train", "--resume", str(out)]
            report.resumes += 1
        else:
            args = train_args(out, epochs) + (["--overwrite"] if cycle > 1 else [])
            report.restarts_from_scratch += cycle > 1
        proc = launch(args, workdir / f"cycle{cycle:03d}.out")
        if report.kills >= kills:
            rc = proc.wait(RUN_TIMEOUT_S)
            if rc != 0:
                report.failures.append(f"the final run exited {rc}; see {workdir / f'cycle{cycle:03d}.out'}")
            break
        plan = kill_plan(rng, proc, out, startup_s, nb)
        if proc.poll() is not None:  # ended before the kill
            rc = proc.returncode
            if rc != 0:
                report.failures.append(f"cycle {cycle} exited {rc} on its own; see {workdir / f'cycle{cycle:03d}.out'}")
            else:
                report.failures.append(f"the run completed after {report.kills} kills, before the kill planned at {plan}; use more --epochs")
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(RUN_TIMEOUT_S)
        report.kills += 1
        report.plans.append(plan)
        check_checkpoints(out, report)
        check_explain(out, report, in_process_explain, f"kill {report.kills} ({plan})")
        say(f"kill {report.kills:2d} at {plan:<28} last.pt at step {checkpoint_step(out) if (out / 'checkpoints' / 'last.pt').is_file() else '-'}")

    # the finished run against the reference
    recs = records(out / "run.jsonl")
    ref_ep, got_ep = epoch_table(ref_recs), epoch_table(recs)
    if got_ep != ref_ep:
        diff = [(e, ref_ep.get(e), got_ep.get(e)) for e in sorted(set(ref_ep) | set(got_ep)) if ref_ep.get(e) != got_ep.get(e)]
        report.failures.append(f"per-epoch losses differ from the reference (epoch, reference, chaos): {diff[:5]}")
    report.epochs_compared = len(ref_ep)
    ref_b = batch_table(ref_recs)
    for r in recs:
        if r.get("type") == "batch":
            report.batch_records_compared += 1
            if ref_b.get(r["step"]) != r["loss"]:
                report.failures.append(f"batch step {r['step']}: loss {r['loss']} (reference {ref_b.get(r['step'])})")
                break
    if len(batch_table(recs)) != len(ref_b):
        report.failures.append(f"{len(batch_table(recs))} distinct steps logged, the reference has {len(ref_b)}")
    run = read_run(out)
    import numpy as np

    ref_run = read_run(reference)
    if not (np.array_equal(run.epochs.val_loss, ref_run.epochs.val_loss) and np.array_equal(run.epochs.train_loss, ref_run.epochs.train_loss)):
        report.failures.append("the reader's epoch series differ from the reference's")
    doc = check_explain(out, report, in_process_explain, "final log")
    if doc is not None:
        if doc["facts"].get("status") != "completed":
            report.failures.append(f"final status {doc['facts'].get('status')!r}, expected 'completed'")
        if report.resumes and not doc["facts"].get("resumed"):
            report.failures.append("explain does not say that the run was resumed")
    left = [p.name for p in (out / "checkpoints").glob(".*.tmp")]
    if left:
        report.failures.append(f"temporary files left in checkpoints/: {left}")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20, help="SIGKILLs before the run may finish (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default 0)")
    ap.add_argument("--epochs", type=int, default=40, help="epochs of the tiny run; enough that the kills land mid-run (default 40)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the runs go (default: a temporary folder, removed on success)")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lossdoc-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    report = chaos(args.kills, args.seed, args.epochs, workdir)
    print(
        f"{report.kills} kills ({report.resumes} resumes, {report.restarts_from_scratch} restarts from scratch), "
        f"{report.checkpoints_checked} checkpoint loads, {report.temp_files_seen} temporary files seen, "
        f"{report.explains} explains ({report.explain_no_records} on logs without records, {report.torn_logs} torn last lines), "
        f"{report.epochs_compared} epochs and {report.batch_records_compared} batch records compared; {time.monotonic() - t0:.0f}s"
    )
    if report.kills < args.kills:
        report.failures.append(f"only {report.kills} of {args.kills} kills happened")
    if report.failures:
        for f in report.failures:
            print("FAIL:", f)
        print(f"runs kept in {workdir}")
        return 1
    print("PASS: every checkpoint loaded, every log explained, final losses equal the uninterrupted run")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
