"""Write the MLflow and W&B fixtures (tests/fixtures/scale/mlruns/, tests/fixtures/scale/wandb/) with the real
tools: MLflow's file store (mlflow.log_metric / log_param to a ``file:`` tracking URI) and W&B in offline mode
(wandb.init(mode="offline"), whose console capture writes files/output.log). Three runs each: healthy,
plateau, diverging, with the curves of scripts/make_scale_fixtures.py.

Neither tool is a dependency of lossdoc: run this in an environment of its own, e.g.

    python -m venv /tmp/trackenv && /tmp/trackenv/bin/pip install mlflow-skinny wandb
    /tmp/trackenv/bin/python scripts/make_tracker_fixtures.py

The files W&B writes that lossdoc does not read (the binary run-<id>.wandb, logs/, tmp/, requirements.txt) are
deleted. wandb 0.31 in offline mode writes no files/config.yaml nor files/wandb-summary.json (they are in the
binary record file until ``wandb sync``); online run folders have them, and the tests write one in W&B's
format. MLflow's tags naming the user and the git commit are deleted; the rest is as the tools wrote it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "tests" / "fixtures" / "scale"
spec = importlib.util.spec_from_file_location("make_scale_fixtures", HERE / "make_scale_fixtures.py")
assert spec is not None and spec.loader is not None
curves = importlib.util.module_from_spec(spec)
spec.loader.exec_module(curves)
KINDS = ("healthy", "plateau", "diverging")


def mlflow_runs() -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 keeps the file store in maintenance mode behind this switch
    import mlflow

    root = OUT / "mlruns"
    shutil.rmtree(root, ignore_errors=True)
    mlflow.set_tracking_uri(root.as_uri())
    mlflow.set_experiment("sweep")
    for seed, kind in enumerate(KINDS):
        batches, evals = curves.curve(kind, seed)
        with mlflow.start_run(run_name=kind):
            mlflow.log_params({"vocab_size": curves.V, "block_size": 1024, "batch_size": 16, "init_from": "scratch"})
            for s, loss in batches:
                mlflow.log_metric("train_loss", loss, step=s)
            for s, loss in evals:
                mlflow.log_metric("val_loss", loss, step=s)
    for tag in root.glob("*/*/tags/*"):  # who ran it and from which git commit: not the fixture's business
        if tag.name != "mlflow.runName":
            tag.unlink()
    print(f"mlflow {mlflow.__version__}: wrote {root}")


CHILD = r"""
import sys, json, wandb
kind, seed = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[4])
import make_scale_fixtures as curves
batches, evals = curves.curve(kind, seed)
run = wandb.init(mode="offline", dir=sys.argv[3], project="sweep", name=kind,
                 config={"vocab_size": curves.V, "block_size": 1024, "batch_size": 16, "init_from": "scratch"})
ev = dict(evals)
print("Initializing a new model from scratch")
print(f"tokens per iteration will be: {16 * 1024:,}")
for s, loss in batches:
    if s in ev:
        print(f"step {s}: train loss {loss:.4f}, val loss {ev[s]:.4f}")
        wandb.log({"val/loss": ev[s]}, step=s)
    print(f"iter {s}: loss {loss:.4f}, time 12.34ms, mfu 5.67%")
    wandb.log({"train/loss": loss}, step=s)
run.finish()
"""


def wandb_runs() -> None:
    root = OUT / "wandb_sweep"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_CONSOLE": "wrap"}
    for seed, kind in enumerate(KINDS):
        subprocess.run([sys.executable, "-c", CHILD, kind, str(seed), str(root), str(HERE)], check=True, env=env)
    for run in (root / "wandb").glob("offline-run-*"):
        for p in list(run.iterdir()):
            if p.name != "files":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        for p in list((run / "files").iterdir()):
            if p.name not in ("output.log", "config.yaml", "wandb-summary.json"):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    for p in (root / "wandb").iterdir():
        if not p.name.startswith("offline-run-"):
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    import wandb

    print(f"wandb {wandb.__version__}: wrote {root}")


if __name__ == "__main__":
    mlflow_runs()
    wandb_runs()
