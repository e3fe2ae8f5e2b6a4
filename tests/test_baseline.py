"""lossdoc.baseline (the figures as data) and lossdoc.render.baseline (their text and JSON)."""

from __future__ import annotations

import io
import json
import math
from collections import Counter

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from lossdoc import baseline as bl
from lossdoc import floors
from lossdoc.errors import LossdocError
from lossdoc.i18n import catalogs
from lossdoc.render import baseline as render


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=80, color_system=None), buf


# ---------------------------------------------------------------- vocab_baseline


def test_vocab_baseline_seed_numbers():
    vb = bl.vocab_baseline(10000)
    assert vb.uniform_nats == pytest.approx(4 * math.log(10))
    assert vb.uniform_bits == pytest.approx(math.log2(10000))
    assert vb.uniform_perplexity == pytest.approx(10000)
    assert vb.dummy_nats == pytest.approx(math.log(9999)) and vb.dummy_perplexity == pytest.approx(9999)
    assert vb.dummy_bits == pytest.approx(math.log2(9999))
    assert vb.dummy_gap_nats == pytest.approx(-math.log1p(-1 / 10000))
    assert (vb.dummy_token_low, vb.dummy_token_high) == (1, 10000)
    assert vb.init_logit_std == pytest.approx(math.sqrt(1 / 3 + 1 / 768))
    assert vb.init_logit_std_source == "lossdoc_default" and vb.init_d_model == 256
    assert vb.init_expected_nats == pytest.approx(math.log(10000) + (1 / 3 + 1 / 768) / 2, abs=1e-4)
    assert vb.init_expected_nats == pytest.approx(vb.init_expected_closed_form, abs=1e-6)
    assert vb.init_expected_bits == pytest.approx(vb.init_expected_nats / math.log(2))
    assert (vb.init_band_low, vb.init_band_high) == pytest.approx(floors.init_loss_band(10000, vb.init_logit_std))
    assert vb.init_band_low < vb.dummy_nats < vb.init_expected_nats < vb.init_band_high
    assert vb.init_expansion_ratio == pytest.approx(math.expm1(257 / 768) / 10000)


def test_defaults_match_the_training_code():
    from lossdoc.train.config import TrainConfig

    assert TrainConfig().d_model == bl.DEFAULT_D_MODEL
    pytest.importorskip("torch")
    from lossdoc.train.data import TOKEN_LOW

    assert TOKEN_LOW == bl.DUMMY_TOKEN_LOW


def test_vocab_baseline_given_std():
    vb = bl.vocab_baseline(10000, 1.0)
    assert vb.init_logit_std_source == "given" and vb.init_d_model is None
    assert vb.init_expected_nats == pytest.approx(math.log(10000) + 0.5, abs=1e-3)
    zero = bl.vocab_baseline(100, 0.0)
    assert zero.init_expected_nats == pytest.approx(math.log(100))


def test_vocab_baseline_smallest_vocab():
    vb = bl.vocab_baseline(2)
    assert vb.uniform_nats == pytest.approx(math.log(2)) and vb.uniform_bits == pytest.approx(1.0)
    assert vb.dummy_nats == 0.0  # randint(1, 2) is always 1


@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, True, "10", None])
def test_vocab_baseline_rejects_bad_vocab(bad):
    with pytest.raises(LossdocError) as exc:
        bl.vocab_baseline(bad)
    assert exc.value.key == "error.baseline_vocab"


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_vocab_baseline_rejects_bad_std(bad):
    with pytest.raises(LossdocError) as exc:
        bl.vocab_baseline(100, bad)
    assert exc.value.key == "error.baseline_std"


# ---------------------------------------------------------------- loss_reading


def test_loss_reading_of_the_seeds_best_val_loss():
    r = bl.loss_reading(9.229, 10000)
    assert r.perplexity == pytest.approx(math.e**9.229)
    assert r.bits == pytest.approx(9.229 * math.log2(math.e))
    assert r.excess_uniform_nats == pytest.approx(9.229 - 4 * math.log(10))
    assert r.excess_dummy_nats == pytest.approx(9.229 - math.log(9999))
    assert r.excess_dummy_pct == pytest.approx(100 * (9.229 - math.log(9999)) / math.log(9999))
    assert r.excess_dummy_bits == pytest.approx((9.229 - math.log(9999)) / math.log(2))
    assert r.perplexity_ratio_uniform == pytest.approx(math.exp(9.229) / 10000)
    assert r.position == "near_floor" and not r.bits_hint


