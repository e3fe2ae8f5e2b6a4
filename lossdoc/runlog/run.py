"""Run: the one normalised shape every log reader produces and the analyzer consumes.

Series are numpy arrays (float64; NaN where a value is missing), so a
million batches stay cheap. Header facts are None when the log does not
carry them; the analyzer then skips what needs them and says which flag
supplies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class BatchSeries:
    """One row per optimizer step, sorted by step, one row per step."""

    step: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    tokens: np.ndarray

    @classmethod
    def empty(cls) -> "BatchSeries":
        e = np.empty(0, dtype=np.float64)
        return cls(e, e, e, e, e, e)

    def __len__(self) -> int:
        return int(self.step.size)


@dataclass
class EpochSeries:
    """One row per evaluation: epoch 0 is the measurement before any update."""

    epoch: np.ndarray
    step: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_tokens: np.ndarray

    @classmethod
    def empty(cls) -> "EpochSeries":
        e = np.empty(0, dtype=np.float64)
        return cls(e, e, e, e, e)

    def __len__(self) -> int:
        return int(self.epoch.size)


@dataclass
class Event:
    kind: str  # resumed | interrupted | nonfinite_loss | nonfinite_grad | checkpoint_saved | ...
    step: float  # NaN when unknown
    message: str = ""


@dataclass
class ReaderWarning:
    """Something the reader tolerated: a message key (lossdoc.messages.runlog) and its arguments."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    source: str  # the path that was read
    format: str  # lossdoc | seed-console | hf-trainer | lightning-csv | tensorboard | nanogpt | csv | jsonl
    vocab_size: int | None = None
    entropy_floor: float | None = None  # the data's exact entropy (nats/token) when known
    floor_source: str | None = None  # dummy | zipf | markov | flag | ...
    val_floor_sample: float | None = None  # what the true source scores on these validation rows (synthetic data)
    random_data: bool = False  # tokens are i.i.d. uniform: the floor is ln of the token range
    unigram_entropy: float | None = None  # of the training split
    unigram_xent: float | None = None  # of the training unigram model on validation
    init_logit_std: float | None = None
    dropout: float | None = None
    batch_tokens: float | None = None  # tokens per optimizer step, when known
    model: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    batches: BatchSeries = field(default_factory=BatchSeries.empty)
    epochs: EpochSeries = field(default_factory=EpochSeries.empty)
    events: list[Event] = field(default_factory=list)
    warnings: list[ReaderWarning] = field(default_factory=list)
    status: str | None = None  # completed | interrupted | failed | None (no end record)
    records_read: int = 0
    records_skipped: int = 0
    schema: str | None = None

    @property
    def resumed(self) -> bool:
        return any(e.kind == "resumed" for e in self.events)
