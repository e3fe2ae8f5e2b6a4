"""Run -> Diagnosis: run every check, then pick one verdict by precedence.

Precedence: broken > overfitting > expected-plateau | converged | still-learning > inconclusive.
"""

from __future__ import annotations

import math

import numpy as np

from lossdoc.analysis import thresholds as th
from lossdoc.analysis.checks import ALL_CHECKS, build_context
from lossdoc.analysis.model import Code, Diagnosis, Facts, Finding, Verdict
from lossdoc.runlog.run import Run

BROKEN_CODES: tuple[Code, ...] = ("nonfinite-loss", "init-loss", "below-floor", "uniform-lock", "no-learning", "divergence")


def diagnose(run: Run) -> Diagnosis:
    # Logs can hold any float (1e308, -1e308): overflow gives inf/nan, which every check
    # tests for, so numpy's warnings about it would only be noise on stderr.
    with np.errstate(all="ignore"):
        ctx = build_context(run)
        findings = [check(ctx) for check in ALL_CHECKS]
    by = {f.code: f for f in findings}
    verdict = _verdict(ctx, by)
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
    return Diagnosis(verdict=verdict, findings=findings, facts=facts, next_steps=_next_steps(verdict, by, ctx))


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


def _verdict(ctx, by: dict[Code, Finding]) -> Verdict:
    if any(by[c].status == "fail" for c in BROKEN_CODES):
        return "broken"
    if by["overfitting"].status == "fail":
        return "overfitting"
    if ctx.loss.size < th.MIN_BATCHES and ctx.val.size < 2:
        return "inconclusive"
    few = ctx.val.size == 0 and ctx.vocab_size is None and ctx.floor is None and ctx.loss.size < th.FEW_BATCHES_NO_FACTS
    if few and not _trend_measured(by["progress"], ctx):
        # a short run with nothing to compare it with, whose end says nothing on its own either
        return "inconclusive"
    floor = by["floor"]
    if floor.status == "ok":
        return "expected-plateau"
    progress = by["progress"]
    if progress.status == "info":
        return "still-learning"
    if progress.status in ("ok", "warn"):
        return "converged"
    return "inconclusive"


def _trend_measured(progress: Finding, ctx) -> bool:
    """Whether the end's trend says something without any other fact: a change beyond noise either way, or a
    settle whose change and uncertainty are both small beside the loss level (FEW_SETTLED_SE): a short Hugging Face log's records
    are averages over many steps, and a short log that fell fast and then stayed put has converged."""
    if progress.status in ("info", "warn"):
        return True
    if progress.status != "ok" or not ctx.tail.any():
        return False
    level = float(np.median(ctx.loss[ctx.tail]))
    se, change = progress.args.get("se"), progress.measured
    if not (math.isfinite(level) and level > 0 and isinstance(se, (int, float)) and change is not None and math.isfinite(change)):
        return False
    # settled: the change over the end is small beside the level, and so is its uncertainty (a short, still
    # falling tail whose fall is merely not significant is not "settled")
    return abs(change) <= th.FEW_SETTLED_SE * level and se <= th.FEW_SETTLED_SE * level


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
    elif fail("uniform-lock") or fail("no-learning"):
        steps.append("next.check_optimizer")
    if by["overfitting"].key == "f.overfit.epoch_steps":
        steps.append("next.hold_out")
    if by["overfitting"].status == "fail" or by["overfitting"].key == "f.overfit.val_up_train_flat":
        steps.append("next.regularise")
    if verdict == "expected-plateau":
        steps.append("next.real_data" if ctx.random_data else "next.at_floor")
    elif verdict == "still-learning":
        steps.append("next.train_longer")
    elif verdict == "converged":
        steps.append("next.bigger_model")
    elif verdict == "inconclusive":
        steps.append("next.more_data_points")
    skipped_flags = [f.flag for f in by.values() if f.status == "skipped" and f.flag]
    if skipped_flags:
        steps.append("next.give_facts")
    seen: list[str] = []
    for s in steps:
        if s not in seen:
            seen.append(s)
    return seen