def test_excess_over_dummy_floor_is_the_kl_divergence_on_random_data():
    """On data drawn uniformly from [1, V), a model q's expected loss exceeds ln(V-1) by KL(p || q)."""
    v = 50
    rng = np.random.default_rng(11)
    q = rng.dirichlet(np.full(v, 5.0))
    p = np.r_[0.0, np.full(v - 1, 1 / (v - 1))]
    expected_loss = -sum(p[i] * math.log(q[i]) for i in range(v))
    kl = sum(p[i] * math.log(p[i] / q[i]) for i in range(v) if p[i] > 0)
    assert bl.loss_reading(expected_loss, v).excess_dummy_nats == pytest.approx(kl, rel=1e-12)


@pytest.mark.parametrize(
    "loss,position",
    [
        (1.0, "below_floor"),
        (9.15, "below_floor"),
        (9.17, "near_floor"),
        (9.2103, "near_floor"),
        (9.26, "near_floor"),
        (9.38, "init_band"),
        (9.76, "init_band"),
        (9.77, "above_init_band"),
        (13.29, "above_init_band"),
        (0.0, "below_floor"),
    ],
)
def test_loss_positions(loss, position):
    # floor ln 9999 = 9.2102, allowance 0.05, ln V = 9.2103, band top 9.7603
    assert bl.loss_reading(loss, 10000).position == position


def test_bits_hint_only_near_log2_v():
    assert bl.loss_reading(math.log2(10000), 10000).bits_hint
    assert bl.loss_reading(13.2, 10000).bits_hint
    assert not bl.loss_reading(13.0, 10000).bits_hint
    assert not bl.loss_reading(9.21, 10000).bits_hint


@pytest.mark.parametrize(
    "bad,key",
    [
        (math.nan, "error.baseline_loss_number"),
        (math.inf, "error.baseline_loss_number"),
        ("9", "error.baseline_loss_number"),
        (-0.5, "error.baseline_loss_negative"),
    ],
)
def test_loss_reading_rejects(bad, key):
    with pytest.raises(LossdocError) as exc:
        bl.loss_reading(bad, 100)
    assert exc.value.key == key


def test_huge_loss_has_infinite_perplexity_written_as_in_the_run_log():
    r = bl.loss_reading(1000.0, 10)
    assert r.perplexity == math.inf
    doc = render.baseline_document(bl.vocab_baseline(10), r)
    assert doc["loss"]["perplexity"] == "Infinity"
    json.loads(render.to_json(doc))


# ---------------------------------------------------------------- corpus_baseline

WORDS = (
    "the cat sat on the mat . the dog sat on the log . a cat and a dog ate the fish . the fish sat in the bowl and the cat sat on the dog"
).split()
VAL = "the bird sat on the cat . a fish ate the worm".split()


def _independent_corpus_figures(train: list[str], val: list[str], vocab: list[str]) -> dict[str, float]:
    v = len(vocab)
    c = Counter(train)
    n = len(train)
    pairs = Counter(zip(train, train[1:]))
    ctx = Counter(train[:-1])
    m = n - 1
    bigram = sum(-k / m * math.log(k / ctx[a]) for (a, _), k in pairs.items())
    return {
        "unigram_entropy_train": -sum(k / n * math.log(k / n) for k in c.values()),
        "unigram_cross_entropy_val": sum(-math.log((c[w] + 1) / (n + v)) for w in val) / len(val),
        "bigram_plug_in": bigram,
        "bigram_miller_madow": bigram + (len(pairs) - len(ctx)) / (2 * m),
        "unseen_val_share": sum(w not in c for w in val) / len(val),
        "unseen_val_types": len({w for w in val if w not in c}),
        "vocab_used_train": len(c),
        "vocab_used": len(set(train) | set(val)),
        "bigram_distinct_pairs": len(pairs),
        "bigram_distinct_contexts": len(ctx),
    }


