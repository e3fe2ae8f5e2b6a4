"""Regenerate the log fixtures in tests/fixtures/ with the real tools.

Each foreign format is written by the tool that really writes it: the
Hugging Face Trainer (trainer_state.json + config.json), PyTorch Lightning's
CSVLogger (metrics.csv + hparams.yaml) and TensorBoard's own writers (event
files), from tiny runs on a CPU (seconds each). nanoGPT-style, generic CSV and
JSON Lines logs come from a small loop here that prints exactly what
nanoGPT's train.py prints. The seed's console output (Chinese and English)
is written by a loop that prints the lines the seed's script prints.

The generated files are committed, so CI does not need these tools. To
regenerate (never let pip replace the installed torch; check with --dry-run):

    pip install transformers lightning tensorboard
    python scripts/make_fixtures.py            # all
    python scripts/make_fixtures.py hf tb      # some: seed nanogpt generic hf lightning tb malformed

Runs are seeded, but the tools' float arithmetic can differ across versions,
so the tests assert properties (shape, step alignment, verdicts), and exact
values only where this script controls them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------------------
# Data: random tokens (nothing to learn, floor ln V) and a learnable sequence.


def random_tokens(n: int, seq_len: int, vocab: int, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (n, seq_len), generator=g)


def counting_tokens(n: int, seq_len: int, vocab: int, seed: int):
    """x[t+1] = (x[t] + step) mod V with a random start and a step in {1, 2, 3}: learnable in context."""
    import torch

    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, vocab, (n, 1), generator=g)
    stride = torch.randint(1, 4, (n, 1), generator=g)
    return (start + stride * torch.arange(seq_len)) % vocab


# ---------------------------------------------------------------------------
# Hugging Face Trainer


def make_hf() -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    class Rows(torch.utils.data.Dataset):
        def __init__(self, rows):
            self.rows = rows

        def __len__(self):
            return len(self.rows)

        def __getitem__(self, i):
            return {"input_ids": self.rows[i], "labels": self.rows[i]}

    def run(
        name: str,
        data_fn,
        *,
        vocab: int,
        lr: float,
        epochs: int,
        seed: int,
        save_steps: int,
        eval_steps: int | None = None,
        grad_clip: float = 1.0,
        n_train: int = 256,
    ) -> None:
        out = _fresh(FIX / "hf_trainer" / name)
        torch.manual_seed(seed)
        cfg = GPT2Config(
            vocab_size=vocab,
            bos_token_id=0,
            eos_token_id=0,
            n_positions=32,
            n_embd=32,
            n_layer=1,
            n_head=2,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
        )
        model = GPT2LMHeadModel(cfg)
        # transformers 5.24 leaves GPT-2's loss_type None, and the Trainer then divides the summed
        # loss by all T labels of a row instead of the T - 1 it predicts: every logged loss comes
        # out (T - 1)/T too low (15/16 here). Naming the loss makes it count the shifted labels.
        model.loss_type = "ForCausalLM"
        train = Rows(data_fn(n_train, 16, vocab, seed))
        val = Rows(data_fn(64, 16, vocab, seed + 1))
        args = TrainingArguments(
            output_dir=str(out),
            per_device_train_batch_size=16,
            per_device_eval_batch_size=32,
            num_train_epochs=epochs,
            learning_rate=lr,
            max_grad_norm=grad_clip,
            logging_steps=4,
            eval_strategy="steps" if eval_steps else "epoch",
            eval_steps=eval_steps,
            save_strategy="steps",
            save_steps=save_steps,
            report_to="none",
            use_cpu=True,
            seed=seed,
            disable_tqdm=True,
        )
        trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val)
        trainer.train()
        trainer.save_state()
        trainer.save_model()
        _keep_only(out, {"trainer_state.json", "config.json"})

    # 16 steps per epoch. Random tokens: the loss falls to ln V and stays (nothing to learn).
    # 2048 rows, 128 steps: too many random tokens for the tiny model to memorise.
    run("random_plateau", random_tokens, vocab=64, lr=3e-3, epochs=1, seed=1, save_steps=64, eval_steps=16, n_train=2048)
    # A learnable sequence: the loss falls far below ln V.
    run("counting_healthy", counting_tokens, vocab=64, lr=3e-3, epochs=1, seed=2, save_steps=64, eval_steps=16, n_train=2048)
    # An absurd learning rate without clipping: spikes, then garbage or NaN.
    run("exploding_lr", counting_tokens, vocab=64, lr=5.0, epochs=3, seed=3, save_steps=1000, eval_steps=8, grad_clip=0.0)


def _keep_only(folder: Path, names: set[str]) -> None:
    """Delete weights, optimizer states and anything else: fixtures stay a few KB."""
    for p in sorted(folder.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        if p.is_file() and p.name not in names:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


# ---------------------------------------------------------------------------
# PyTorch Lightning CSVLogger


def make_lightning() -> None:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import CSVLogger
    from torch import nn

    class TinyLM(L.LightningModule):
        def __init__(self, vocab_size: int, d_model: int = 32, lr: float = 3e-3):
            super().__init__()
            self.save_hyperparameters()
            self.emb = nn.Embedding(vocab_size, d_model)
            self.mix = nn.GRU(d_model, d_model, batch_first=True)
            self.head = nn.Linear(d_model, vocab_size)

        def _loss(self, batch):
            (x,) = batch
            h, _ = self.mix(self.emb(x[:, :-1]))
            logits = self.head(h)
            return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))

        def training_step(self, batch, batch_idx):
            loss = self._loss(batch)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self._loss(batch), on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def run(name: str, train_rows, val_rows, *, vocab: int, epochs: int, seed: int, d_model: int = 32, lr: float = 3e-3, log_every: int = 2) -> None:
        base = _fresh(FIX / "lightning_csv" / name)
        L.seed_everything(seed, verbose=False)
        dl = lambda rows, shuffle: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(rows), batch_size=16, shuffle=shuffle)  # noqa: E731
        trainer = L.Trainer(
            max_epochs=epochs,
            accelerator="cpu",
            logger=CSVLogger(str(base), name="lightning_logs"),
            log_every_n_steps=log_every,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(TinyLM(vocab, d_model=d_model, lr=lr), dl(train_rows, True), dl(val_rows, False))

    run("random_plateau", random_tokens(4096, 16, 64, 11), random_tokens(64, 16, 64, 12), vocab=64, epochs=2, seed=11, log_every=8)
    run("counting_healthy", counting_tokens(128, 16, 64, 13), counting_tokens(64, 16, 64, 14), vocab=64, epochs=6, seed=13)
    # Few random training rows, a large model, many epochs: it memorises them, validation gets worse.
    run("memorising_overfit", random_tokens(32, 16, 64, 15), random_tokens(64, 16, 64, 16), vocab=64, epochs=30, seed=15, d_model=128, lr=1e-2)


# ---------------------------------------------------------------------------
# TensorBoard


def _tiny_loop(data_fn, *, vocab: int, steps: int, lr: float, seed: int, eval_every: int, on_batch, on_eval, n_train: int = 256) -> None:
    """A small GRU language model trained with AdamW; reports batch and eval losses to callbacks."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    train, val = data_fn(n_train, 16, vocab, seed), data_fn(64, 16, vocab, seed + 1)
    emb, rnn, head = nn.Embedding(vocab, 32), nn.GRU(32, 32, batch_first=True), nn.Linear(32, vocab)
    params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=lr)

    def loss_of(x):
        h, _ = rnn(emb(x[:, :-1]))
        logits = head(h)
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), x[:, 1:].reshape(-1))

    def evaluate():
        with torch.no_grad():
            return loss_of(train[:64]).item(), loss_of(val).item()

    g = torch.Generator().manual_seed(seed)
    for it in range(steps + 1):
        if it % eval_every == 0:
            on_eval(it, *evaluate())
        if it == steps:
            break
        x = train[torch.randint(0, len(train), (16,), generator=g)]
        loss = loss_of(x)
        opt.zero_grad()
        loss.backward()
        gn = float(torch.nn.utils.clip_grad_norm_(params, math.inf))
        opt.step()
        on_batch(it, loss.item(), opt.param_groups[0]["lr"], gn)


