"""Data sources for training. Each returns train and validation token tensors.

``dummy`` is the seed's data: ``torch.randint(1, vocab_size, (n, seq_len))``,
seeded. The validation rows come from a second generator, so they are drawn
independently of the training rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from lossdoc import floors
from lossdoc.train.config import TrainConfig

TOKEN_LOW = 1  # the seed draws ids from [1, vocab_size): id 0 never occurs


@dataclass
class Dataset:
    train: torch.Tensor  # (N_train, seq_len) int64
    val: torch.Tensor  # (N_val, seq_len) int64
    header: dict[str, Any] = field(default_factory=dict)  # the run header's "data" object


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


def load_data(cfg: TrainConfig) -> Dataset:
    if cfg.data == "dummy":
        return make_dummy(cfg)
    raise ValueError(f"unknown data source {cfg.data!r}")  # config validation prevents this