def test_corpus_baseline_against_dict_counting():
    vocab = sorted(set(WORDS) | set(VAL)) + ["<unused>"] * 3
    ids = {w: i for i, w in enumerate(sorted(set(WORDS) | set(VAL)))}
    train = np.array([ids[w] for w in WORDS])
    val = np.array([ids[w] for w in VAL])
    got = bl.corpus_baseline(train, val, len(vocab))
    want = _independent_corpus_figures(WORDS, VAL, vocab)
    for key, value in want.items():
        assert getattr(got, key) == pytest.approx(value, rel=1e-12), key
    assert got.train_tokens == len(WORDS) and got.val_tokens == len(VAL)
    assert got.total_tokens == len(WORDS) + len(VAL)
    assert got.bigram_pairs == len(WORDS) - 1
    assert got.uniform_nats == pytest.approx(math.log(len(vocab)))
    assert got.smoothing == {"kind": "add_alpha", "alpha": 1.0}
    assert got.exact_entropy_rate is None
    assert 0 < got.unseen_val_share < 1  # "bird" and "worm" are new
    json.dumps(got.to_dict())  # JSON-ready


def test_corpus_baseline_rows_are_one_stream_and_ids_may_be_any_int_dtype():
    rng = np.random.default_rng(5)
    t = rng.integers(0, 30, size=(20, 16)).astype(np.int32)
    v = rng.integers(0, 30, size=(4, 16)).astype(np.uint16)
    assert bl.corpus_baseline(t, v, 30) == bl.corpus_baseline(t.ravel().astype(np.int64), v.ravel(), 30)


def test_corpus_baseline_on_zipf_samples_approaches_the_exact_entropy():
    v, a = 50, 1.1
    p = floors.zipf_probs(v, a)
    rng = np.random.default_rng(9)
    train = rng.choice(v, size=200_000, p=p)
    val = rng.choice(v, size=20_000, p=p)
    h = floors.zipf_entropy(v, a)
    got = bl.corpus_baseline(train, val, v, exact_entropy_rate=h)
    assert got.exact_entropy_rate == h
    # i.i.d. tokens: unigram entropy, unigram cross-entropy and bigram estimate all estimate the same H
    assert got.unigram_entropy_train == pytest.approx(h, abs=0.01)
    assert got.unigram_cross_entropy_val == pytest.approx(h, abs=0.03)
    assert got.bigram_miller_madow == pytest.approx(h, abs=0.01)
    assert got.bigram_plug_in < got.bigram_miller_madow


def test_corpus_baseline_with_seq_len_uses_the_rows_train_makes():
    rng = np.random.default_rng(11)
    train = rng.integers(0, 12, size=203)  # 12 rows of 16, a tail of 11 dropped
    val = rng.integers(0, 14, size=50)  # ids 12 and 13 never occur in train; 3 rows of 16
    got = bl.corpus_baseline(train, val, 14, seq_len=16, unk_id=0)
    tr_rows = [train[i * 16 : (i + 1) * 16].tolist() for i in range(12)]
    va_rows = [val[i * 16 : (i + 1) * 16].tolist() for i in range(3)]
    counted = [x for r in tr_rows for x in r]
    scored = [x for r in va_rows for x in r[1:]]  # the positions a validation loss averages over
    c = Counter(counted)
    n = len(counted)
    pairs = Counter((r[i - 1], r[i]) for r in tr_rows for i in range(1, 16))  # inside rows only
    ctx = Counter(r[i - 1] for r in tr_rows for i in range(1, 16))
    m = sum(pairs.values())
    bigram = -sum(k / m * math.log(k / ctx[a]) for (a, _), k in pairs.items())
    assert (got.train_rows, got.val_rows, got.train_tokens_counted, got.val_tokens_scored) == (12, 3, 192, 45)
    assert (got.train_tokens, got.val_tokens, got.seq_len, got.bigram_pairs) == (203, 50, 16, 12 * 15)
    assert got.unigram_entropy_train == pytest.approx(-sum(k / n * math.log(k / n) for k in c.values()), rel=1e-12)
    assert got.unigram_cross_entropy_val == pytest.approx(-sum(math.log((c[x] + 1) / (n + 14)) for x in scored) / len(scored), rel=1e-12)
    assert got.bigram_plug_in == pytest.approx(bigram, rel=1e-12)
    assert got.bigram_miller_madow == pytest.approx(bigram + (len(pairs) - len(ctx)) / (2 * m), rel=1e-12)
    assert got.unseen_val_share == pytest.approx(sum(x not in c for x in scored) / len(scored))
    assert got.unseen_val_share > 0
    assert got.unk_val_share == pytest.approx(scored.count(0) / len(scored))
    assert got.unk_train_share == pytest.approx(c[0] / n)
    # the same floors function on rows: pairs across rows are not counted
    assert floors.bigram_conditional_entropy(np.array(tr_rows), 14)[0] == pytest.approx(bigram, rel=1e-12)
    # equal to what train records in its header (lossdoc.data.corpus.unigram_figures on the same rows)
    from lossdoc.data.corpus import unigram_figures
    from lossdoc.data.load import rows_of

    assert unigram_figures(rows_of(train, 16), rows_of(val, 16), 14) == (got.unigram_entropy_train, got.unigram_cross_entropy_val)
    with pytest.raises(LossdocError) as exc:
        bl.corpus_baseline(train[:15], val, 14, seq_len=16)
    assert exc.value.key == "error.baseline_train_empty"
    with pytest.raises(LossdocError) as exc:
        bl.corpus_baseline(train, val[:15], 14, seq_len=16)
    assert exc.value.key == "error.baseline_val_empty"


