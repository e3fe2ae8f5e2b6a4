"""Diagnosis -> text: the verdict panel, the findings table, the explanation, next steps.

Renderers only look things up and format; every decision is in lossdoc.analysis.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from lossdoc.analysis.model import MEMORISED_KEYS, Diagnosis, Finding
from lossdoc.i18n import catalogs, t
from lossdoc.runlog.run import Run

VERDICT_STYLE = {
    "broken": "bold red",
    "overfitting": "bold yellow",
    "expected-plateau": "bold green",
    "converged": "bold green",
    "still-learning": "bold cyan",
    "inconclusive": "bold",
}
STATUS_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "bold red", "skipped": "dim"}


def fmt(x: Any, nd: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        if x != 0 and abs(x) < 0.5 * 10.0**-nd:
            return f"{x:.{nd}g}"  # nd decimals would print 0.0000: a loss on a tiny scale keeps its digits (3.334e-05)
        return f"{x:.{nd}f}"
    return str(x)


def _digits(key: str) -> int:
    if key == "unigram":
        return 2  # an estimate: more digits would claim precision it does not have
    if key in ("pct", "final_pct", "share", "expected_share", "captured", "z", "ratio", "rel", "fall_pct", "last_pct"):
        return 1 if key in ("share", "expected_share", "captured", "z", "rel", "fall_pct", "last_pct") else 2
    return 3 if key.endswith("std") else 4


@dataclass(frozen=True)
class EvalNames:
    """How to name the evaluations of a run whose log gives the training framework's own epoch of each
    (Run.trainer_epochs): by that epoch and the step, as the framework's own logs do ("Lightning epoch 2, step 340"),
    never by lossdoc's evaluation number, which runs past the framework's epochs when it validates within one."""

    trainer: str | None  # Run.trainer: "lightning" | "transformers" | None
    epochs: dict[int, float]  # evaluation number -> the framework's epoch
    steps: dict[int, float]  # evaluation number -> its step, where the run's series give it

    def of(self, value: Any) -> tuple[float, float | None] | None:
        """(framework epoch, step or None) of the evaluation numbered ``value``, or None when it has none."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not float(value).is_integer():
            return None
        n = int(value)
        if n not in self.epochs:
            return None
        return self.epochs[n], self.steps.get(n)

    def json(self, value: Any) -> dict[str, Any] | None:
        """What --json adds beside an evaluation number: the framework, its epoch, the step."""
        named = self.of(value)
        if named is None:
            return None
        return {"evaluation": int(value), "trainer": self.trainer, "trainer_epoch": named[0], "step": named[1]}


def eval_names(run: Run | None) -> EvalNames | None:
    """The run's EvalNames, or None when its log numbers evaluations as epochs (no trainer_epoch in it)."""
    if run is None or not run.trainer_epochs:
        return None
    e = run.epochs
    steps = {int(n): float(s) for n, s in zip(e.epoch.tolist(), e.step.tolist()) if math.isfinite(n) and math.isfinite(s)}
    return EvalNames(run.trainer, dict(run.trainer_epochs), steps)


