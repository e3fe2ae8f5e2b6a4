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
    def empty(cls) -> BatchSeries:
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
    def empty(cls) -> EpochSeries:
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


@dataclass(frozen=True)
class FactSource:
    """Where a fact about a run came from: shown beside it in the facts table and in --json.

    kind: ``log`` (a line or record of the log itself), ``file`` (a file beside the log:
    config.json, adapter_config.json, hparams.yaml), ``flag`` (the command line), ``default``
    (the defaults of the script that wrote the log, e.g. the seed script's V = 10000) or
    ``inferred`` (worked out from the losses; ``where`` says how).
    """

    kind: str
    where: str = ""  # language-neutral text (a file and key, a flag), or a message key "where.*" ...
    args: tuple[tuple[str, Any], ...] = ()  # ... and its arguments

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "args": dict(self.args)}


FACT_KINDS = ("log", "file", "flag", "default", "inferred")


@dataclass
class Run:
    source: str  # the path that was read
    format: str  # lossdoc | seed-console | hf-trainer | lightning-csv | tensorboard | nanogpt | csv | jsonl
    vocab_size: int | None = None
    entropy_floor: float | None = None  # the data's exact entropy (nats/token) when known
    floor_source: str | None = None  # dummy | zipf | markov | flag | ...
    val_floor_sample: float | None = None  # what the true source scores on these validation rows (synthetic data)
    random_data: bool = False  # tokens are i.i.d. uniform: the floor is ln of the token range
    data_kind: str | None = None  # what the log says the data is (lossdoc header: dummy | text | zipf | ...); None: not said
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
    status: str | None = None  # completed | interrupted | failed | stopped (train --stop-on) | None (no end record)
    records_read: int = 0
    records_skipped: int = 0
    schema: str | None = None
    pretrained: bool | None = None  # True: training started from pretrained weights (a fine-tune); None: unknown
    random_low: int | None = None  # random data: the lowest token id drawn (the seed's randint(1, V): 1)
    sources: dict[str, FactSource] = field(default_factory=dict)  # fact name -> where it came from
    loss_scale: float | None = None  # logged losses were this fraction of the true mean; they are corrected (runlog/corrections.py)
    # The training framework's own epoch of each evaluation, by its number in ``epochs.epoch`` (the lossdoc log's
    # ``trainer_epoch``): Lightning's 0-based current_epoch (several evaluations share one with val_check_interval
    # < 1), the transformers Trainer's fractional state.epoch. Empty when the log does not give it (lossdoc train,
    # RunLogger, other formats): then an evaluation's number is its epoch. Renderers name evaluations by it.
    trainer_epochs: dict[int, float] = field(default_factory=dict)
    trainer: str | None = None  # whose epochs trainer_epochs holds: "lightning" | "transformers" | None (not said)
    # The validation accuracy logged beside each evaluation's loss, in the evaluations' order, where the log gives one
    # at every evaluation (Keras' val_accuracy, the Trainer's eval_accuracy); empty otherwise. Read for one finding:
    # an accuracy that never changes (analysis/trends.py, ``_frozen_accuracy``).
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def resumed(self) -> bool:
        return any(e.kind == "resumed" for e in self.events)

    def set_fact(self, name: str, value: Any, kind: str, where: str = "", **args: Any) -> None:
        """Set a header fact (vocab_size, dropout, pretrained, ...) and record where it came from."""
        setattr(self, name, value)
        self.sources[name] = FactSource(kind, where, tuple(args.items()))

    def mark_sources(self, kind: str, where: str = "") -> None:
        """Record ``kind``/``where`` as the source of every header fact that is set and has none yet."""
        for name in FACT_NAMES:
            value = getattr(self, name)
            if value is not None and value is not False and name not in self.sources:
                self.sources[name] = FactSource(kind, where)


# The header facts, in the order the facts table shows them.
FACT_NAMES = (
    "vocab_size",
    "random_data",
    "random_low",
    "entropy_floor",
    "pretrained",
    "dropout",
    "batch_tokens",
    "init_logit_std",
    "unigram_entropy",
    "unigram_xent",
    "loss_scale",
)
