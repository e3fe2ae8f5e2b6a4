"""Closing lines of `lossdoc train` for data other than dummy: the run against
the unigram baseline, and (text data) a sample from the trained model."""

from __future__ import annotations

import math

from rich.console import Console

from lossdoc.i18n import t

SAMPLE_TOKENS = {"char": 200, "byte": 200, "word": 60}  # tokens in the end-of-run sample
SAMPLE_TEMPERATURE = 0.8


def print_data_summary(console: Console, result, lang: str) -> int | None:
    """The run against the unigram baseline. Returns how many tokens to sample from the model (text data
    of a completed run), else None: the command draws the sample (training code), this only prints."""
    data = (result.header or {}).get("data") or {}
    xent = data.get("unigram_xent")
    best = result.best_val_loss
    if data.get("kind") == "dummy" or not isinstance(xent, (int, float)) or not math.isfinite(best):
        return None
    gap = xent - best
    verdict = t("train.unigram_below", lang, gap=f"{gap:.4f}") if gap > 0 else t("train.unigram_not_below", lang)
    console.print(t("train.summary_unigram", lang, best=f"{best:.4f}", xent=f"{xent:.4f}", verdict=verdict))
    tok = data.get("tokenizer")
    return SAMPLE_TOKENS.get(tok, 100) if tok and result.status == "completed" else None


def print_sample(console: Console, prompt: str, text: str, tokens: int, lang: str) -> None:
    """A sample from the trained model, as the command drew it."""
    console.print(t("train.sample_title", lang, prompt=prompt, tokens=tokens, temperature=SAMPLE_TEMPERATURE))
    console.print(text, markup=False, highlight=False, soft_wrap=True)
