"""Data sources for training. Each returns train and validation token rows.

``dummy`` is the seed's data: ``torch.randint(1, vocab_size, (n, seq_len))``,
seeded. The validation rows come from a second generator, so they are drawn
independently of the training rows.

``zipf`` and ``markov`` are synthetic sources with exact floors
(lossdoc.data.synthetic). Text sources (a .txt file or folder, pydoc,
wikitext2/103, hf:...) are tokenised once into the memory-mapped cache of
lossdoc.data.corpus; their token stream is cut into non-overlapping rows of
seq_len tokens (the tail shorter than a row is dropped), read from the cache
batch by batch (TokenRows). The split is fixed by the source (docs/data.md), so
a resumed run sees the same rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lossdoc import floors
from lossdoc.data.corpus import unigram_figures
from lossdoc.errors import LossdocError
from lossdoc.train.config import TrainConfig

TOKEN_LOW = 1  # the seed draws ids from [1, vocab_size): id 0 never occurs


class TokenRows:
    """Rows of seq_len tokens over a 1-d token array (a memmap of the cache), without copying it.

    Behaves like the (N, seq_len) int64 tensor the loop indexes: ``shape``,
    ``len``, and ``rows[i]``, ``rows[a:b]``, ``rows[index_tensor]``, which read
    just those rows and return int64 tensors.
    """

    def __init__(self, tokens: np.ndarray, seq_len: int) -> None:
        n = int(tokens.shape[0]) // seq_len
        self.rows = tokens[: n * seq_len].reshape(n, seq_len)

    @property
    def shape(self) -> torch.Size:
        return torch.Size(self.rows.shape)

    @property
    def dtype(self) -> torch.dtype:
        return torch.int64

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.rows.size)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        return torch.from_numpy(np.asarray(self.rows[index]).astype(np.int64))

    def clone(self) -> torch.Tensor:
        return self[:]

    def to(self, *args, **kwargs) -> torch.Tensor:
        return self[:].to(*args, **kwargs)


@dataclass
class Dataset:
    train: torch.Tensor | TokenRows  # (N_train, seq_len) int64
    val: torch.Tensor | TokenRows  # (N_val, seq_len) int64
    header: dict[str, Any] = field(default_factory=dict)  # the run header's "data" object
    tokenizer: dict[str, Any] | None = None  # Tokenizer.to_dict() of text data (plain lists/str/int), else None


def dummy_split_seeds(seed: int) -> tuple[int, int]:
    """Generator seeds for the training and validation rows."""
    return seed, seed + 1_000_003


def make_dummy(cfg: TrainConfig) -> Dataset:
    n_val = cfg.num_val_samples
    n_train = cfg.num_samples - n_val
    s_train, s_val = dummy_split_seeds(cfg.seed)
    train = torch.randint(TOKEN_LOW, cfg.vocab_size, (n_train, cfg.seq_len), generator=torch.Generator().manual_seed(s_train))
    val = torch.randint(TOKEN_LOW, cfg.vocab_size, (n_val, cfg.seq_len), generator=torch.Generator().manual_seed(s_val))
    header = {
        "kind": "dummy",
        "token_low": TOKEN_LOW,
        "token_high": cfg.vocab_size,
        "num_samples": cfg.num_samples,
        "num_train": n_train,
        "num_val": n_val,
        "seq_len": cfg.seq_len,
        "entropy_floor": floors.dummy_floor(TOKEN_LOW, cfg.vocab_size),
        "floor_kind": "exact",
        "unigram_entropy": math.log(cfg.vocab_size - TOKEN_LOW),
    }
    return Dataset(train=train, val=val, header=header)


def load_data(cfg: TrainConfig, progress: Callable[[str, int, int], None] | None = None) -> Dataset:
    """The rows and header of ``cfg.data``. For text data this sets cfg.vocab_size (and cfg.tokenizer) to
    the tokenizer's, so that the model, config.yaml and the header carry the resolved values."""
    from lossdoc.data.sources import parse_spec

    kind = parse_spec(cfg.data).kind
    if kind == "dummy":
        return make_dummy(cfg)
    if kind in ("zipf", "markov"):
        return make_synthetic(cfg)
    return make_text(cfg, progress)


