"""Data sources for training. Each returns train and validation token rows.

``dummy`` is the seed's data: ``torch.randint(1, vocab_size, (n, seq_len))``,
seeded. The validation rows come from a second generator, so they are drawn
independently of the training rows.

``zipf`` and ``markov`` are synthetic sources with exact floors
(lossdoc.data.synthetic). Text sources (a .txt file or folder, pydoc,
wikitext2/103, hf:...) are tokenised once into the memory-mapped cache of
lossdoc.data.corpus; their token stream is cut into non-overlapping rows of
seq_len tokens (lossdoc.data.load, the numpy loader shared with `lossdoc baseline --data`) (the tail shorter than a row is dropped), read from the cache
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
from lossdoc.train.config import TrainConfig
from lossdoc.train.source import prepare_source  # noqa: F401  (torch-free: lossdoc.train.source; imported from here before)

TOKEN_LOW = 1  # the seed draws ids from [1, vocab_size): id 0 never occurs


class TokenRows:
    """Rows of seq_len tokens over a 1-d token array (a memmap of the cache), without copying it.

    Behaves like the (N, seq_len) int64 tensor the loop indexes: ``shape``,
    ``len``, and ``rows[i]``, ``rows[a:b]``, ``rows[index_tensor]``, which read
    just those rows and return int64 tensors.
    """

    def __init__(self, tokens: np.ndarray, seq_len: int) -> None:
        from lossdoc.data.load import rows_of

        self.rows = rows_of(tokens, seq_len)

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
    v = cfg.vocab_size
    if v is None:  # resolve_config gives every data source its V
        raise ValueError("make_dummy needs a resolved config (vocab_size set)")
    n_val = cfg.num_val_samples
    n_train = cfg.num_samples - n_val
    s_train, s_val = dummy_split_seeds(cfg.seed)
    train = torch.randint(TOKEN_LOW, v, (n_train, cfg.seq_len), generator=torch.Generator().manual_seed(s_train))
    val = torch.randint(TOKEN_LOW, v, (n_val, cfg.seq_len), generator=torch.Generator().manual_seed(s_val))
    header = {
        "kind": "dummy",
        "token_low": TOKEN_LOW,
        "token_high": v,
        "num_samples": cfg.num_samples,
        "num_train": n_train,
        "num_val": n_val,
        "seq_len": cfg.seq_len,
        "entropy_floor": floors.dummy_floor(TOKEN_LOW, v),
        "floor_kind": "exact",
        "unigram_entropy": math.log(v - TOKEN_LOW),
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


def make_synthetic(cfg: TrainConfig) -> Dataset:
    from lossdoc.data.load import synthetic_data

    rows = synthetic_data(cfg)  # numpy, shared with `lossdoc baseline --data`
    return Dataset(train=torch.from_numpy(rows.train), val=torch.from_numpy(rows.val), header=rows.header)


def _corpus(cfg: TrainConfig, progress):
    from lossdoc.data.load import open_corpus

    return open_corpus(cfg, progress)


def make_text(cfg: TrainConfig, progress: Callable[[str, int, int], None] | None = None) -> Dataset:
    from lossdoc.data.load import text_data

    rows = text_data(cfg, progress)  # numpy, shared with `lossdoc baseline --data`
    corpus = rows.corpus
    if corpus is None:  # text_data always reads a corpus (only synthetic rows have none)
        raise ValueError(f"no corpus for text data {cfg.data!r}")
    cfg.vocab_size = corpus.vocab_size
    cfg.tokenizer = corpus.tokenizer.name
    train, val = TokenRows(corpus.train, cfg.seq_len), TokenRows(corpus.val, cfg.seq_len)
    return Dataset(train=train, val=val, header=rows.header, tokenizer=corpus.tokenizer.to_dict())


def save_run_tokenizer(out_dir: str | Path, data: Dataset) -> None:
    """Write the run's vocabulary as tokenizer.json in the run folder (text data only)."""
    if data.tokenizer is not None:
        (Path(out_dir) / "tokenizer.json").write_text(json.dumps(data.tokenizer, ensure_ascii=False), encoding="utf-8")
