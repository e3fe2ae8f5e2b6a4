"""One decision procedure: the findings of a run -> one verdict, by an ordered table.

Each row of ``RULES`` names the findings it reads, the strength of evidence at which it decides (in words; the
numbers are the checks' own, documented in docs/verdicts.md), and the verdict it gives. The rows are tried in
order and the first that holds decides; the codes of the findings it read are the Diagnosis's ``decided_by``.
The order is the issue-23 order: impossible values first, then overfitting, then the floor, then the trend.

Strong evidence decides; a warning is kept for evidence that is really ambiguous, and the headline then names
what would settle it. docs/verdicts.md's table "The decision procedure" is generated from ``RULES``
(``python scripts/verdict_table.py --write``) and a test holds the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lossdoc.analysis import thresholds as th
from lossdoc.analysis.context import Context
from lossdoc.analysis.model import Code, Finding, Verdict
from lossdoc.analysis.trends import _schedule_ended

Findings = dict[Code, Finding]

IMPOSSIBLE: tuple[Code, ...] = ("nonfinite-loss", "init-loss", "below-floor", "uniform-lock")
BROKEN_CODES: tuple[Code, ...] = (*IMPOSSIBLE, "no-learning", "divergence")


@dataclass(frozen=True)
class Rule:
    name: str
    verdict: Verdict
    needs: tuple[Code, ...]  # the findings the rule reads
    when: str  # the evidence, in words (docs/verdicts.md)
    strength: str  # how strong it must be to decide (effect size and standard error)
    holds: Callable[[Context, Findings], bool]
    headline: str | None = None  # a headline of its own (message key), else the verdict's

    def decided_by(self, by: Findings) -> list[Code]:
        """The findings that carried the decision: of those it reads, the failed ones; else the warnings and notes;
        else all it reads."""
        for statuses in (("fail",), ("warn", "info")):
            hit = [c for c in self.needs if c in by and by[c].status in statuses]
            if hit:
                return hit
        return [c for c in self.needs if c in by]


def _fails(*codes: Code) -> Callable[[Context, Findings], bool]:
    return lambda c, by: any(by[code].status == "fail" for code in codes)


def _no_series_but(c: Context, *keys: str) -> bool:
    """No series read, and the run's config holds one of ``keys`` (what the reader found instead of a curve)."""
    cfg = c.run.config if isinstance(c.run.config, dict) else {}
    return c.loss.size == 0 and c.val.size == 0 and any(k in cfg for k in keys)


def no_curve(c: Context) -> bool:
    """A log that holds a run's figures but no series at all: a page of loss values (readers/values.py) or a closing
    summary alone (a Hugging Face state whose log_history holds only its summary)."""
    return _no_series_but(c, "values", "summary")


def several_series(c: Context) -> bool:
    """A file of several runs' series side by side, none of them read as the run's curve (readers/values.py)."""
    return _no_series_but(c, "series")


_FEW_KEYS = ("f.progress.few_falling", "f.progress.few_flattened")


def _few_shape(progress: Finding) -> bool:
    """Whether a handful of records showed their shape by the exact rank test: the finding itself, or the one a
    schedule that has ended wraps (``f.progress.schedule_ended`` keeps the fall it found under ``fell``)."""
    return progress.key in _FEW_KEYS or progress.args.get("fell") in _FEW_KEYS


def _too_little(c: Context, by: Findings) -> bool:
    return c.loss.size < th.MIN_BATCHES and c.val.size < 2 and not _few_shape(by["progress"])