def make_tensorboard() -> None:
    from torch.utils.tensorboard import SummaryWriter

    def run(name: str, data_fn, *, lr: float, steps: int, seed: int, tags=("train/loss", "val/loss"), n_train: int = 256) -> None:
        out = _fresh(FIX / "tensorboard" / name)
        w = SummaryWriter(log_dir=str(out))
        train_tag, val_tag = tags
        written: dict[str, dict[int, float]] = {train_tag: {}, val_tag: {}, "lr": {}}

        def on_batch(it, loss, lr_, gn):
            w.add_scalar(train_tag, loss, it + 1)
            w.add_scalar("lr", lr_, it + 1)
            written[train_tag][it + 1] = loss
            written["lr"][it + 1] = lr_

        def on_eval(it, tr, va):
            w.add_scalar(val_tag, va, it)
            written[val_tag][it] = va

        _tiny_loop(data_fn, vocab=64, steps=steps, lr=lr, seed=seed, eval_every=20, on_batch=on_batch, on_eval=on_eval, n_train=n_train)
        w.close()
        _rename_events(out)
        # What was written, for the tests to check the reader against (beside the run folder, not in it).
        (FIX / "tensorboard" / f"{name}.expected.json").write_text(json.dumps(written, indent=0) + "\n", encoding="utf-8")

    run("counting_healthy", counting_tokens, lr=3e-3, steps=120, seed=21)
    # Random tokens, more rows than the model can memorise: it sits at ln V.
    run("random_plateau", random_tokens, lr=3e-3, steps=120, seed=22, n_train=8192)
    run("exploding_lr", counting_tokens, lr=30.0, steps=60, seed=23)
    run("custom_tags", counting_tokens, lr=3e-3, steps=60, seed=24, tags=("objective/nll", "heldout/nll"))
    _make_tensorboard_tf2_style()


