"""Training on the new sources: headers carry exact floors and unigram baselines,
text runs resolve V from the tokenizer and save the vocabulary, resume stays exact."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import yaml

from lossdoc.cli import run as cli_run
from lossdoc.errors import ConfigError
from lossdoc.train.checkpoint import load_checkpoint
from lossdoc.train.config import TrainConfig
from lossdoc.train.loop import train

TINY = dict(seq_len=16, d_model=32, num_layers=1, num_heads=2, dropout=0.0, batch_size=16, lr=3e-3, seed=7, device="cpu")


def write_slice(path, n: int = 12_000) -> str:
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k] for k in sorted(topics))[:n]
    text = text[: text.rindex("\n") + 1]
    path.write_text(text, encoding="utf-8")
    return text


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_markov_run_header_carries_the_exact_floor(tmp_path):
    cfg = TrainConfig(
        data="markov", vocab_size=16, markov_successors=3, num_samples=160, val_fraction=0.25, epochs=2, out=str(tmp_path / "m"), **TINY
    )
    result = train(cfg)
    head = records(result.metrics_path)[0]
    d = head["data"]
    assert d["kind"] == "markov" and d["floor_kind"] == "exact" and head["vocab_size"] == 16
    # independent: rebuild the chain and take the stationary distribution from an eigenvector
    from lossdoc.data.synthetic import random_markov_chain

    p = random_markov_chain(16, 3, seed=7).dense()
    vals, vecs = np.linalg.eig(p.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi /= pi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        h = float(pi @ -np.where(p > 0, p * np.log(p), 0).sum(axis=1))
    assert math.isclose(d["entropy_floor"], h, rel_tol=1e-9)
    assert result.entropy_floor == d["entropy_floor"]
    # the unigram figures, recomputed from the rows the run trained on
    from lossdoc.train.data import load_data

    data = load_data(TrainConfig(**{**cfg.to_dict(), "out": None}))
    counts = np.bincount(data.train.numpy().ravel(), minlength=16).astype(float)
    q = counts / counts.sum()
    assert math.isclose(d["unigram_entropy"], float(-(q[q > 0] * np.log(q[q > 0])).sum()), rel_tol=1e-9)
    smooth = (counts + 1) / (counts.sum() + 16)
    assert math.isclose(d["unigram_xent"], float(-np.log(smooth[data.val[:, 1:].numpy().ravel()]).mean()), rel_tol=1e-9)
    assert d["unigram_xent"] > d["entropy_floor"]  # context helps on a Markov chain


def test_zipf_run_header(tmp_path):
    cfg = TrainConfig(data="zipf", vocab_size=32, zipf_exponent=1.2, num_samples=64, val_fraction=0.25, epochs=1, out=str(tmp_path / "z"), **TINY)
    d = records(train(cfg).metrics_path)[0]["data"]
    w = np.arange(1, 33) ** -1.2
    p = w / w.sum()
    assert math.isclose(d["entropy_floor"], float(-(p * np.log(p)).sum()), rel_tol=1e-12)
    assert d["kind"] == "zipf" and d["zipf_exponent"] == 1.2 and d["floor_kind"] == "exact"


@pytest.mark.parametrize("tokenizer", ["char", "byte", "word"])
def test_text_run_resolves_vocab_and_saves_tokenizer(tmp_path, tokenizer):
    text = write_slice(tmp_path / "doc.txt")
    cfg = TrainConfig(
        data=str(tmp_path / "doc.txt"), tokenizer=tokenizer, min_freq=2, epochs=1, cache_dir=str(tmp_path / "cache"), out=str(tmp_path / "r"), **TINY
    )
    result = train(cfg)
    head = records(result.metrics_path)[0]
    d = head["data"]
    cut = text.index("\n", int(len(text) * 0.9)) + 1
    train_text = text[:cut]
    if tokenizer == "byte":
        v = 256
    elif tokenizer == "char":
        v = len(set(train_text)) + 1
    else:
        from collections import Counter

        v = sum(1 for c in Counter(train_text.split()).values() if c >= 2) + 2
    assert head["vocab_size"] == v and d["vocab_size"] == v and d["tokenizer"] == tokenizer
    assert d["kind"] == "text" and "entropy_floor" not in d
    assert d["num_train"] == d["train_tokens"] // 16 and d["num_val"] == d["val_tokens"] // 16
    saved = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert saved["vocab_size"] == v and saved["tokenizer"] == tokenizer
    vocab = json.loads((tmp_path / "r" / "tokenizer.json").read_text())
    ck = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert ck["tokenizer"] == vocab and vocab["name"] == tokenizer and vocab["vocab_size"] == v
    assert ck["model"]["head.weight"].shape[0] == v
    from lossdoc.runlog.schema import validate_file

    assert validate_file(result.metrics_path) == []


def test_text_unigram_figures_match_an_independent_count(tmp_path):
    text = write_slice(tmp_path / "doc.txt")
    cfg = TrainConfig(data=str(tmp_path / "doc.txt"), tokenizer="byte", epochs=1, cache_dir=str(tmp_path / "c"), out=str(tmp_path / "r"), **TINY)
    d = records(train(cfg).metrics_path)[0]["data"]
    cut = text.index("\n", int(len(text) * 0.9)) + 1
    tr = np.frombuffer(text[:cut].encode(), dtype=np.uint8).astype(int)
    va = np.frombuffer(text[cut:].encode(), dtype=np.uint8).astype(int)
    tr = tr[: len(tr) // 16 * 16]
    va = va[: len(va) // 16 * 16].reshape(-1, 16)[:, 1:].ravel()
    counts = np.bincount(tr, minlength=256).astype(float)
    q = counts[counts > 0] / counts.sum()
    assert math.isclose(d["unigram_entropy"], float(-(q * np.log(q)).sum()), rel_tol=1e-9)
    p = (counts + 1) / (counts.sum() + 256)
    assert math.isclose(d["unigram_xent"], float(-np.log(p[va]).mean()), rel_tol=1e-9)


def test_text_resume_is_exact(tmp_path):
    write_slice(tmp_path / "doc.txt")
    base = dict(data=str(tmp_path / "doc.txt"), tokenizer="char", epochs=2, cache_dir=str(tmp_path / "c"), **TINY)
    full = train(TrainConfig(out=str(tmp_path / "full"), **base))
    part = train(TrainConfig(out=str(tmp_path / "part"), **base), stop_at_step=7)
    assert part.status == "interrupted"
    resumed = train(resume=tmp_path / "part")
    assert resumed.status == "completed"
    assert resumed.best_val_loss == pytest.approx(full.best_val_loss, abs=1e-6)
    a = torch.load(tmp_path / "full" / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.parametrize(
    "values, field",
    [
        (dict(data="markov", vocab_size=4096), "vocab_size"),
        (dict(data="markov", vocab_size=8, markov_successors=9), "markov_successors"),
        (dict(data="zipf", zipf_exponent=-1.0), "zipf_exponent"),
        (dict(data="pydoc", tokenizer="bpe"), "tokenizer"),
        (dict(data="pydoc", min_freq=0), "min_freq"),
        (dict(data="markov", vocab_size=16, val_file="v.txt"), "val_file"),
        (dict(data="hf:"), "data"),
    ],
)
def test_config_validation(values, field):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**values)
    assert e.value.field == "--" + field.replace("_", "-")  # errors name the flag (issue 24)


def test_missing_text_file_is_one_line_before_any_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_run(["train", "--data", str(tmp_path / "nope.txt"), "--out", str(out), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no data source" in err and "nope.txt" in err
    assert not out.exists()
    code = cli_run(["train", "--data", str(tmp_path / "nope.txt"), "--out", str(out), "--lang", "zh"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "找不到数据源" in err
