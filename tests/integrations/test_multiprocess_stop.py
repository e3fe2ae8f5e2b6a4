"""stop_on with two processes (torch.distributed on gloo, CPU): rank 0 decides, every rank stops at the same step.

Before, rank 0 alone stopped: Lightning's rank 1 went on and crashed ("Connection closed by peer"), or waited in
a collective for a rank that had left (what NCCL does). Each test launches a real 2-process run (slow)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LIGHTNING = textwrap.dedent("""
    import sys
    import torch
    import lightning.pytorch as pl
    from lossdoc.integrations.lightning import LossdocCallback, LossdocLogger

    V, T = 64, 16

    class TinyLM(pl.LightningModule):
        def __init__(self, nan_after):
            super().__init__()
            self.save_hyperparameters()
            self.emb = torch.nn.Embedding(V, 16)
            self.head = torch.nn.Linear(16, V)
            self.calls = 0

        def _loss(self, x):
            return torch.nn.functional.cross_entropy(self.head(self.emb(x[:, :-1])).reshape(-1, V), x[:, 1:].reshape(-1))

        def training_step(self, batch, batch_idx):
            self.calls += 1
            loss = self._loss(batch)
            return loss * float("nan") if self.calls > self.hparams.nan_after else loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self._loss(batch), sync_dist=True)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    if __name__ == "__main__":
        pl.seed_everything(0, verbose=False)
        data = torch.randint(0, V, (640, T), generator=torch.Generator().manual_seed(1))
        val = torch.randint(0, V, (128, T), generator=torch.Generator().manual_seed(2))
        if sys.argv[2:] == ["logger"]:  # LossdocLogger: its callback joins the Trainer on every process
            logger = LossdocLogger(sys.argv[1], data="random", stop_on="broken", vocab_size=V)
            cb, kw = logger.callback, {"callbacks": [], "logger": [logger]}
        else:
            cb = LossdocCallback(sys.argv[1], data="random", stop_on="broken", vocab_size=V)
            kw = {"callbacks": [cb], "logger": False}
        trainer = pl.Trainer(max_epochs=3, accelerator="cpu", devices=2, strategy="ddp", **kw,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(TinyLM(5), torch.utils.data.DataLoader(data, batch_size=16), torch.utils.data.DataLoader(val, batch_size=64))
        print(f"RANK {trainer.global_rank} step {trainer.global_step} stopped {cb.stopped}", flush=True)
""")

HF = textwrap.dedent("""
    import sys
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
    from lossdoc.integrations.hf import LossdocCallback

    V, T = 64, 16

    class Rows(torch.utils.data.Dataset):
        def __init__(self, n, seed):
            self.x = torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(seed))

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            labels = self.x[i].clone()
            labels[0] = -100
            return {"input_ids": self.x[i], "labels": labels}

    if __name__ == "__main__":
        torch.manual_seed(0)
        model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=V, n_positions=32))
        calls = [0]

        def nan_after_5(module, inputs, output):
            calls[0] += 1
            if calls[0] > 5 and module.training:
                output.loss = output.loss * float("nan")
            return output

        model.register_forward_hook(nan_after_5)
        args = TrainingArguments(output_dir=sys.argv[2], max_steps=40, per_device_train_batch_size=8, learning_rate=3e-3,
                                 logging_steps=1, report_to=[], use_cpu=True, save_strategy="no", logging_nan_inf_filter=False,
                                 seed=0, disable_tqdm=True, ddp_backend="gloo")
        cb = LossdocCallback(sys.argv[1], data="random", stop_on="broken")
        trainer = Trainer(model=model, args=args, train_dataset=Rows(640, 1), callbacks=[cb])
        trainer.train()
        print(f"RANK {args.process_index} step {trainer.state.global_step} stopped {cb.stopped}", flush=True)
        # as PyTorch asks of a script under torchrun (docs/distributed.md): the Trainer leaves its group, whose gloo
        # threads, left to interpreter exit, can abort a rank while its peer exits too (SIGABRT, seen in CI under load)
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
""")


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), LANG="C.UTF-8", MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS="1")
    env.pop("LC_ALL", None)
    for key in ("MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK"):
        env.pop(key, None)
    return env


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _records(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text().splitlines()]


def _check_stopped_on_both(proc: subprocess.CompletedProcess, log: Path, step: int = 6, said: int = 6) -> None:
    """Both ranks ended at ``step`` with exit 0; rank 0 alone printed the stop line, of the record at step ``said``."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # two processes share one stdout pipe: a rank's line can land right after another process's unterminated output,
    # so the lines are found where they are, not only at a line's start
    ranks = sorted(re.findall(r"RANK \d+ step \d+ stopped (?:True|False)", proc.stdout))
    assert ranks == [f"RANK 0 step {step} stopped True", f"RANK 1 step {step} stopped True"], out[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("lossdoc:")]
    assert len(lines) == 1 and f"stop_on=broken stopped training at step {said}" in lines[0], out[-3000:]  # rank 0 alone prints it
    recs = _records(log)
    assert [r["kind"] for r in recs if r["type"] == "event"] == ["stopped"]
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "stopped" and recs[-1]["steps"] == step
    assert recs[0]["config"]["world_size"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("mode,step", [("callback", 6), ("logger", 7)])
def test_lightning_ddp_two_processes_stop_together_and_exit_0(tmp_path, mode, step):
    pytest.importorskip("lightning.pytorch")
    script = tmp_path / "fit.py"
    script.write_text(LIGHTNING)
    env = dict(_env(), MASTER_PORT=str(_free_port()))
    cmd = [sys.executable, str(script), str(tmp_path / "run"), mode]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    # LossdocLogger holds step 6's record for the scalars logged at that step: written at step 7, decided and shared there
    _check_stopped_on_both(proc, tmp_path / "run" / "run.jsonl", step=step, said=6)


@pytest.mark.slow
def test_hf_trainer_under_torchrun_two_processes_stop_together_and_exit_0(tmp_path):
    pytest.importorskip("transformers")
    script = tmp_path / "train.py"
    script.write_text(HF)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(_free_port())]
    argv = [*cmd, str(script), str(tmp_path / "run"), str(tmp_path / "out")]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=240, cwd=tmp_path)
    if proc.returncode != 0 and "terminate called without an active exception" in proc.stderr:
        # gloo's threads torn down at a rank's exit while its peer exits too (docs/distributed.md): seen in three full
        # serial suites in a row on 2026-12-07, never in this file alone (14 runs, some under load). Once more, on a port
        # of its own and a fresh log: the stop itself must hold both times, and the second run must exit 0
        run = tmp_path / "run"
        assert [r["kind"] for r in _records(run / "run.jsonl") if r["type"] == "event"] == ["stopped"], proc.stderr[-3000:]
        shutil.rmtree(run)
        argv[argv.index("--master_port") + 1] = str(_free_port())
        proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=240, cwd=tmp_path)
    _check_stopped_on_both(proc, tmp_path / "run" / "run.jsonl")