def _make_tensorboard_tf2_style() -> None:
    """Keras-like layout: train/ and validation/ subfolders, tag epoch_loss, TF2 tensor-valued scalars,
    written with TensorBoard's own EventFileWriter and protos (no TensorFlow)."""
    from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    out = _fresh(FIX / "tensorboard" / "keras_layout")
    losses = {"train": [], "validation": []}

    def on_eval(it, tr, va):
        if it:
            losses["train"].append(tr)
            losses["validation"].append(va)

    _tiny_loop(counting_tokens, vocab=64, steps=100, lr=3e-3, seed=25, eval_every=20, on_batch=lambda *a: None, on_eval=on_eval)
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    for sub, values in losses.items():
        (out / sub).mkdir()
        w = EventFileWriter(str(out / sub))
        for epoch, v in enumerate(values):
            t = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[v])
            s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="epoch_loss", tensor=t, metadata=meta)])
            w.add_event(Event(wall_time=1.7e9 + epoch, step=epoch, summary=s))
        w.close()
        _rename_events(out / sub)


def _rename_events(folder: Path) -> None:
    """Event file names carry the host name and pid; make them stable."""
    for i, p in enumerate(sorted(folder.glob("events.out.tfevents.*"))):
        p.rename(folder / f"events.out.tfevents.1700000000.fixture.{i}")


# ---------------------------------------------------------------------------
# nanoGPT-style, generic CSV and JSON Lines: from the same small loop


