"""Run -> Diagnosis: run every check, then decide the verdict by the ordered table in ``verdict``."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.analysis.checks import ALL_CHECKS, build_context
from lossdoc.analysis.model import MEMORISED_KEYS, Code, Diagnosis, Facts, Finding, Verdict
from lossdoc.analysis.verdict import BROKEN_CODES, decide, never_moved, no_curve, several_series
from lossdoc.runlog.run import Run

__all__ = ["BROKEN_CODES", "diagnose"]


def diagnose(run: Run) -> Diagnosis:
    # Logs can hold any float (1e308, -1e308): overflow gives inf/nan, which every check
    # tests for, so numpy's warnings about it would only be noise on stderr.
    with np.errstate(all="ignore"):
        ctx = build_context(run)
        findings = [check(ctx) for check in ALL_CHECKS]
    by = {f.code: f for f in findings}
    verdict, rule = decide(ctx, by)
    facts = Facts(
        vocab_size=ctx.vocab_size,
        ln_v=ctx.ln_v,
        entropy_floor=ctx.floor,
        floor_source=run.floor_source,
        random_data=ctx.random_data,
        init_loss=ctx.init,
        init_source=ctx.init_source,
        best_val_loss=ctx.best_val,
        final_val_loss=ctx.final_val,
        batch_sd=ctx.sigma_b if math.isfinite(ctx.sigma_b) else None,
        val_se=ctx.sigma_val if math.isfinite(ctx.sigma_val) else None,
        val_band=ctx.band_val,
        tokens_per_batch=ctx.tokens_per_batch,
        batches=len(run.batches),
        evaluations=len(run.epochs),
        format=run.format,
        status=run.status,
        resumed=run.resumed,
        unigram_entropy=run.unigram_entropy,
        unigram_xent=run.unigram_xent,
        pretrained=ctx.pretrained,
        unigram_estimate=ctx.unigram_est,
        val_noise_source=ctx.val_noise_source,
        validation_leads=ctx.val_led,
        header={
            k: getattr(run, k)
            for k in ("random_low", "dropout", "batch_tokens", "init_logit_std", "unigram_entropy", "unigram_xent", "loss_scale")
            if getattr(run, k) is not None
        },
        sources={name: src.to_dict() for name, src in _sources(run, ctx).items()},
        missing=_missing(findings),
        unchecked=[f.code for f in findings if f.status == "skipped"],
    )
    return Diagnosis(
        verdict=verdict,
        findings=findings,
        facts=facts,
        next_steps=_next_steps(verdict, by, ctx),
        rule=rule.name,
        decided_by=list(rule.decided_by(by)),
        headline=rule.headline,
    )


def _sources(run: Run, ctx) -> dict:
    out = dict(run.sources)
    if ctx.pretrained and ctx.pretrained_source is not None:
        out["pretrained"] = ctx.pretrained_source
    return out


def _missing(findings: list[Finding]) -> list[dict[str, str]]:
    """Facts the log lacks, each with the flag that supplies it (from the skipped checks)."""
    seen: dict[str, str] = {}
    for f in findings:
        if f.status in ("skipped", "warn") and f.flag:
            fact = "vocab_size" if "--vocab-size" in f.flag else "entropy_floor"
            seen.setdefault(fact, f.flag)
    return [{"fact": k, "flag": v} for k, v in seen.items()]


def _next_steps(verdict: Verdict, by: dict[Code, Finding], ctx) -> list[str]:
    steps: list[str] = []

    def fail(code: Code) -> bool:
        return by[code].status == "fail"

    if fail("nonfinite-loss") or fail("divergence") or by["spikes"].status == "warn":
        steps.append("next.lower_lr")
    if fail("init-loss"):
        steps.append("next.check_init_high" if by["init-loss"].key in ("f.init.high", "f.init.log2") else "next.check_leak")
    if by["scale"].key == "f.scale.eval_multiple":
        steps.append("next.eval_average")
    if fail("below-floor") or by["val-below-train"].status == "warn":
        steps.append("next.check_leak")
    if fail("no-learning") and by["no-learning"].key.startswith("f.nolearn.unigram"):
        steps.append("next.stuck_unigram")
    elif fail("no-learning") and by["no-learning"].key == "f.nolearn.frozen_accuracy":
        steps.append("next.one_class")
    elif fail("uniform-lock") or fail("no-learning"):
        steps.append("next.check_optimizer")
    if by["overfitting"].key in MEMORISED_KEYS and ctx.val.size < 2:
        steps.append("next.hold_out")  # memorising with no validation: there is no best epoch to stop at
    elif by["overfitting"].key == "f.overfit.val_never_fell":
        steps.append("next.generalise")  # validation never improved: no best epoch to stop at
    elif by["overfitting"].status == "fail" or by["overfitting"].key == "f.overfit.val_up_train_flat":
        steps.append("next.regularise")
    if verdict == "expected-plateau":
        steps.append("next.real_data" if ctx.random_data else "next.at_floor")
    elif verdict == "still-learning":
        steps.append("next.train_longer")
    elif verdict == "converged":
        steps.append("next.bigger_model")
    elif verdict == "inconclusive" and several_series(ctx):
        return ["next.one_run"]  # one run at a time
    elif verdict == "inconclusive" and no_curve(ctx):
        return ["next.give_log"]  # no flag makes final figures a curve
    elif verdict == "inconclusive" and never_moved(ctx, by):
        steps.append("next.never_moved")  # more steps of a series that never moved would not say more
    elif verdict == "inconclusive":
        steps.append("next.more_data_points")
    steps += _facts_to_give(verdict, by, ctx)
    seen: list[str] = []
    for s in steps:
        if s not in seen:
            seen.append(s)
    return seen


def _facts_to_give(verdict: Verdict, by: dict[Code, Finding], ctx) -> list[str]:
    """Flags worth suggesting: only for facts the log lacks, only where they would enable a check, and never one
    whose fact is known (V given, the data said to be text or random, a fine-tune: no --random)."""
    out: list[str] = []
    skipped = {f.code for f in by.values() if f.status == "skipped" and f.flag}
    if ctx.vocab_size is None and skipped & {"init-loss", "uniform-lock"}:
        out.append("next.give_vocab")
    if verdict == "inconclusive" and by["floor"].key == "f.floor.at_ln_v_unknown" or by["uniform-lock"].key == "f.uniform.unknown_floor":
        out.append("next.say_random")
    elif ctx.floor is None and not ctx.data_text and not ctx.pretrained and ctx.vocab_size is not None and "floor" in skipped:
        out.append("next.give_floor")
    return out
