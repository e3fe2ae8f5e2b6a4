"""What the analyzer returns: findings, facts and a verdict, as plain data (no rendering).

The words a diagnosis can hold are closed sets, written once here as ``Literal`` types
(mypy checks every assignment) and as tuples derived from them (what the code and tests
iterate over): ``Verdict``/``VERDICTS``, ``Status``/``STATUSES``, ``Code``/``CODES``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_args

Status = Literal["ok", "info", "warn", "fail", "skipped"]
Verdict = Literal["broken", "overfitting", "expected-plateau", "converged", "still-learning", "inconclusive"]
Code = Literal[
    "log",
    "nonfinite-loss",
    "init-loss",
    "scale",
    "floor",
    "below-floor",
    "uniform-lock",
    "no-learning",
    "progress",
    "divergence",
    "spikes",
    "overfitting",
    "val-below-train",
    "batch-noise",
]

STATUSES: tuple[Status, ...] = get_args(Status)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
CODES: tuple[Code, ...] = get_args(Code)


C = TypeVar("C", bound=str)
S = TypeVar("S", bound=str)


@dataclass
class Finding(Generic[C, S]):
    """One check's result. Generic in its code and status words: explain's checks make ``RunFinding``s,
    ``lossdoc check`` makes ``CheckFinding``s (lossdoc.check), and renderers read either."""

    code: C  # e.g. "init-loss"
    status: S
    key: str  # message key of the sentence (lossdoc.messages.explain)
    args: dict[str, Any] = field(default_factory=dict)  # numbers and words the sentence uses
    measured: float | None = None  # the run's number this finding is about
    reference: float | None = None  # what it was compared with
    flag: str | None = None  # for skipped findings: the flag that would enable the check

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "measured": self.measured,
            "reference": self.reference,
            "message_key": self.key,
            "args": self.args,
            "flag": self.flag,
        }


RunFinding = Finding[Code, Status]  # what explain's checks return


@dataclass
class Facts:
    """The numbers the explanation is built from (``facts`` in ``explain --json``; docs/verdicts.md)."""

    vocab_size: int | None = None
    ln_v: float | None = None  # ln V: the loss of a uniform guess over V ids
    entropy_floor: float | None = None  # the lowest loss any model can reach on this data, when known
    floor_source: str | None = None
    random_data: bool = False
    init_loss: float | None = None  # the loss before (or at) the first update
    init_source: str | None = None  # "epoch0" | "step1" | None
    best_val_loss: float | None = None
    final_val_loss: float | None = None
    batch_sd: float | None = None  # sd of one batch loss around its trend at the end of the run
    val_se: float | None = None  # standard error of one validation loss
    val_band: float | None = None  # the band within which two validation losses count as equal
    tokens_per_batch: float | None = None
    batches: int = 0
    evaluations: int = 0
    format: str | None = None  # the reader that read the log
    status: str | None = None  # the run's own end status (completed, interrupted, ...)
    resumed: bool = False
    unigram_entropy: float | None = None
    unigram_xent: float | None = None
    pretrained: bool | None = None
    unigram_estimate: float | None = None  # Zipf estimate of a unigram model's loss with V ids
    val_noise_source: str | None = None  # "tokens" | "series" | None
    validation_leads: bool = False  # 3+ evaluations: the verdict reads validation first
    header: dict[str, Any] = field(default_factory=dict)  # facts the log's header gave
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # fact -> FactSource.to_dict()
    missing: list[dict[str, str]] = field(default_factory=list)  # facts the log lacks, each with its flag
    unchecked: list[str] = field(default_factory=list)  # codes of the checks that were skipped

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Diagnosis:
    verdict: Verdict
    findings: list[RunFinding]
    facts: Facts
    next_steps: list[str]  # message keys
    rule: str | None = None  # the row of the decision procedure that decided (lossdoc.analysis.verdict.RULES)
    decided_by: list[str] = field(default_factory=list)  # codes of the findings that row read and that carried it
    headline: str | None = None  # the rule's own headline key, when the verdict's alone would mislead

    def finding(self, code: Code) -> RunFinding | None:
        return next((f for f in self.findings if f.code == code), None)


# the overfitting findings that read memorising from the training loss alone (no validation rose): their verdict's
# closing line and next step say so, not "validation is getting worse, stop at the best epoch"
MEMORISED_KEYS = frozenset({"f.overfit.memorising", "f.overfit.train_memorised", "f.overfit.train_memorised_no_epochs", "f.overfit.epoch_steps"})