def make_nanogpt_and_generic() -> None:
    out = _fresh(FIX / "nanogpt")
    gen = _fresh(FIX / "generic")

    def nanogpt(name: str, data_fn, *, lr: float, steps: int, seed: int, n_train: int = 256) -> list[dict]:
        lines, rows = [], []

        def on_eval(it, tr, va):
            lines.append(f"step {it}: train loss {tr:.4f}, val loss {va:.4f}")
            rows.append({"step": it, "train_loss": tr, "val_loss": va})

        def on_batch(it, loss, lr_, gn):
            lines.append(f"iter {it}: loss {loss:.4f}, time {12.5 + it % 3:.2f}ms, mfu {-100.0 if it < 5 else 1.23:.2f}%")
            rows.append({"step": it + 1, "loss": loss, "lr": lr_, "grad_norm": gn})

        _tiny_loop(data_fn, vocab=64, steps=steps, lr=lr, seed=seed, eval_every=25, on_batch=on_batch, on_eval=on_eval, n_train=n_train)
        head = ["tokens per iteration will be: 256", "number of parameters: 0.01M", "num decayed parameter tensors: 3, with 8,192 parameters"]
        (out / f"{name}.log").write_text("\n".join(head + lines) + "\n", encoding="utf-8")
        return rows

    rows = nanogpt("counting_healthy", counting_tokens, lr=3e-3, steps=100, seed=31)
    nanogpt("random_plateau", random_tokens, lr=3e-3, steps=100, seed=32, n_train=8192)
    nanogpt("exploding_lr", counting_tokens, lr=30.0, steps=50, seed=33)

    # Generic CSV: batch rows (loss) and eval rows (val_loss) in one sparse table.
    import csv

    with open(gen / "counting_healthy.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "loss", "val_loss", "lr"])
        for r in sorted(rows, key=lambda r: (r["step"], "loss" in r)):
            w.writerow([r["step"], _fmt(r.get("loss")), _fmt(r.get("val_loss")), _fmt(r.get("lr"))])
    # Generic JSON Lines with custom names (needs --step-col/--train-col/--val-col).
    with open(gen / "custom_names.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            rec = {"it": r["step"]}
            if "loss" in r:
                rec["nll"] = round(r["loss"], 6)
            else:
                rec["heldout_nll"] = round(r["val_loss"], 6)
            fh.write(json.dumps(rec) + "\n")
    # An epoch-level table as Keras' CSVLogger writes it: epoch (from 0), loss, val_loss on one row.
    with open(gen / "keras_epochs.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", "val_loss"])
        evals = [r for r in rows if "val_loss" in r and r["step"] > 0]
        for i, r in enumerate(evals):
            w.writerow([i, _fmt(r["train_loss"]), _fmt(r["val_loss"])])


def _fmt(v) -> str:
    return "" if v is None else repr(float(v))


# ---------------------------------------------------------------------------
# The seed's console output, Chinese and English


def make_seed() -> None:
    """The seed's script on its dummy data: V = 10000, tokens from [1, V), PyTorch-default init.

    The numbers are the seed's own (first loss ~9.38, batches 9.19-9.24, best
    validation loss 9.2290) on a curve shaped like its run: a fast fall from
    ln V + 1/6 to ~ln V in the first epoch, then noise around ln(V - 1).
    """
    import numpy as np

    out = _fresh(FIX / "seed_console")
    rng = np.random.default_rng(0)
    epochs, nb, every = 3, 250, 10
    batch = {}
    for e in range(1, epochs + 1):
        for b in range(every, nb + 1, every):
            step = (e - 1) * nb + b
            level = 9.2103 + 0.17 * math.exp(-step / 40.0)
            value = level + rng.normal(0, 0.01)
            # the seed's batches after the first fall: "降到约 9.19～9.24"
            batch[(e, b)] = float(np.clip(value, 9.19, 9.24)) if step > 150 else value
    batch[(1, 1)] = 9.3812  # the first batch: before any update
    train = {1: 9.2687, 2: 9.2241, 3: 9.2226}
    val = {1: 9.2351, 2: 9.2302, 3: 9.2290}
    for lang in ("zh", "en"):
        lines = [
            "使用设备: cpu" if lang == "zh" else "Using device: cpu",
            "创建虚拟数据集..." if lang == "zh" else "Creating dummy dataset...",
            "模型参数量: 7,812,624" if lang == "zh" else "Model parameters: 7,812,624",
        ]
        best = math.inf
        for e in range(1, epochs + 1):
            lines.append(f"\nEpoch {e}/{epochs}")
            for b in [1] + list(range(every, nb + 1, every)) if e == 1 else range(every, nb + 1, every):
                lines.append(f"Epoch {e}, Batch {b}/{nb}, Loss: {batch[(e, b)]:.4f}")
            if lang == "zh":
                lines += [f"训练损失: {train[e]:.4f}", f"验证损失: {val[e]:.4f}"]
            else:
                lines += [f"Train Loss: {train[e]:.4f}", f"Val Loss: {val[e]:.4f}"]
            lines.append(
                f"检查点已保存: checkpoints/checkpoint_epoch_{e}.pt" if lang == "zh" else f"Checkpoint saved: checkpoints/checkpoint_epoch_{e}.pt"
            )
            if val[e] < best:
                best = val[e]
                lines.append("最佳模型已保存" if lang == "zh" else "Best model saved")
            lines.append(f"最佳验证损失: {best:.4f}" if lang == "zh" else f"Best Val Loss: {best:.4f}")
        lines.append("训练完成！" if lang == "zh" else "Training complete!")
        text = "\n".join(lines) + "\n"
        # The Chinese copy as a Windows terminal saves it: CRLF; the English one with Unix newlines.
        if lang == "zh":
            (out / "seed_zh.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
            (out / "seed_zh_gb18030.txt").write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
            (out / "seed_zh_utf16.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-16"))
        else:
            (out / "seed_en.txt").write_text(text, encoding="utf-8")
    # A messy paste: logging timestamps, a tqdm bar redrawn with carriage returns, full-width colons.
    messy = [
        "2024-05-01 10:00:00,001 - INFO - 开始训练",
        "Epoch 1/2:   0%|          | 0/100 [00:00<?, ?it/s]\r2024-05-01 10:00:01,120 - INFO - Epoch 1, Batch 1/100, Loss: 9.3790\r"
        "Epoch 1/2:  10%|█         | 10/100 [00:01<00:09, 9.8it/s]",
        "2024-05-01 10:00:02,500 - INFO - Epoch 1, Batch 50/100, Loss: 9.2450",
        "2024-05-01 10:00:03,900 - INFO - Epoch 1, Batch 100/100, Loss: 9.2210",
        "2024-05-01 10:00:04,000 - INFO - 训练损失：9.2601",
        "2024-05-01 10:00:04,300 - INFO - 验证损失：9.2330",
        "2024-05-01 10:00:04,310 - INFO - 最佳模型已保存",
        "2024-05-01 10:00:05,000 - INFO - Epoch 2, Batch 50/100, Loss: nan",
        "2024-05-01 10:00:06,000 - INFO - Epoch 2, Batch 100/100, Loss: 9.2190",
        "2024-05-01 10:00:06,100 - INFO - 训练损失：9.2250, 验证损失：9.2310",
        "2024-05-01 10:00:06,110 - INFO - 最佳验证损失：9.2330",
    ]
    (out / "seed_messy.txt").write_bytes(("\r\n".join(messy) + "\r\n").encode("utf-8"))


# ---------------------------------------------------------------------------
# Malformed inputs, one per format


def make_malformed() -> None:
    out = _fresh(FIX / "malformed")
    (out / "empty.txt").write_bytes(b"")
    (out / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (out / "seed_no_numbers.txt").write_text("Epoch 1, Batch 1/10, Loss: \n训练损失: \n", encoding="utf-8")
    (out / "trainer_state.json").write_text('{"global_step": 10, "log_history": [{"loss": 2.0, "step"', encoding="utf-8")
    (out / "not_trainer_state.json").write_text('{"global_step": 10, "history": []}', encoding="utf-8")
    (out / "metrics.csv").write_text("epoch,step,accuracy\n0,1,0.5\n0,2,0.6\n", encoding="utf-8")
    (out / "events.out.tfevents.1700000000.bad.0").write_bytes(b"\x18\x00\x00\x00\x00\x00\x00\x00garbage!" + os.urandom(40))
    (out / "nanogpt.log").write_text("iter 0: loss banana, time 1ms\nstep x: train loss , val loss\n", encoding="utf-8")
    (out / "generic.jsonl").write_text('{"step": 1, "loss": 2.0\nnot json\n', encoding="utf-8")
    (out / "generic.csv").write_text('step,loss\n"1,2.0\n', encoding="utf-8")


MAKERS = {
    "seed": make_seed,
    "nanogpt": make_nanogpt_and_generic,
    "generic": make_nanogpt_and_generic,
    "hf": make_hf,
    "lightning": make_lightning,
    "tb": make_tensorboard,
    "malformed": make_malformed,
}


def main(argv: list[str]) -> None:
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    names = argv or ["seed", "nanogpt", "hf", "lightning", "tb", "malformed"]
    done = set()
    for n in names:
        fn = MAKERS[n]
        if fn not in done:
            print(f"making {n} fixtures ...", flush=True)
            fn()
            done.add(fn)


if __name__ == "__main__":
    main(sys.argv[1:])