def _short_without_reference(c: Context, by: Findings) -> bool:
    """A short log with nothing to compare it with: judged only when its end's trend was measured on its own, a
    settle counting only after the loss moved (a short flat log shows no learning to have settled from)."""
    progress = by["progress"]
    moved = (
        by["no-learning"].status == "ok"
        or by["no-learning"].key == "f.nolearn.rose"  # (a loss that rose materially moved: a GRPO loss from 0, say)
        or _few_shape(progress)
    )
    nothing_known = c.val.size == 0 and c.vocab_size is None and c.floor is None
    few = nothing_known and c.loss.size < th.FEW_BATCHES_NO_FACTS
    if not few:
        return False
    if progress.status == "ok" and not moved and not _pretrained_read(c):
        # a flat log shows no learning to have settled from. A fine-tune the log (or a file beside it, or a flag)
        # says is one learned before its log began: its settle counts. A pretrained start inferred only from a
        # low first loss does not: the same flat numbers are a stuck run's as much as a settled one's.
        return True
    if progress.status in ("info", "warn") and not moved and not _beyond(progress, th.Z):
        # a log that never moved, with nothing else known: a trend of its end at the still-falling bar (2 standard
        # errors) is one flat log in 44 by chance; it needs the 3 of a change beyond noise
        return True
    return not trend_measured(progress, c, by)


def never_moved(c: Context, by: Findings) -> bool:
    """However long: a series that never moved materially from its first records (neither fell nor rose beyond noise)
    and whose end settled, with nothing known about the run (no evaluation, no V, no floor, no fine-tune that a file
    beside the log or a flag states), shows no learning to have settled from: a list of per-sample perplexities, a
    stuck run, a finished model's scores read alike."""
    if not (c.val.size == 0 and c.vocab_size is None and c.floor is None) or c.loss.size < th.FEW_BATCHES_NO_FACTS:
        return False  # (a shorter log: nothing-to-compare's own tests)
    nl = by["no-learning"]
    moved = nl.status == "ok" or nl.key == "f.nolearn.rose"
    return not moved and nl.status != "skipped" and by["progress"].status == "ok" and not _pretrained_read(c)


def _pretrained_read(c: Context) -> bool:
    """A pretrained start the run's own files or flags state (not one inferred from the losses)."""
    source = c.pretrained_source
    return bool(c.pretrained) and getattr(source, "kind", None) != "inferred"


def _beyond(progress: Finding, z: float) -> bool:
    """Whether the end's trend is beyond ``z`` standard errors (as a t quantile for the records it was fitted on)."""
    from lossdoc.analysis import stats

    zt, df = progress.args.get("z"), progress.args.get("df")
    if not isinstance(zt, (int, float)) or not math.isfinite(zt):
        return True  # no measured z (an exact rank test decided): the finding's own bar stands
    return abs(zt) >= stats.t_equivalent(z, float(df)) if isinstance(df, (int, float)) else abs(zt) >= z


def _at_ln_v_data_unknown(c: Context, by: Findings) -> bool:
    """At ln V, or never moved from a start within a fresh model's band around it, with the data's kind unknown; and
    not still falling (an early run on its way down from ln V is still learning)."""
    if by["progress"].status == "info":
        return False
    return by["uniform-lock"].key == "f.uniform.unknown_floor" or by["floor"].key == "f.floor.at_ln_v_unknown"


def _at_floor(c: Context, by: Findings) -> bool:
    return by["floor"].status == "ok"


def _improving(c: Context, by: Findings) -> bool:
    return by["progress"].status == "info"


def _early(c: Context, by: Findings) -> bool:
    """A fresh model whose loss has not yet left the band of its initialisation (V known, not a fine-tune), with
    fewer evaluations than lead the verdict: too early to call it settled."""
    if c.vocab_size is None or c.pretrained or c.val_led:
        return False
    end = c.end_level()
    if end is None:
        return False
    low, high = c.init_band
    return low <= end <= high


def _settled(c: Context, by: Findings) -> bool:
    return by["progress"].status in ("ok", "warn")


