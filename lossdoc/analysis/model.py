"""What the analyzer returns: findings and a verdict, as plain data (no rendering)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "info", "warn", "fail", "skipped")
VERDICTS = ("broken", "overfitting", "expected-plateau", "converged", "still-learning", "inconclusive")


@dataclass
class Finding:
    code: str  # e.g. "init-loss"
    status: str  # ok | info | warn | fail | skipped
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


@dataclass
class Diagnosis:
    verdict: str
    findings: list[Finding]
    facts: dict[str, Any]  # the numbers the explanation is built from (floors, noise, init, best, ...)
    next_steps: list[str]  # message keys

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)
