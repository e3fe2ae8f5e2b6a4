"""The words of `lossdoc check`'s results, as closed sets (``Literal``): check codes and statuses."""

from __future__ import annotations

from typing import Literal, get_args

from lossdoc.analysis.model import Finding

CheckCode = Literal["init-loss", "causality", "labels", "overfit", "gradient-flow", "input-dependence", "train-eval"]
CheckStatus = Literal["pass", "warn", "fail", "skipped"]
CheckFinding = Finding[CheckCode, CheckStatus]
ORDER: tuple[CheckCode, ...] = get_args(CheckCode)  # the order the checks run and are shown in