@pytest.mark.parametrize(
    "train,val,key",
    [
        ([], [1], "error.baseline_train_empty"),
        ([3], [1], "error.baseline_train_empty"),
        ([1, 2], [], "error.baseline_val_empty"),
        ([1, 2, 10], [1], "error.baseline_train_ids"),
        ([1, 2], [-1], "error.baseline_val_ids"),
        (np.array([1.0, 2.0]), [1], "error.baseline_train_ids"),
    ],
)
def test_corpus_baseline_rejects(train, val, key):
    with pytest.raises(LossdocError) as exc:
        bl.corpus_baseline(np.asarray(train, dtype=np.float64 if isinstance(train, np.ndarray) else np.int64), np.asarray(val, dtype=np.int64), 10)
    assert exc.value.key == key


def test_corpus_baseline_cached(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    train, val = rng.integers(0, 20, 500), rng.integers(0, 20, 50)
    first = bl.corpus_baseline_cached(train, val, 20, tmp_path)
    files = list(tmp_path.glob("corpus-baseline-*.json"))
    assert len(files) == 1 and first == bl.corpus_baseline(train, val, 20)

    def boom(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(bl, "corpus_baseline", boom)
    assert bl.corpus_baseline_cached(train, val, 20, tmp_path) == first  # read from the cache
    with pytest.raises(AssertionError):
        bl.corpus_baseline_cached(train, val, 21, tmp_path)  # another V is another key
    with pytest.raises(AssertionError):
        bl.corpus_baseline_cached(train[:-1], val, 20, tmp_path)  # other tokens, other key
    monkeypatch.undo()
    files[0].write_text("{not json", encoding="utf-8")
    assert bl.corpus_baseline_cached(train, val, 20, tmp_path) == first  # a broken file is recomputed
    assert json.loads(files[0].read_text(encoding="utf-8"))["figures"] == first.to_dict()
    assert bl.token_fingerprint(train, val, 20) != bl.token_fingerprint(val, train, 20)


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render_vocab_prints_the_seed_numbers(lang):
    console, buf = _console()
    vb = bl.vocab_baseline(10000)
    render.render_vocab(console, vb, lang)
    text = buf.getvalue()
    for s in ("9.2103", "13.288", "10000", "9.2102", "9999", "9.3776", "0.5785", "9.1603", "9.7603", "ln(V − 1)", "[1, V)"):
        assert s in text, s
    assert ("Reference losses" in text) == (lang == "en")
    assert ("参考损失" in text) == (lang == "zh")
    assert "256" in text  # says where the default std comes from
    for line in text.splitlines():
        assert cell_len(line) <= 80


def test_render_vocab_shows_the_closed_form_only_when_it_is_off():
    console, buf = _console()
    render.render_vocab(console, bl.vocab_baseline(10, 2.0), "en")
    text = buf.getvalue()
    assert f"{floors.expected_init_loss(10, 2.0):.4f}" in text and f"{floors.expected_init_loss_exact(10, 2.0):.4f}" in text
    assert "as given by --init-logit-std" in text
    console, buf = _console()
    render.render_vocab(console, bl.vocab_baseline(10000), "en")
    assert "closed form in the table is off" not in buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "loss,marker_en,marker_zh",
    [
        (9.229, "At the floor", "已在下限处"),
        (9.2, "under it", "比它低"),
        (9.38, "untrained model starts", "未训练模型的起点"),
        (13.29, "log2 V = 13.288", "log2 V = 13.288"),
        (4.0, "Below the floor", "比均匀随机数据的下限低"),
    ],
)
def test_render_loss(lang, loss, marker_en, marker_zh):
    console, buf = _console()
    vb = bl.vocab_baseline(10000)
    r = bl.loss_reading(loss, 10000)
    render.render_loss(console, r, vb, lang)
    text = " ".join(line.strip() for line in buf.getvalue().splitlines())
    assert (marker_en if lang == "en" else marker_zh) in text
    assert render.fmt_ppl(math.exp(loss)) in text
    assert f"{loss / math.log(2):.3f}" in text
    assert f"{loss - math.log(9999):+.4f}" in text


def test_render_loss_kl_sentence_carries_the_excess():
    console, buf = _console()
    render.render_loss(console, bl.loss_reading(9.229, 10000), bl.vocab_baseline(10000), "en")
    text = " ".join(line.strip() for line in buf.getvalue().splitlines())
    assert f"{9.229 - math.log(9999):.4f} nats = {(9.229 - math.log(9999)) / math.log(2):.3f} bits" in text
    assert "KL divergence" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render_corpus(lang):
    rng = np.random.default_rng(1)
    c = bl.corpus_baseline(rng.integers(0, 40, 3000), rng.integers(0, 45, 300), 50, exact_entropy_rate=math.log(40))
    console, buf = _console()
    render.render_corpus(console, c, lang)
    text = buf.getvalue()
    for key in ("unigram_entropy_train", "unigram_cross_entropy_val", "bigram_plug_in", "bigram_miller_madow", "exact_entropy_rate"):
        assert f"{getattr(c, key):.4f}" in text, key
    assert f"{100 * c.unseen_val_share:.2f}%" in text
    assert "3,000 / 300 / 3,300" in text
    assert f"{c.bigram_miller_madow - c.bigram_plug_in:.4f}" in text
    sparse = c.bigram_pairs / c.bigram_distinct_pairs < render.SPARSE_BIGRAM_RATIO
    marker = {("en", True): "loose lower reference", ("en", False): "well sampled", ("zh", True): "宽松", ("zh", False): "样本充足"}
    assert marker[(lang, sparse)] in text


def test_json_document_carries_the_printed_numbers():
    vb = bl.vocab_baseline(10000)
    doc = json.loads(render.to_json(render.baseline_document(vb, bl.loss_reading(9.38, 10000))))
    assert doc["schema"] == "lossdoc.baseline/1" and doc["vocab_size"] == 10000
    assert f"{doc['uniform']['nats']:.4f}" == "9.2103"
    assert f"{doc['uniform']['bits']:.3f}" == "13.288"
    assert f"{doc['uniform']['perplexity']:.0f}" == "10000"
    assert f"{doc['dummy']['nats']:.4f}" == "9.2102"
    assert doc["init"]["expected_nats"] == vb.init_expected_nats
    assert doc["init"]["band"]["low"] == vb.init_band_low and doc["init"]["band"]["high"] == vb.init_band_high
    assert doc["init"]["logit_std_source"] == "lossdoc_default" and doc["init"]["d_model"] == 256
    assert doc["loss"]["position"] == "init_band" and doc["loss"]["loss"] == 9.38


def test_wrap_breaks_chinese_and_respects_width():
    text = "如何读损失 L（每个词元的奈特数）：困惑度 e^L 表示模型的不确定程度相当于在多少个等可能的词元中均匀选择，损失每降低 ln 2 = 0.693 奈特，困惑度减半。"
    lines = render.wrap("- " + text, 30)
    assert all(cell_len(line) <= 30 for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == ("- " + text).replace(" ", "")
    assert all(line.strip()[0] not in "，。：）" for line in lines[1:])
    assert all(line.startswith("  ") for line in lines[1:])
    en = render.wrap("- " + "word " * 40, 30)
    assert all(cell_len(line) <= 30 for line in en) and all(line.split()[-1] == "word" for line in en)


def test_messages_en_zh_in_step():
    import string

    from lossdoc.messages import baseline as msgs

    assert msgs.EN.keys() == msgs.ZH.keys()
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for key in msgs.EN:
        assert fields(msgs.EN[key]) == fields(msgs.ZH[key]), key
    catalogs()  # merging all catalogs raises on duplicate keys
