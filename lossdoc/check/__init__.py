"""`lossdoc check TARGET`: the checks that catch a broken pipeline before any training.

``run_checks(spec, ...)`` loads the target (lossdoc.check.target), adapts its
output to logits (lossdoc.check.adapt) and runs the seven checks
(lossdoc.check.checks) in a fixed order, each bounded by a step cap, small
sizes and a time limit. A check that raises is skipped with the reason.
Nothing here renders: lossdoc.render.check does.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

from lossdoc.analysis.model import Finding
from lossdoc.check.model import ORDER, CheckCode, CheckFinding, CheckStatus

__all__ = ["ORDER", "CheckCode", "CheckFinding", "CheckReport", "CheckStatus", "run_checks"]
LABELS = ("shifted", "unshifted")
DEFAULT_SEQ_LEN = 32


@dataclass
class CheckReport:
    target: str
    kind: str
    vocab_size: int
    seq_len: int
    batch_size: int
    device: str
    params: int
    trainable: int
    output: str  # how the logits were found in the output
    labels: str
    findings: list[CheckFinding]
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tracebacks: dict[str, str] = field(default_factory=dict)  # check code -> traceback, for --debug

    @property
    def verdict(self) -> CheckStatus:
        statuses = {f.status for f in self.findings}
        return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"

    @property
    def skipped(self) -> int:
        return sum(f.status == "skipped" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == "fail" else 0

    def finding(self, code: CheckCode) -> CheckFinding | None:
        return next((f for f in self.findings if f.code == code), None)


def _check_settings(*, labels: str | None, batch_size: int, steps: int, vocab_size: int | None, seq_len: int | None, lr: float) -> None:
    """One line and exit 2 (ConfigError) for a setting out of range, before anything is loaded."""
    from lossdoc.errors import ConfigError

    if labels is not None and labels not in LABELS:
        raise ConfigError("--labels", labels, "choice", choices=", ".join(LABELS))
    for name, value, bound in (("--batch-size", batch_size, 1), ("--steps", steps, 1), ("--vocab-size", vocab_size, 2), ("--seq-len", seq_len, 2)):
        if value is not None and value < bound:
            raise ConfigError(name, value, "ge", bound=bound)
    if not lr > 0:
        raise ConfigError("--lr", lr, "gt", bound=0)


def run_checks(
    spec: str,
    *,
    vocab_size: int | None = None,
    seq_len: int | None = None,
    batch_size: int = 4,
    device: str = "cpu",
    labels: str | None = None,
    steps: int = 200,
    lr: float = 3e-3,
    seed: int | None = None,
    time_limit: float = 60.0,
    trained: bool = False,
) -> CheckReport:
    import torch

    from lossdoc.check import checks as C
    from lossdoc.check.adapt import Forward
    from lossdoc.check.target import load_target
    from lossdoc.errors import ConfigError, LossdocError
    from lossdoc.train.loop import pick_device

    _check_settings(labels=labels, batch_size=batch_size, steps=steps, vocab_size=vocab_size, seq_len=seq_len, lr=lr)
    dev = pick_device(device)
    target = load_target(spec, trained=trained, seed=seed)
    labels = labels or target.labels or "shifted"  # a lossdoc run made with --inject unshifted-labels trained that way
    if seq_len is None:
        seq_len = min(DEFAULT_SEQ_LEN, target.max_positions) if target.max_positions else DEFAULT_SEQ_LEN
        seq_len = max(seq_len, 2)
    elif target.max_positions and seq_len > target.max_positions:
        raise ConfigError("--seq-len", seq_len, "half_open", low=2, high=target.max_positions + 1)
    model = target.model.to(dev).float()
    seed_ = 0 if seed is None else seed
    torch.manual_seed(seed_)
    fw = Forward(model, seq_len, vocab_size, dev)
    notes = list(target.notes)
    if fw.last_only:
        notes.append(("chk.note.last_only", {"kw": fw.target_kw or "-"}))
    s = C.Settings(batch_size=batch_size, seq_len=seq_len, steps=steps, lr=lr, labels=labels, seed=seed_, time_limit=time_limit)
    report = CheckReport(
        target=spec,
        kind=target.kind,
        vocab_size=fw.vocab_size,
        seq_len=seq_len,
        batch_size=batch_size,
        device=str(dev),
        params=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        output=fw.output_kind,
        labels=labels,
        findings=[],
        notes=notes,
    )
    results: dict[CheckCode, CheckFinding] = {}

    def guarded(code: CheckCode, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the user's model can raise anything; the check is skipped with the reason
            from lossdoc.check.target import exc_line

            report.tracebacks[code] = getattr(exc, "user_traceback", None) or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if isinstance(exc, LossdocError):  # rendered in the reader's language later
                return Finding(code, "skipped", "chk.skip.raised", {"detail": exc.render("en"), "error_key": exc.key, "error_args": exc.args_})
            return Finding(code, "skipped", "chk.skip.raised", {"detail": exc_line(exc)})

    results["init-loss"] = guarded("init-loss", C.check_init_loss, fw, s, trained=target.trained)
    results["causality"] = guarded("causality", C.check_causality, fw, s)
    results["train-eval"] = guarded("train-eval", C.check_train_eval, fw, s)
    results["gradient-flow"] = guarded("gradient-flow", C.check_gradient_flow, fw, s)
    results["labels"] = guarded("labels", C.check_labels, fw, s, causal_failed=results["causality"].status == "fail")
    over = guarded("overfit", C.check_overfit, fw, s)
    if isinstance(over, Finding):
        results["overfit"], twin, batch = over, None, None
    else:
        results["overfit"], twin, batch = over
    results["input-dependence"] = guarded("input-dependence", C.check_input_dependence, twin, batch, results["overfit"])
    report.findings = [results[c] for c in ORDER]
    return report
