"""Renderers for `lossdoc baseline`: rich tables with notes, and one JSON document.

They only format what lossdoc.baseline computed; no figure is computed here.
All text goes through markup-free rich Text, so formulas such as "[1, V)" are
printed as written.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from lossdoc import floors
from lossdoc.baseline import CorpusFigures, LossReading, VocabBaseline
from lossdoc.i18n import t
from lossdoc.jsonfmt import document, encode_value  # non-finite numbers: the same strings as the run log

SCHEMA = "lossdoc.baseline/1"

EXPANSION_NOTE_RATIO = 0.01
"""Show the closed form next to the exact init loss when (e^{s^2} - 1)/V exceeds this."""

SPARSE_BIGRAM_RATIO = 10.0
"""Below this many pairs per distinct pair, the bigram estimate is called undersampled."""


def fmt_nats(x: float) -> str:
    return f"{x:.4f}" if math.isfinite(x) else str(x)


def fmt_bits(x: float) -> str:
    return f"{x:.3f}" if math.isfinite(x) else str(x)


def fmt_ppl(x: float) -> str:
    """Perplexity: whole numbers from 100 up (10000, not 1.0e+04), 2 decimals below, e-notation when huge."""
    if not math.isfinite(x):
        return str(x)
    if x >= 1e9:
        return f"{x:.3e}"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.2f}"


def fmt_signed(x: float, nd: int = 4) -> str:
    return f"{x:+.{nd}f}" if math.isfinite(x) else str(x)


def _table(title: str, columns: list[tuple[str, JustifyMethod]]) -> Table:
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, (name, justify) in enumerate(columns):
        numeric = justify == "right"
        table.add_column(Text(name), justify=justify, no_wrap=numeric, overflow="fold", ratio=None if numeric else (3 if i == 0 else 2))
    return table


_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+|\\s+")
_NO_LINE_START = set("，。、；：！？）」』》,.;:!?)")


def wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    """Greedy line breaking that also breaks between Chinese characters (rich
    only breaks at spaces, which leaves ragged lines for Chinese text), never
    starts a line with closing punctuation, and indents continuation lines."""
    width = max(width, 20)
    lines: list[str] = []
    line: list[str] = []
    for tok in _TOKEN.findall(text):
        if tok.isspace():
            if line:
                line.append(" ")
            continue
        if cell_len("".join(line) + tok) > width and any(not x.isspace() for x in line):
            carry: list[str] = []
            if tok in _NO_LINE_START and len(line) > 1:
                carry = [line.pop()]
            lines.append("".join(line).rstrip())
            line = [indent, *carry]
        line.append(tok)
    if line:
        lines.append("".join(line).rstrip())
    return lines


def _note(console: Console, text: str) -> None:
    for line in wrap("- " + text, console.width):
        console.print(Text(line), no_wrap=True, overflow="ignore", crop=False)


def vocab_table(vb: VocabBaseline, lang: str) -> Table:
    """The reference-loss table: uniform floor, dummy floor, expected init loss, healthy band."""
    table = _table(
        t("baseline.vocab.title", lang, vocab=vb.vocab_size),
        [
            (t("baseline.col.figure", lang), "left"),
            (t("baseline.col.nats", lang), "right"),
            (t("baseline.col.bits", lang), "right"),
            (t("baseline.col.ppl", lang), "right"),
            (t("baseline.col.formula", lang), "left"),
        ],
    )
    rows = [
        (
            t("baseline.row.uniform", lang),
            fmt_nats(vb.uniform_nats),
            fmt_bits(vb.uniform_bits),
            fmt_ppl(vb.uniform_perplexity),
            t("baseline.formula.uniform", lang),
        ),
        (
            t("baseline.row.dummy", lang),
            fmt_nats(vb.dummy_nats),
            fmt_bits(vb.dummy_bits),
            fmt_ppl(vb.dummy_perplexity),
            t("baseline.formula.dummy", lang),
        ),
        (
            t("baseline.row.init", lang, std=f"{vb.init_logit_std:.4f}"),
            fmt_nats(vb.init_expected_nats),
            fmt_bits(vb.init_expected_bits),
            fmt_ppl(vb.init_expected_perplexity),
            t("baseline.formula.init", lang),
        ),
        (
            t("baseline.row.band_low", lang),
            fmt_nats(vb.init_band_low),
            fmt_bits(floors.nats_to_bits(vb.init_band_low)),
            fmt_ppl(floors.perplexity(vb.init_band_low)),
            t("baseline.formula.band_low", lang, allow=floors.INIT_BAND_ALLOWANCE),
        ),
        (
            t("baseline.row.band_high", lang),
            fmt_nats(vb.init_band_high),
            fmt_bits(floors.nats_to_bits(vb.init_band_high)),
            fmt_ppl(floors.perplexity(vb.init_band_high)),
            t("baseline.formula.band_high", lang, allow=floors.INIT_BAND_ALLOWANCE, max_std=f"{vb.init_band_max_std:g}"),
        ),
    ]
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def vocab_notes(vb: VocabBaseline, lang: str) -> list[str]:
    """The sentences under the table: where each figure comes from and how to read a loss."""
    std = f"{vb.init_logit_std:.4f}"
    notes = [t("baseline.note.dummy", lang, gap=f"{vb.dummy_gap_nats:.4g}", dummy=fmt_nats(vb.dummy_nats))]
    if vb.init_logit_std_source == "lossdoc_default":
        notes.append(t("baseline.note.std_default", lang, std=std, d_model=vb.init_d_model))
    else:
        notes.append(t("baseline.note.std_given", lang, std=std))
    notes.append(t("baseline.note.init", lang, delta=fmt_nats(vb.init_expected_nats - vb.uniform_nats)))
    if vb.init_expansion_ratio > EXPANSION_NOTE_RATIO:
        notes.append(
            t(
                "baseline.note.expansion",
                lang,
                ratio=f"{vb.init_expansion_ratio:.3g}",
                closed=fmt_nats(vb.init_expected_closed_form),
                exact=fmt_nats(vb.init_expected_nats),
            )
        )
    notes.append(t("baseline.note.band", lang, allow=floors.INIT_BAND_ALLOWANCE, max_std=f"{vb.init_band_max_std:g}"))
    notes.append(t("baseline.note.read", lang, uniform=fmt_nats(vb.uniform_nats), bits=fmt_bits(vb.uniform_bits), ppl=fmt_ppl(vb.uniform_perplexity)))
    return notes


def render_vocab(console: Console, vb: VocabBaseline, lang: str) -> None:
    console.print(vocab_table(vb, lang))
    for note in vocab_notes(vb, lang):
        _note(console, note)


def loss_table(r: LossReading, lang: str) -> Table:
    table = _table(
        t("baseline.loss.title", lang, loss=fmt_nats(r.loss), vocab=r.vocab_size),
        [(t("baseline.loss.col.what", lang), "left"), (t("baseline.loss.col.value", lang), "left")],
    )
    rows = [
        (t("baseline.loss.ppl", lang), t("baseline.loss.ppl_value", lang, ppl=fmt_ppl(r.perplexity), ratio=f"{r.perplexity_ratio_uniform:.4g}")),
        (t("baseline.loss.bits", lang), fmt_bits(r.bits)),
        (
            t("baseline.loss.vs_uniform", lang, floor=fmt_nats(r.uniform_nats)),
            t("baseline.loss.excess_value", lang, nats=fmt_signed(r.excess_uniform_nats), pct=fmt_signed(r.excess_uniform_pct, 2)),
        ),
        (
            t("baseline.loss.vs_dummy", lang, floor=fmt_nats(r.dummy_nats)),
            t("baseline.loss.excess_value", lang, nats=fmt_signed(r.excess_dummy_nats), pct=fmt_signed(r.excess_dummy_pct, 2)),
        ),
    ]
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def loss_notes(r: LossReading, vb: VocabBaseline, lang: str) -> list[str]:
    """What the position of the loss among the references means."""
    nats, bits = fmt_nats(r.excess_dummy_nats), fmt_bits(r.excess_dummy_bits)
    if r.position == "below_floor":
        notes = [t("baseline.loss.below_floor", lang, nats=fmt_nats(-r.excess_dummy_nats))]
    elif r.position == "near_floor":
        if r.excess_dummy_nats >= 0:
            notes = [t("baseline.loss.near_floor.kl", lang, nats=nats, bits=bits)]
        else:
            notes = [t("baseline.loss.near_floor.below", lang, nats=fmt_nats(-r.excess_dummy_nats))]
    elif r.position == "init_band":
        notes = [
            t(
                "baseline.loss.init_band",
                lang,
                high=fmt_nats(r.init_band_high),
                init=fmt_nats(vb.init_expected_nats),
                std=f"{vb.init_logit_std:.4f}",
                nats=nats,
                bits=bits,
            )
        ]
    else:
        notes = [t("baseline.loss.above_band", lang, high=fmt_nats(r.init_band_high))]
    if r.bits_hint:
        notes.append(t("baseline.loss.bits_hint", lang, bits=fmt_bits(vb.uniform_bits), nats=fmt_nats(r.loss * floors.LN2)))
    return notes


def render_loss(console: Console, r: LossReading, vb: VocabBaseline, lang: str) -> None:
    console.print(loss_table(r, lang))
    for note in loss_notes(r, vb, lang):
        _note(console, note)


def _nats_cell(x: float, lang: str) -> str:
    return t("baseline.corpus.value_nats", lang, nats=fmt_nats(x), bits=fmt_bits(floors.nats_to_bits(x)), ppl=fmt_ppl(floors.perplexity(x)))


def corpus_table(c: CorpusFigures, lang: str) -> Table:
    """The floors of a corpus (lossdoc.baseline.corpus_baseline)."""
    table = _table(
        t("baseline.corpus.title", lang, vocab=c.vocab_size),
        [(t("baseline.loss.col.what", lang), "left"), (t("baseline.loss.col.value", lang), "left")],
    )
    alpha = f"{c.smoothing['alpha']:g}"
    rows = [
        (t("baseline.corpus.tokens", lang), f"{c.train_tokens:,} / {c.val_tokens:,} / {c.total_tokens:,}"),
    ]
    if c.seq_len is not None:
        rows += [
            (t("baseline.corpus.rows", lang, seq_len=c.seq_len), f"{c.train_rows:,} / {c.val_rows:,}"),
            (t("baseline.corpus.used", lang), f"{c.train_tokens_counted:,} / {c.val_tokens_scored:,}"),
        ]
    rows += [
        (t("baseline.corpus.vocab", lang), f"{c.vocab_size:,} / {c.vocab_used_train:,} / {c.vocab_used:,}"),
        (t("baseline.corpus.uniform", lang), _nats_cell(c.uniform_nats, lang)),
        (t("baseline.corpus.unigram", lang), _nats_cell(c.unigram_entropy_train, lang)),
        (t("baseline.corpus.unigram_ce", lang, alpha=alpha), _nats_cell(c.unigram_cross_entropy_val, lang)),
        (t("baseline.corpus.bigram", lang), f"{fmt_nats(c.bigram_plug_in)} / {fmt_nats(c.bigram_miller_madow)}"),
        (t("baseline.corpus.unseen", lang), t("baseline.corpus.unseen_value", lang, pct=f"{100 * c.unseen_val_share:.2f}", types=c.unseen_val_types)),
    ]
    if c.unk_id is not None and c.unk_val_share is not None and c.unk_train_share is not None:
        rows.append((t("baseline.corpus.unk", lang), f"{100 * c.unk_val_share:.2f}% / {100 * c.unk_train_share:.2f}%"))
    if c.exact_entropy_rate is not None:
        rows.append((t("baseline.corpus.exact", lang), _nats_cell(c.exact_entropy_rate, lang)))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def corpus_notes(c: CorpusFigures, lang: str) -> list[str]:
    alpha = f"{c.smoothing['alpha']:g}"
    n, k, j = c.bigram_pairs, c.bigram_distinct_pairs, c.bigram_distinct_contexts
    ratio = n / k
    notes = [
        t("baseline.corpus.note.unigram", lang, ce=fmt_nats(c.unigram_cross_entropy_val)),
        t("baseline.corpus.note.smoothing", lang, alpha=alpha),
        t(
            "baseline.corpus.note.bigram",
            lang,
            corr=fmt_nats(c.bigram_miller_madow - c.bigram_plug_in),
            pairs=f"{k:,}",
            contexts=f"{j:,}",
            n=f"{n:,}",
            ratio=f"{ratio:.1f}",
            reliability=t("baseline.corpus.note.bigram_ok" if ratio >= SPARSE_BIGRAM_RATIO else "baseline.corpus.note.bigram_sparse", lang),
        ),
    ]
    if c.seq_len is not None:
        notes.insert(0, t("baseline.corpus.note.rows", lang, seq_len=c.seq_len))
    if c.exact_entropy_rate is not None:
        notes.append(t("baseline.corpus.note.exact", lang, exact=fmt_nats(c.exact_entropy_rate)))
    return notes


SOURCE_SETTINGS = ("zipf_exponent", "markov_successors", "chain_seed", "token_low", "token_high", "min_freq")


def source_lines(header: dict[str, Any], c: CorpusFigures, lang: str) -> list[str]:
    """Where the corpus came from (the run header's data object) and, for synthetic data, what the true
    source itself scores on these validation rows."""
    if header.get("kind") in ("text", "hf"):
        lines = [
            t(
                "baseline.data.text",
                lang,
                source=header.get("source"),
                tokenizer=header.get("tokenizer"),
                vocab=header.get("vocab_size"),
                split=header.get("val_split"),
            )
        ]
        if header.get("cache"):
            lines.append(t("baseline.data.cache", lang, cache=header["cache"]))
    else:
        settings = ", ".join(f"{k}={header[k]}" for k in SOURCE_SETTINGS if k in header)
        lines = [
            t(
                "baseline.data.synthetic",
                lang,
                kind=header.get("kind"),
                settings=settings or "-",
                train=header.get("num_train"),
                val=header.get("num_val"),
                seq_len=header.get("seq_len"),
            )
        ]
        if header.get("val_floor_sample") is not None:
            lines.append(
                t(
                    "baseline.data.sample_floor",
                    lang,
                    sample=fmt_nats(header["val_floor_sample"]),
                    se=f"{header['val_floor_se']:.4f}",
                    exact=fmt_nats(header["entropy_floor"]),
                )
            )
    return lines


def render_source(console: Console, header: dict[str, Any], c: CorpusFigures, lang: str) -> None:
    for line in source_lines(header, c, lang):
        _note(console, line)
    console.print()


def render_corpus(console: Console, c: CorpusFigures, lang: str) -> None:
    console.print(corpus_table(c, lang))
    for note in corpus_notes(c, lang):
        _note(console, note)


def baseline_document(
    vb: VocabBaseline | None, reading: LossReading | None = None, corpus: CorpusFigures | None = None, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The figures as one JSON-ready document (language-neutral; non-finite numbers become null).
    ``data`` is the run header's data object of the measured source (what ``train`` records)."""
    doc: dict[str, Any] = {"schema": SCHEMA}
    if vb is not None:
        d = vb.to_dict()
        doc["vocab_size"] = vb.vocab_size
        doc["uniform"] = {"nats": d["uniform_nats"], "bits": d["uniform_bits"], "perplexity": d["uniform_perplexity"], "formula": "ln V"}
        doc["dummy"] = {
            "nats": d["dummy_nats"],
            "bits": d["dummy_bits"],
            "perplexity": d["dummy_perplexity"],
            "token_low": d["dummy_token_low"],
            "token_high": d["dummy_token_high"],
            "gap_to_uniform_nats": d["dummy_gap_nats"],
            "formula": "ln(V - 1)",
        }
        doc["init"] = {
            "logit_std": d["init_logit_std"],
            "logit_std_source": d["init_logit_std_source"],
            "d_model": d["init_d_model"],
            "expected_nats": d["init_expected_nats"],
            "expected_bits": d["init_expected_bits"],
            "expected_perplexity": d["init_expected_perplexity"],
            "closed_form_nats": d["init_expected_closed_form"],
            "expansion_ratio": d["init_expansion_ratio"],
            "band": {
                "low": d["init_band_low"],
                "high": d["init_band_high"],
                "max_std": d["init_band_max_std"],
                "allowance": floors.INIT_BAND_ALLOWANCE,
            },
        }
    if reading is not None:
        doc["loss"] = reading.to_dict()
    if corpus is not None:
        doc["corpus"] = corpus.to_dict()
    if data is not None:
        doc["data"] = data
    return encode_value(doc)


def to_json(doc: dict[str, Any]) -> str:
    return document(doc)
