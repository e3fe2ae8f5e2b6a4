"""The teaching faults of ``lossdoc train --inject FAULT``, all in one place.

Each fault changes one thing in an otherwise healthy run, so that ``lossdoc explain``
(docs/verdicts.md) and ``lossdoc check`` (docs/check.md) have a known broken run to read.
The training loop asks a FaultPlan at the few points a fault can touch (data, model,
learning rate, labels, loss) and otherwise never looks at ``--inject``. No torch import here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

FAULTS = ("no-causal-mask", "unshifted-labels", "zero-lr", "exploding-lr", "large-init-logits", "val-leak", "nan-loss")
EXPLODING_LR_FACTOR = 3e3  # --inject exploding-lr multiplies the lr by this
LARGE_INIT_SCALE = 30.0  # --inject large-init-logits scales the LM head by this


def nan_loss_step(epochs: int, num_batches: int) -> int:
    """--inject nan-loss: the step whose loss is NaN, the middle batch of the last epoch
    (so that earlier epochs have left checkpoints that a stopped run keeps)."""
    return (epochs - 1) * num_batches + num_batches // 2 + 1


@dataclass(frozen=True)
class FaultPlan:
    """What ``--inject`` does to a run; ``FaultPlan(None)`` changes nothing."""

    fault: str | None = None
    nan_step: int | None = None  # nan-loss: the optimizer step whose loss is made NaN

    @classmethod
    def for_run(cls, fault: str | None, *, epochs: int, num_batches: int) -> FaultPlan:
        return cls(fault, nan_loss_step(epochs, num_batches) if fault == "nan-loss" else None)

    # ---- the model (TrainConfig.model_config)
    @property
    def causal(self) -> bool:
        """no-causal-mask: attention sees the future, so the next token is in the input."""
        return self.fault != "no-causal-mask"

    @property
    def init_logit_scale(self) -> float:
        """large-init-logits: the LM head starts LARGE_INIT_SCALE times too large."""
        return LARGE_INIT_SCALE if self.fault == "large-init-logits" else 1.0

    # ---- the objective
    @property
    def shifted_labels(self) -> bool:
        """unshifted-labels: the labels are the inputs, so the model only has to copy."""
        return self.fault != "unshifted-labels"

    # ---- the optimizer
    def lr(self, lr: float) -> float:
        """zero-lr: nothing is learned; exploding-lr: the lr is EXPLODING_LR_FACTOR times too high."""
        if self.fault == "zero-lr":
            return 0.0
        return lr * (EXPLODING_LR_FACTOR if self.fault == "exploding-lr" else 1.0)

    # ---- the data
    def leak_validation(self, data: Any) -> None:
        """val-leak: the validation rows are copies of training rows (changes ``data`` in place)."""
        if self.fault == "val-leak":
            data.val = data.train[: data.val.shape[0]].clone()

    # ---- the loss
    def loss(self, loss: Any, step: int) -> Any:
        """nan-loss: the loss of optimizer step ``nan_step`` (1-based) is NaN."""
        return loss * math.nan if step == self.nan_step else loss