RULES: tuple[Rule, ...] = (
    Rule(
        "impossible-value",
        "broken",
        IMPOSSIBLE,
        "a non-finite loss; a loss at initialisation outside the healthy band of a fresh model; validation (or, with no "
        "validation, training) below an exact floor; an output that does not depend on its input; a pretrained model at or above ln V",
        "any such value beyond its noise band (3 standard errors of the level compared, at least 0.002 nats)",
        _fails(*IMPOSSIBLE),
    ),
    Rule(
        "not-learning",
        "broken",
        ("no-learning",),
        "the loss did not move from where it started, on data with something to learn; or evaluations identical to the last digit; "
        "or stuck at the unigram level; or a validation accuracy that never changes",
        "no change beyond 3 standard errors, or a change smaller than the material effect (1% of the level), with the floor "
        "(or the data's kind) saying there was something to learn; the same accuracy, to its last digit, at 8 or more "
        "evaluations from the first, neither 0 nor perfect nor a whole percent, the loss no better than that share's entropy",
        _fails("no-learning"),
    ),
    Rule(
        "divergence",
        "broken",
        ("divergence",),
        "the end of the run above its best level (or above the healthy initial band); validation and training rising together",
        "a rise over 0.1 nats beyond the best level's own error, the selection lean of a lowest-of-many, and 3 standard errors "
        "(t quantiles for short logs)",
        _fails("divergence"),
    ),
    Rule(
        "overfitting",
        "overfitting",
        ("overfitting",),
        "validation rising from its best while training keeps falling; training below an exact floor while validation is not; "
        "a memorised training loss with no validation",
        "a rise beyond the selection-corrected noise band of the series' own residuals (t quantiles) and over 1% of the level "
        "when the noise is not measured; up to 7 evaluations, the best at the first or second (or later, with training 5% "
        "lower since) and every later one 2.5% or more above it, the last 5%; or, needing no noise estimate, 7 or more evaluations after the best rising by their "
        "order (Mann-Kendall, one-sided at 3 standard errors) to a last third 5% or more above the best",
        _fails("overfitting"),
    ),
    Rule(
        "several-runs",
        "inconclusive",
        ("progress",),
        "several series of losses side by side (one a line, or one a column of a table of positions): several runs, not one curve",
        "-",
        lambda c, by: several_series(c),
        headline="headline.inconclusive.several_series",
    ),
    Rule(
        "no-curve",
        "inconclusive",
        ("progress",),
        "loss values with no curve: a results page or notes with final figures, or a closing summary alone",
        "-",
        lambda c, by: no_curve(c),
        headline="headline.inconclusive.no_curve",
    ),
    Rule(
        "too-little",
        "inconclusive",
        ("progress",),
        "fewer than 10 usable batches and fewer than 2 evaluations, unless 5 or more records fall by an exact rank test "
        "(a finding of a learning-rate schedule that has ended keeps that test's result)",
        "-",
        _too_little,
    ),
    Rule(
        "never-moved",
        "inconclusive",
        ("no-learning", "progress"),
        "no evaluation, no V, no floor, no stated fine-tune, 100 batches or more, and a loss that never moved materially "
        "from its first records (neither fell nor rose beyond noise) and settled: stuck, finished or not a training curve "
        "at all, the numbers alone cannot say",
        "no change beyond 3 standard errors, or one under 1% of the level, from the first records to the end",
        never_moved,
        headline="headline.inconclusive.never_moved",
    ),
    Rule(
        "nothing-to-compare",
        "inconclusive",
        ("progress", "no-learning"),
        "no evaluation, no V, no floor and fewer than 100 batches, unless the end's trend was measured on its own",
        "a change beyond 3 standard errors, or a settle after the loss moved materially: the end's change and error within 5% "
        "of the level, or within a quarter of the fall from the first record (2 standard errors), or a learning-rate schedule "
        "that has ended (5% of its peak or less)",
        _short_without_reference,
        headline="headline.inconclusive.nothing_to_compare",
    ),
    Rule(
        "at-ln-v-data-unknown",
        "inconclusive",
        ("uniform-lock", "floor", "no-learning", "progress"),
        "the loss sits at ln V (or did not move from it) and nothing says whether the tokens are random: on random ids that is "
        "the floor, on text the model learned nothing",
        "the end within 1% of ln V (or 3 standard errors of its level), or no material move from a start in a fresh model's "
        "band, and not still falling; the headline names --random (random ids) and says what it means on text",
        _at_ln_v_data_unknown,
        headline="headline.inconclusive.ln_v",
    ),
    Rule(
        "at-floor",
        "expected-plateau",
        ("floor",),
        "the best validation loss (or, with no validation, the training level) at the data's exact floor",
        "within the noise band of the floor, or within 1% of it",
        _at_floor,
    ),
    Rule(
        "still-falling",
        "still-learning",
        ("progress",),
        "the end of the curve still falling",
        "a fall beyond 3 standard errors (t quantiles for short series) that is also material (at least 10% of the series' "
        "average slope, and 0.25% of the level), while the learning rate, where logged, has not decayed to 5% "
        "of its peak or less",
        _improving,
    ),
    Rule(
        "early",
        "inconclusive",
        ("init-loss", "progress"),
        "a freshly initialised model (V known, not a fine-tune) whose loss has not yet left the healthy band of its "
        "initialisation, with fewer than 3 evaluations: a warm-up bump or the first steps, not a settled curve",
        "the end level (median of the tail, else the last evaluation) inside [ln V - 0.05, E(sigma) + 0.05]",
        _early,
        headline="headline.inconclusive.early",
    ),
    Rule(
        "settled",
        "converged",
        ("progress",),
        "the end of the curve flat, or its fall slowed to a small share of its average, or falling after the learning-rate schedule has ended",
        "no fall beyond noise, or a fall under 10% of the average slope, or a learning rate at 5% of its peak or less",
        _settled,
    ),
    Rule(
        "no-trend",
        "inconclusive",
        ("progress",),
        "no trend could be measured",
        "-",
        lambda c, by: True,
    ),
)