def prepare_source(cfg: TrainConfig) -> None:
    """Open (and for text, tokenise into the cache) the data source before a run folder is made, so a
    missing file or an unreachable hub is reported before anything is written."""
    from lossdoc.data.sources import parse_spec

    if parse_spec(cfg.data).kind not in ("dummy", "zipf", "markov"):
        _corpus(cfg, None)


def make_synthetic(cfg: TrainConfig) -> Dataset:
    from lossdoc.data import synthetic

    n_val = cfg.num_val_samples
    n_train = cfg.num_samples - n_val
    v = cfg.vocab_size
    train, val, floor, settings = synthetic.synthetic_rows(
        cfg.data, v, n_train, n_val, cfg.seq_len, cfg.seed, zipf_exponent=cfg.zipf_exponent, markov_successors=cfg.markov_successors
    )
    header: dict[str, Any] = {"kind": cfg.data, **settings}
    uni_h, uni_x = unigram_figures(train, val, v)
    header.update({
        "vocab_size": v,
        "num_samples": cfg.num_samples,
        "num_train": n_train,
        "num_val": n_val,
        "seq_len": cfg.seq_len,
        "train_tokens": int(train.size),
        "val_tokens": int(val.size),
        "entropy_floor": floor,
        "floor_kind": "exact",
        "unigram_entropy": uni_h,
        "unigram_xent": uni_x,
    })
    return Dataset(train=torch.from_numpy(train), val=torch.from_numpy(val), header=header)


def _corpus(cfg: TrainConfig, progress):
    from lossdoc.data.corpus import prepare_corpus

    return prepare_corpus(
        cfg.data, tokenizer=cfg.tokenizer, min_freq=cfg.min_freq, val_fraction=cfg.val_fraction,
        val_file=cfg.val_file, text_column=cfg.text_column, cache_dir=cfg.cache_dir, progress=progress,
    )


def make_text(cfg: TrainConfig, progress: Callable[[str, int, int], None] | None = None) -> Dataset:
    corpus = _corpus(cfg, progress)
    cfg.vocab_size = corpus.vocab_size
    cfg.tokenizer = corpus.tokenizer.name
    train, val = TokenRows(corpus.train, cfg.seq_len), TokenRows(corpus.val, cfg.seq_len)
    for split, rows, n in (("train", train, corpus.train.shape[0]), ("validation", val, corpus.val.shape[0])):
        if len(rows) < 1:
            raise LossdocError("error.data_too_short", split=split, source=corpus.info["source"], tokens=int(n), seq_len=cfg.seq_len)
    uni_h, uni_x = unigram_figures(train.rows, val.rows, corpus.vocab_size)
    info = corpus.info
    header: dict[str, Any] = {
        "kind": info["kind"],
        "source": info["source"],
        "tokenizer": info["tokenizer"],
        "vocab_size": corpus.vocab_size,
    }
    if "min_freq" in info:
        header["min_freq"] = info["min_freq"]
    header.update({
        "val_split": info["val_split"],
        "train_tokens": info["train_tokens"],
        "val_tokens": info["val_tokens"],
        "num_train": len(train),
        "num_val": len(val),
        "seq_len": cfg.seq_len,
        "unigram_entropy": uni_h,
        "unigram_xent": uni_x,
        "cache": info["cache"],
        "cache_hit": corpus.cache_hit,
    })
    return Dataset(train=train, val=val, header=header, tokenizer=corpus.tokenizer.to_dict())


def save_run_tokenizer(out_dir: str | Path, data: Dataset) -> None:
    """Write the run's vocabulary as tokenizer.json in the run folder (text data only)."""
    if data.tokenizer is not None:
        (Path(out_dir) / "tokenizer.json").write_text(json.dumps(data.tokenizer, ensure_ascii=False), encoding="utf-8")