def _number(x: float) -> str:
    """1, 1.5, 0.25: an epoch or step as logged, without padding zeros."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def epoch_phrase(value: Any, lang: str, names: EvalNames | None = None) -> str:
    """An evaluation named in a sentence: "epoch 3" (第 3 轮), or, when ``names`` gives the framework's epoch of it,
    "Lightning epoch 2, step 340" (Lightning 的 epoch 2，第 340 步)."""
    named = names.of(value) if names is not None else None
    if named is None or names is None:
        shown = _args({"epoch": value})["epoch"] if value is not None else "-"
        return t("eval.epoch", lang, epoch=shown)
    epoch, step = named
    who = names.trainer if names.trainer in ("lightning", "transformers") else "trainer"
    key = f"eval.{who}" if step is not None else f"eval.{who}.no_step"
    return t(key, lang, epoch=_number(epoch), step=_number(step) if step is not None else "-")


# counts and positions: shown as logged (2, 1.5, 96.77), never padded with zeros
_PLAIN_KEYS = ("epoch", "epochs", "best_epoch", "span", "first_step", "step", "limit", "count", "pairs", "evals", "n", "vocab", "n_ids")


def _args(args: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in args.items():
        if isinstance(v, float) and k in _PLAIN_KEYS and math.isfinite(v):
            out[k] = f"{v:,.0f}" if v.is_integer() and k != "limit" else f"{v:g}"
        elif isinstance(v, float):
            out[k] = fmt(v, _digits(k))
        else:
            out[k] = "-" if v is None else v
    return out


def _at(args: dict[str, Any], raw: dict[str, Any], lang: str, names: EvalNames | None) -> dict[str, Any]:
    """``args`` with the evaluations the sentence names as phrases: at_epoch (from epoch), at_best (from best_epoch),
    and span_evals (from span: "5 epochs", or "5 evaluations" where the framework numbers its epochs apart)."""
    args["at_epoch"] = epoch_phrase(raw.get("epoch"), lang, names)
    args["at_best"] = epoch_phrase(raw.get("best_epoch"), lang, names)
    args["span_evals"] = t("eval.span_evals" if names is not None else "eval.span_epochs", lang, span=args.get("span", "-"))
    return args


def finding_sentence(f: Finding, lang: str, names: EvalNames | None = None) -> str:
    """The finding's sentence; ``names`` (eval_names(run)): how to name the run's evaluations."""
    args = _at(_args(f.args), f.args, lang, names)
    if isinstance(f.args.get("source"), dict):
        args["source"] = source_text(f.args["source"], lang)
    if f.code == "log" and isinstance(f.args.get("status"), str):  # completed, interrupted, ... in the reader's language
        args["status"] = t(f"runstatus.{f.args['status']}", lang) if f"runstatus.{f.args['status']}" in catalogs()["en"] else f.args["status"]
    if isinstance(f.args.get("unit"), str):
        args["unit"] = t(f"unit.{f.args['unit']}", lang)
    text = t(f.key, lang, **args)
    if f.code == "floor" and "floor_sample" in f.args:
        text += " " + t("f.floor.sample", lang, floor_sample=fmt(f.args["floor_sample"]), exact_floor=fmt(f.args["exact_floor"]))
    if f.code == "floor" and "captured" in f.args and f.status != "fail":
        text += " " + t("f.floor.captured", lang, captured=fmt(f.args["captured"], 1))
    return text


def explanation(d: Diagnosis, lang: str, names: EvalNames | None = None) -> list[str]:
    """The seed's reasoning, rebuilt from this run's numbers; ``names``: as finding_sentence's."""
    facts = d.facts
    out: list[str] = []
    init = d.finding("init-loss")
    if init is not None and init.key.startswith("f.init.pretrained"):
        args = _args(init.args)
        args["source"] = source_text(init.args.get("source") if isinstance(init.args.get("source"), dict) else None, lang)
        out.append(t("expl.pretrained", lang, **args))
    elif init is not None and init.status != "skipped":
        key = "expl.init_std" if init.args.get("std") is not None else "expl.init_plain"
        out.append(t(key, lang, **_args(init.args)))
    floor = facts.entropy_floor
    if floor is not None:
        if facts.random_data:
            n = round(math.exp(floor)) if floor < 700 else "∞"  # e^floor overflows past 709
            out.append(t("expl.floor_random", lang, n=n, floor=fmt(floor)))
        else:
            out.append(t("expl.floor_exact", lang, floor=fmt(floor)))
    elif facts.best_val_loss is not None:
        out.append(t("expl.floor_unknown", lang))
    fl = d.finding("floor")
    if fl is not None and fl.status != "skipped" and "best" not in fl.args:
        out.append(finding_sentence(fl, lang, names))  # the training level against the floor, or a loss at ln V: its own sentence
    elif fl is not None and fl.status != "skipped":
        excess = fl.args.get("excess")
        if fl.status != "fail" and isinstance(excess, (int, float)) and excess < 0:
            # below the floor by less than its noise: at the floor, and said as below, not "-0.004 nats above"
            args = _args(
                {**fl.args, "below": -excess, "pct": -fl.args["pct"] if isinstance(fl.args.get("pct"), (int, float)) else fl.args.get("pct")}
            )
            out.append(t("expl.best_within_below", lang, **_at(args, fl.args, lang, names)))
        else:
            out.append(t("expl.best_below" if fl.status == "fail" else "expl.best", lang, **_at(_args(fl.args), fl.args, lang, names)))
    elif facts.best_val_loss is not None:
        ov = d.finding("overfitting")
        epoch = ov.args.get("best_epoch", "-") if ov is not None else "-"
        out.append(t("expl.best_plain", lang, best=fmt(facts.best_val_loss), at_epoch=epoch_phrase(epoch, lang, names)))
    xent, best = facts.unigram_xent, facts.best_val_loss
    if xent is not None and best is not None and not facts.random_data:
        diff = xent - best
        out.append(
            t(
                "expl.unigram",
                lang,
                xent=fmt(xent),
                best=fmt(best),
                diff=fmt(abs(diff)),
                direction=t("expl.unigram.below" if diff >= 0 else "expl.unigram.above", lang),
            )
        )
    noise = d.finding("batch-noise")
    if noise is not None and noise.key == "f.noise.dips":
        out.append(t("expl.noise" if noise.args.get("tokens") else "expl.noise_plain", lang, **_args(noise.args)))
    elif noise is not None and noise.key == "f.noise.mean_below":
        out.append(t("expl.noise_memorise", lang, **_args(noise.args)))
    close_args = {"best": fmt(best)}
    close = f"expl.close.{d.verdict}"
    if d.verdict in ("converged", "still-learning") and any(f.status == "warn" for f in d.findings):
        close += ".warn"  # healthy on the whole, but a warning above deserves a look: no "without any sign of trouble"
    elif d.verdict == "overfitting" and (f := d.finding("overfitting")) is not None and f.key in MEMORISED_KEYS and facts.evaluations < 2:
        close = "expl.close.memorised"  # no validation got worse: the training loss alone says it
    elif d.verdict == "overfitting" and (f := d.finding("overfitting")) is not None and f.key == "f.overfit.val_never_fell":
        close = "expl.close.never_generalised"  # no epoch was good: "stop at the best epoch" would mislead
    elif d.rule == "no-curve":
        close = "expl.close.no_curve"  # more steps of the same page would not help: the log itself would
    elif d.rule == "several-runs":
        close = "expl.close.several_series"
    out.append(t(close, lang, **close_args))
    return out


