"""``--stop-on plateau``: how many steps it saves, and whether a run it stops would have fallen further.

Usage:
  python benchmarks/stop_plateau.py [--patience 1 2 3] [--live] -- TRAIN ARGS   # e.g. -- --data dummy
  python benchmarks/stop_plateau.py --log runs/x/run.jsonl [--patience 1 2 3]  # a run already trained to its end

1. The run is trained to its end without stopping (``lossdoc train TRAIN ARGS --out TMP``), or ``--log`` names one.
2. Its log is replayed one evaluation at a time: the lines up to and including evaluation k's record are what
   ``--stop-on plateau`` reads at the end of epoch k, and lossdoc.train.stop_on.judge (the stop's own decision, on
   lossdoc.analysis.diagnose) is asked at k = 1, 2, ... with one Plateau per patience, as the live run asks it.
3. For each patience: the step it stops at, the planned steps (the full run's last step) and the steps saved; the
   best validation loss at the stop (checkpoints/best.pt) and the lowest one after it in the full run; their
   difference (the later fall) against the noise band ``explain`` reports at the stop (facts.val_band: two
   validation losses closer than it count as equal). A stop is safe when the later fall is within that band.
4. ``--live`` also trains the same arguments with ``--stop-on plateau`` (the default patience) and prints where that
   run stopped, which must be the replay's stop.
Not a test: numbers for docs/integrations.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run
from lossdoc.train.stop_on import PLATEAU_PATIENCE, Plateau, judge


def _train(args: list[str], out: Path) -> float:
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "lossdoc", "train", *args, "--out", str(out), "--overwrite"]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    return time.perf_counter() - t


def _prefixes(log: Path) -> list[tuple[int, int, float, list[str]]]:
    """(evaluation, step, val loss, the log's lines up to its record) for each evaluation after training began."""
    lines = log.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec.get("type") == "epoch" and int(rec.get("epoch", 0)) >= 1:
            out.append((int(rec["epoch"]), int(rec["step"]), float(rec["val_loss"]), lines[: i + 1]))
    return out


def replay(log: Path, patience: int) -> dict:
    """Where --stop-on plateau with this patience stops the run of ``log``, and what the full run did after it."""
    evals = _prefixes(log)
    planned = max(int(json.loads(ln).get("step", 0) or 0) for ln in log.read_text(encoding="utf-8").splitlines())
    plateau = Plateau(patience)
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "run.jsonl"
        for k, (epoch, step, _val, lines) in enumerate(evals):
            part.write_text("\n".join(lines) + "\n", encoding="utf-8")
            run = read_run(part)
            decision = judge(run, "plateau", plateau)
            if decision is None:
                continue
            facts = diagnose(run).facts
            best_at_stop = min(v for _, _, v, _ in evals[: k + 1])
            after = [v for _, _, v, _ in evals[k + 1 :]]
            fall = best_at_stop - min(after) if after else 0.0
            return {
                "patience": patience,
                "verdict": decision[0],
                "stop_epoch": epoch,
                "stop_step": step,
                "planned_steps": planned,
                "steps_saved": planned - step,
                "best_val_at_stop": round(best_at_stop, 4),
                "best_val_after": round(min(after), 4) if after else None,
                "later_fall": round(fall, 4),
                "val_band": round(facts.val_band, 4) if facts.val_band is not None else None,
                "safe": facts.val_band is not None and fall <= facts.val_band,
            }
    return {"patience": patience, "verdict": None, "stop_step": None, "planned_steps": planned, "steps_saved": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, help="a run.jsonl trained to its end without stopping")
    ap.add_argument("--patience", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--live", action="store_true", help=f"also train with --stop-on plateau (patience {PLATEAU_PATIENCE})")
    ap.add_argument("train_args", nargs="*", help="lossdoc train arguments (after --)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = a.log
        if log is None:
            wall = _train(a.train_args, Path(tmp) / "full")
            log = Path(tmp) / "full" / "run.jsonl"
            print(f"full run: {wall:.0f} s wall, {os.getloadavg()[0]:.2f} load average at its end")
        final = diagnose(read_run(log))
        print(f"full run verdict: {final.verdict}; best val {final.facts.best_val_loss}")
        for p in a.patience:
            print(json.dumps(replay(log, p)))
        if a.live:
            wall = _train([*a.train_args, "--stop-on", "plateau"], Path(tmp) / "live")
            end = json.loads((Path(tmp) / "live" / "run.jsonl").read_text(encoding="utf-8").splitlines()[-1])
            stops = [json.loads(ln) for ln in (Path(tmp) / "live" / "run.jsonl").read_text(encoding="utf-8").splitlines() if '"stopped"' in ln]
            stop = stops[0] if stops else {}
            print(
                f"live --stop-on plateau: {wall:.0f} s wall; status {end.get('status')} at step {end.get('steps')}; {stop.get('message', 'no stop')}"
            )


if __name__ == "__main__":
    main()