def decide(c: Context, by: Findings) -> tuple[Verdict, Rule]:
    """The first rule of RULES that holds: its verdict and the rule itself."""
    for rule in RULES:
        if rule.holds(c, by):
            return rule.verdict, rule
    raise AssertionError("the last rule always holds")  # pragma: no cover


def trend_measured(progress: Finding, c: Context, by: Findings | None = None) -> bool:
    """Whether the end's trend says something without any other fact: a change beyond noise either way, or a
    settle whose change and uncertainty are both small beside the loss level (FEW_SETTLED_SE): a short Hugging Face
    log's records are averages over many steps, and a short log that fell fast and then stayed put has converged."""
    if progress.status in ("info", "warn") or progress.key in (
        "f.progress.few_flattened",
        "f.progress.flattened",
        "f.progress.val_bent_flat",
        "f.progress.schedule_ended",
    ):
        return True
    if progress.status != "ok" or not c.tail.any():
        return False
    level = float(np.median(c.loss[c.tail]))
    se, change = progress.args.get("se"), progress.measured
    if not (math.isfinite(level) and level > 0 and isinstance(se, (int, float)) and change is not None and math.isfinite(change)):
        return False
    if abs(change) <= th.FEW_SETTLED_SE * level and se <= th.FEW_SETTLED_SE * level:
        return True
    # or it fell materially and then stayed put: the end's change, and what its error could hide, are small beside the
    # fall so far (from the first record): "fell fast, then flat" has converged whatever the level means
    fall = float(c.loss[0]) - level
    moved = by is not None and by["no-learning"].status == "ok"
    if moved and fall > 0 and _schedule_ended(c) is not None:
        # or it moved beyond its noise and its learning-rate schedule has ended (a warm-up and a decay to 5% of the peak
        # or less): however noisy its end, more steps at a rate of about zero would learn nothing more; it has settled
        return True
    return moved and fall > 0 and abs(change) <= th.FEW_SETTLED_FALL * fall and th.Z_TREND * se <= th.FEW_SETTLED_FALL * fall


def table_markdown() -> str:
    """The decision procedure as the Markdown table in docs/verdicts.md (generated: do not edit it there)."""
    rows = ["| # | rule | verdict | reads | decides when | strength |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(RULES, 1):
        needs = ", ".join(f"`{c}`" for c in r.needs)
        rows.append(f"| {i} | `{r.name}` | {r.verdict} | {needs} | {r.when} | {r.strength} |")
    return "\n".join(rows) + "\n"


START, END = "<!-- verdict-table:start -->\n", "<!-- verdict-table:end -->"


def with_table(doc: str) -> str:
    """``doc`` (docs/verdicts.md's text) with the generated table put between its markers."""
    head, rest = doc.split(START, 1)
    return head + START + table_markdown() + END + rest.split(END, 1)[1]
