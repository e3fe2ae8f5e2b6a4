"""Issue 14's "done when" on real text and a broken run: a user adds one line (the callback, or RunLogger) to a
training on real English text (bytes of Python's docs, offline), and explain gives a sound verdict with no flags;
a learning rate far too high is *broken*. Tiny models, a hundred steps."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch
from typer.testing import CliRunner

from lossdoc.cli import app

V, T = 256, 32  # byte-level: every byte value is an id


def _text_rows(n: int, offset: int) -> torch.Tensor:
    """n rows of T bytes of real English text (pydoc_data), from ``offset`` on."""
    from pydoc_data.topics import topics

    data = "\n".join(topics[k] for k in sorted(topics)).encode("utf-8")[offset : offset + n * T]
    return torch.tensor(list(data), dtype=torch.long).view(n, T)


def _explain(path) -> dict:
    res = CliRunner().invoke(app, ["explain", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _learned(doc: dict) -> None:
    """A healthy run on real text: learning or converged, no failed check; the only fact no log can give is the
    entropy floor of natural text (explain names --floor for it)."""
    assert doc["verdict"] in ("still-learning", "converged"), (doc["verdict"], doc["headline"])
    assert [f["code"] for f in doc["findings"] if f["status"] == "fail"] == []
    assert [m["fact"] for m in doc["facts"]["missing"]] == ["entropy_floor"] and doc["facts"]["random_data"] is False
    assert doc["facts"]["vocab_size"] == V and doc["facts"]["sources"]["vocab_size"]["kind"] == "log"
    assert doc["facts"]["best_val_loss"] < 4.0 < doc["facts"]["ln_v"]  # far below a uniform guess over 256 bytes


# --------------------------------------------------------------------------- plain PyTorch: lossdoc.RunLogger


def _plain_loop(run_dir, *, lr: float, steps: int = 150) -> None:
    import lossdoc

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(V, 64), torch.nn.Linear(64, V))  # a bigram model
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    train, val = _text_rows(2000, 0), _text_rows(100, 2000 * T)
    with lossdoc.RunLogger(run_dir, vocab_size=V, data="text", seq_len=T, pretrained=False, dropout=0.0) as log:
        for step in range(1, steps + 1):
            rows = train[torch.randint(0, len(train), (16,), generator=torch.Generator().manual_seed(step))]
            loss = torch.nn.functional.cross_entropy(model(rows[:, :-1]).reshape(-1, V), rows[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.batch(step, loss.item(), tokens=16 * (T - 1), lr=lr)
            if step % 30 == 0:
                with torch.no_grad():
                    vl = torch.nn.functional.cross_entropy(model(val[:, :-1]).reshape(-1, V), val[:, 1:].reshape(-1)).item()
                log.eval(step, vl, tokens=100 * (T - 1))


def test_runlogger_on_real_text_learns(tmp_path):
    _plain_loop(tmp_path / "run", lr=3e-2)
    _learned(_explain(tmp_path / "run"))


def test_runlogger_with_a_learning_rate_far_too_high_is_broken(tmp_path):
    _plain_loop(tmp_path / "run", lr=300.0)
    assert _explain(tmp_path / "run")["verdict"] == "broken"


# --------------------------------------------------------------------------- the Hugging Face Trainer

if importlib.util.find_spec("transformers") is None:
    pytest.skip("transformers is not installed", allow_module_level=True)


class _TextRows(torch.utils.data.Dataset):
    def __init__(self, rows: torch.Tensor):
        self.x = rows

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        labels = self.x[i].clone()
        labels[0] = -100  # (see test_hf.py: keeps the Trainer's token count right whatever it counts)
        return {"input_ids": self.x[i], "labels": labels}


def _hf_run(tmp_path, *, lr: float, steps: int = 120) -> dict:
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from lossdoc.integrations.hf import LossdocCallback

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=V, n_positions=T, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=steps,
        per_device_train_batch_size=16,
        learning_rate=lr,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=30,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
        lr_scheduler_type="constant",
    )
    cb = LossdocCallback(tmp_path / "run", data="text")
    Trainer(
        model=model, args=args, train_dataset=_TextRows(_text_rows(2000, 0)), eval_dataset=_TextRows(_text_rows(64, 2000 * T)), callbacks=[cb]
    ).train()
    return _explain(tmp_path / "run")


@pytest.mark.xdist_group("hf-lightning")  # where transformers is imported once (tests/integrations/test_hf.py)
def test_hf_trainer_on_real_text_learns(tmp_path):
    _learned(_hf_run(tmp_path, lr=3e-3))


@pytest.mark.xdist_group("hf-lightning")
def test_hf_trainer_with_a_learning_rate_far_too_high_is_broken(tmp_path):
    assert _hf_run(tmp_path, lr=300.0)["verdict"] == "broken"


# --------------------------------------------------------------------------- Lightning

if importlib.util.find_spec("lightning") is None:
    pytest.skip("lightning is not installed", allow_module_level=True)


@pytest.mark.xdist_group("hf-lightning")  # where Lightning is imported once (tests/integrations/test_lightning.py)
def test_lightning_on_real_text_learns(tmp_path):
    import lightning.pytorch as pl

    from lossdoc.integrations.lightning import LossdocCallback
    from tests.integrations.lightning_models import TinyLM

    pl.seed_everything(0)
    train = torch.utils.data.DataLoader(_text_rows(1600, 0), batch_size=16, shuffle=True)
    val = torch.utils.data.DataLoader(_text_rows(64, 1600 * T), batch_size=64)
    trainer = pl.Trainer(
        max_epochs=2,
        callbacks=[LossdocCallback(tmp_path / "run", data="text")],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path / "pl"),
        val_check_interval=25,
    )
    trainer.fit(TinyLM(vocab_size=V), train, val)
    _learned(_explain(tmp_path / "run"))