def headline_key(d: Diagnosis) -> str:
    """The verdict's headline (the deciding rule's own, when it has one); a healthy verdict says so only as far as
    the checks that ran allow."""
    if d.headline:
        return d.headline
    if d.verdict == "overfitting" and (f := d.finding("overfitting")) is not None and f.key in MEMORISED_KEYS and d.facts.evaluations < 2:
        return "headline.overfitting.memorised"  # no validation got worse: the training loss alone says it
    key = f"headline.{d.verdict}"
    if d.verdict in ("converged", "still-learning") and any(
        f.status == "skipped" and f.code in ("init-loss", "floor", "overfitting") for f in d.findings
    ):
        key += ".unchecked"
    return key


def source_text(src: dict | None, lang: str) -> str:
    """'file: config.json: vocab_size', 'log: line 3', 'inferred: ...' in the reader's language."""
    if not src:
        return "-"
    where = src.get("where") or ""
    if where.startswith("where."):
        where = t(where, lang, **{k: fmt(v) if isinstance(v, float) else v for k, v in (src.get("args") or {}).items()})
    return t(f"source.{src['kind']}", lang) + (f": {where}" if where else "")


def fact_value(name: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return t("fact.yes" if value else "fact.no", lang)
    if isinstance(value, float):
        return fmt(value, 4) if not float(value).is_integer() or name in ("entropy_floor", "dropout") else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return fmt(value)


def facts_rows(d: Diagnosis, lang: str) -> list[tuple[str, str, str]]:
    """(fact, value, source) for every fact that is known, then every missing one with its flag."""
    from lossdoc.runlog.run import FACT_NAMES

    rows = []
    sources = d.facts.sources
    known = {**{k: getattr(d.facts, k) for k in ("vocab_size", "random_data", "entropy_floor", "pretrained")}, **d.facts.header}
    for name in FACT_NAMES:
        value = known.get(name)
        if value is None or (value is False and name not in sources):
            continue
        rows.append((t(f"fact.{name}", lang), fact_value(name, value, lang), source_text(sources.get(name), lang)))
    for m in d.facts.missing:
        rows.append((t(f"fact.{m['fact']}", lang), t("fact.missing", lang), " / ".join(re.findall(r"--[\w-]+", m["flag"])) or m["flag"]))
    return rows


def render_facts(console: Console, d: Diagnosis, lang: str, *, plain: bool = False) -> None:
    """The facts table; ``plain`` (explain's short view): without its frame, three lines shorter."""
    rows = facts_rows(d, lang)
    if not rows:
        return
    frame: dict[str, Any] = {"box": None, "header_style": "bold", "title_style": "bold"} if plain else {}
    table = Table(title=t("ui.facts", lang), title_justify="left", show_lines=False, expand=True, pad_edge=False, **frame)
    table.add_column(t("ui.col.fact", lang), no_wrap=True)
    table.add_column(t("ui.col.value", lang), justify="right", no_wrap=True)
    table.add_column(t("ui.col.source", lang), ratio=1, overflow="fold")
    for r in rows:
        table.add_row(*r)
    console.print(table)


MIN_MEANING_WIDTH = 24  # narrower than this, the findings are stacked instead of squeezed into a table


def _fixed_width(heads: list[str], rows: list[tuple]) -> int:
    """Columns the table's first four columns take: their widest cell, padding and rules."""
    from rich.cells import cell_len

    widths = [max([cell_len(heads[i])] + [cell_len(str(r[i])) for r in rows]) for i in range(4)]
    return sum(widths) + 2 * 4 + 6


def _stacked_findings(heads: list[str], rows: list[tuple], *, gap_after_last: bool = True) -> Table:
    """One block per finding: the check, its status and numbers on one line, the meaning wrapped below it."""
    table = Table(show_header=False, expand=True, pad_edge=False, box=None, padding=(0, 0))
    table.add_column(overflow="fold", ratio=1)
    for i, (check, status, measured, reference, meaning) in enumerate(rows):
        head = Text(check, style="bold")
        head.append("  ")
        head.append_text(status if isinstance(status, Text) else Text(str(status)))
        numbers = [f"{h} {v}" for h, v in ((heads[2], measured), (heads[3], reference)) if v != "-"]
        if numbers:
            head.append("  " + " · ".join(numbers))
        table.add_row(head)
        gap = 1 if gap_after_last or i < len(rows) - 1 else 0
        table.add_row(Padding(Text(meaning), (0, 0, gap, 2)))
    return table


# The short view (explain's default, issue 24): the verdict, the findings that decided it, the facts with their
# sources, the explanation and the next steps. Every check stays in --details and --json.
VERDICT_CODE = {"expected-plateau": "floor", "still-learning": "progress", "converged": "progress", "overfitting": "overfitting"}
# ok/info sentences that argue against a verdict: never shown as a reason for it (e.g. "the outputs are not uniform"
# on an expected plateau of random data, "still improving" on a converged run). A broken verdict shows no ok row.
ARGUES_AGAINST: dict[str, tuple[str, ...]] = {
    "expected-plateau": ("f.uniform.ok", "f.progress.improving", "f.progress.val_improving", "f.progress.rising", "f.progress.val_rising"),
    "converged": ("f.progress.improving", "f.progress.val_improving", "f.progress.rising", "f.progress.val_rising", "f.uniform.ok"),
    "still-learning": ("f.progress.settled", "f.progress.val_settled", "f.progress.val_flattened", "f.uniform.optimal"),
    "overfitting": ("f.overfit.ok", "f.progress.improving", "f.progress.val_improving"),
    "broken": ("f.",),
    "inconclusive": (),
}


def contradicts(f: Finding, verdict: str) -> bool:
    """An ok/info finding whose sentence argues against ``verdict`` (warn and fail rows are never hidden)."""
    return f.status in ("ok", "info") and f.key.startswith(ARGUES_AGAINST.get(verdict, ()))


def deciding_findings(d: Diagnosis) -> list[Finding]:
    """The findings that decided the verdict, in order: ``d.decided_by`` (codes, from the decision procedure) and then
    every other fail and warn finding; without it, every fail and warn finding plus the verdict's own check (floor,
    progress, overfitting). Never a skipped
    finding, never an ok/info row that argues against the verdict."""
    by_code = {f.code: f for f in d.findings}
    decided = getattr(d, "decided_by", None)
    if decided:
        # the rule's own findings first, then every other fail and warn row: a warning is evidence the reader should see
        chosen = [by_code[c] for c in dict.fromkeys(decided) if c in by_code]
        chosen += [f for f in d.findings if f.status in ("fail", "warn") and f not in chosen]
    else:
        own = VERDICT_CODE.get(d.verdict)
        chosen = [f for f in d.findings if f.status in ("fail", "warn") or f.code == own]
    return [f for f in chosen if f.status != "skipped" and not contradicts(f, d.verdict)]


def _row(f: Finding, lang: str, names: EvalNames | None = None) -> tuple[str, Text, str, str, str]:
    return (
        t(f"check.{f.code}", lang),
        Text(t(f"status.{f.status}", lang), style=STATUS_STYLE[f.status]),
        fmt(f.measured),
        fmt(f.reference),
        finding_sentence(f, lang, names),
    )


def render_diagnosis(console: Console, d: Diagnosis, run: Run, lang: str, *, compact: bool = False, details: bool = True) -> None:
    """The diagnosis as text. ``details``: every check in a table (``explain --details``); otherwise only the
    findings that decided the verdict (``deciding_findings``), each with its numbers, and a pointer to
    --details. ``compact`` (train's closing verdict): the table without the ok rows and without the facts."""
    verdict = t(f"verdict.{d.verdict}", lang)
    head = Text()
    head.append(t("ui.verdict", lang, verdict=verdict), style=VERDICT_STYLE[d.verdict])
    head.append("\n" + t(headline_key(d), lang))
    console.print(Panel(head, title=t("ui.title", lang, source=run.source), title_align="left", expand=True))

    heads = [t(f"ui.col.{c}", lang) for c in ("check", "status", "measured", "reference", "meaning")]
    names = eval_names(run)
    if details or compact:
        rows = [_row(f, lang, names) for f in d.findings if not (compact and f.status in ("ok", "skipped") and f.code not in ("init-loss", "floor"))]
        if console.width - _fixed_width(heads, rows) < MIN_MEANING_WIDTH:
            console.print(_stacked_findings(heads, rows))
        else:
            table = Table(show_lines=False, expand=True, pad_edge=False)
            table.add_column(heads[0], no_wrap=True)
            table.add_column(heads[1], no_wrap=True)
            table.add_column(heads[2], justify="right", no_wrap=True)
            table.add_column(heads[3], justify="right", no_wrap=True)
            table.add_column(heads[4], ratio=1, overflow="fold")
            for row in rows:
                table.add_row(*row)
            console.print(table)
    else:
        deciding = deciding_findings(d)
        if deciding:
            console.print(Text(t("ui.decided", lang), style="bold"))
            console.print(_stacked_findings(heads, [_row(f, lang, names) for f in deciding], gap_after_last=False))
    if not compact:  # the closing verdict of `train` stays short; `explain` shows where each fact came from
        render_facts(console, d, lang, plain=not details)

    if run.warnings:
        console.print(Text(t("ui.notes", lang), style="bold"))
        for w in run.warnings:
            console.print(f"  • {t(w.key, lang, **w.args)}", markup=False)

    # Chinese has no spaces to break lines at: let the terminal wrap it
    soft = lang == "zh"
    console.print(Text(t("ui.explanation", lang), style="bold"))
    console.print((" " if lang == "en" else "").join(explanation(d, lang, names)), markup=False, soft_wrap=soft)
    if d.next_steps:
        console.print(Text(t("ui.next", lang), style="bold"))
        for key in d.next_steps:
            console.print(f"  • {t(key, lang)}", markup=False, soft_wrap=soft)
    if not details and not compact:
        console.print(Text(t("ui.more", lang, n=len(d.findings)), style="dim"), soft_wrap=soft)
