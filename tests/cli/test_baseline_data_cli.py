"""`lossdoc baseline --data`: corpus figures against independent counts, against train's run header,
exact floors of synthetic sources, the cache, no torch, and bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossdoc.cli import app, run

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _english_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "C.UTF-8")


def write_slice(path: Path, n: int = 12_000) -> str:
    """A slice of Python's own documentation (real English text), cut at a line end."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k] for k in sorted(topics))[:n]
    text = text[: text.rindex("\n") + 1]
    path.write_text(text, encoding="utf-8")
    return text


def split_90(text: str) -> tuple[str, str]:
    cut = text.index("\n", int(len(text) * 0.9)) + 1
    return text[:cut], text[cut:]


def char_ids(train_text: str, text: str) -> list[int]:
    chars = sorted(set(train_text))
    index = {c: i + 1 for i, c in enumerate(chars)}
    return [index.get(c, 0) for c in text]


def word_ids(train_text: str, text: str, min_freq: int) -> tuple[list[int], int]:
    counts = Counter(train_text.split())
    kept = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
    index = {w: i + 2 for i, w in enumerate(kept)}
    ids: list[int] = []
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        ids.extend(index.get(w, 0) for w in line.split())
        ids.append(1)
    return ids, len(kept) + 2


def independent_figures(train: list[int], val: list[int], v: int, seq_len: int) -> dict:
    """The figures by plain counting with collections.Counter over rows of seq_len ids."""
    n_tr, n_va = len(train) // seq_len, len(val) // seq_len
    tr_rows = [train[i * seq_len : (i + 1) * seq_len] for i in range(n_tr)]
    va_rows = [val[i * seq_len : (i + 1) * seq_len] for i in range(n_va)]
    counted = [x for r in tr_rows for x in r]
    scored = [x for r in va_rows for x in r[1:]]
    c = Counter(counted)
    n = len(counted)
    h1 = -sum(k / n * math.log(k / n) for k in c.values())
    xent = -sum(math.log((c.get(x, 0) + 1) / (n + v)) for x in scored) / len(scored)
    pairs = Counter((r[t - 1], r[t]) for r in tr_rows for t in range(1, seq_len))
    ctx = Counter(a for (a, _b), k in pairs.items() for _ in range(k))
    npairs = sum(pairs.values())
    h2 = -sum(k / npairs * math.log(k / ctx[a]) for (a, _b), k in pairs.items())
    return {
        "train_tokens": len(train),
        "val_tokens": len(val),
        "train_rows": n_tr,
        "val_rows": n_va,
        "train_tokens_counted": n,
        "val_tokens_scored": len(scored),
        "vocab_used_train": len(c),
        "unigram_entropy_train": h1,
        "unigram_cross_entropy_val": xent,
        "bigram_plug_in": h2,
        "bigram_miller_madow": h2 + (len(pairs) - len(ctx)) / (2 * npairs),
        "bigram_pairs": npairs,
        "bigram_distinct_pairs": len(pairs),
        "bigram_distinct_contexts": len(ctx),
        "unseen_val_share": sum(1 for x in scored if x not in c) / len(scored),
        "unk_val_share": scored.count(0) / len(scored),
        "unk_train_share": c.get(0, 0) / n,
    }


def baseline_json(*args: str) -> dict:
    res = runner.invoke(app, ["baseline", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def check(doc: dict, expected: dict) -> None:
    for key, value in expected.items():
        got = doc["corpus"][key]
        if isinstance(value, int):
            assert got == value, key
        else:
            assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12), (key, got, value)


@pytest.mark.parametrize("seq_len", [16, 64])
def test_char_figures_equal_an_independent_count(tmp_path, seq_len):
    text = write_slice(tmp_path / "doc.txt")
    train_text, val_text = split_90(text)
    doc = baseline_json("--data", str(tmp_path / "doc.txt"), "--tokenizer", "char", "--seq-len", str(seq_len), "--cache-dir", str(tmp_path / "c"))
    v = len(set(train_text)) + 1
    assert doc["vocab_size"] == v and doc["corpus"]["vocab_size"] == v and doc["corpus"]["seq_len"] == seq_len
    check(doc, independent_figures(char_ids(train_text, train_text), char_ids(train_text, val_text), v, seq_len))
    assert doc["corpus"]["uniform_nats"] == pytest.approx(math.log(v), rel=1e-15)
    assert doc["corpus"]["smoothing"] == {"kind": "add_alpha", "alpha": 1.0}
    assert doc["corpus"]["exact_entropy_rate"] is None
    assert doc["data"]["kind"] == "text" and doc["data"]["tokenizer"] == "char" and doc["data"]["seq_len"] == seq_len


def test_word_figures_equal_an_independent_count(tmp_path):
    text = write_slice(tmp_path / "doc.txt")
    train_text, val_text = split_90(text)
    doc = baseline_json(
        "--data", str(tmp_path / "doc.txt"), "--tokenizer", "word", "--min-freq", "2", "--seq-len", "16", "--cache-dir", str(tmp_path / "c")
    )
    tr, v = word_ids(train_text, train_text, 2)
    va, _ = word_ids(train_text, val_text, 2)
    assert doc["vocab_size"] == v
    expected = independent_figures(tr, va, v, 16)
    check(doc, expected)
    assert expected["unk_val_share"] > 0.05  # words unseen in train show up as <unk>, not as unseen ids
    assert doc["corpus"]["unseen_val_share"] == 0.0


def test_text_output_shows_the_figures_in_both_languages(tmp_path):
    write_slice(tmp_path / "doc.txt")
    args = ["baseline", "--data", str(tmp_path / "doc.txt"), "--tokenizer", "char", "--cache-dir", str(tmp_path / "c")]
    c = baseline_json(*args[1:])["corpus"]
    for lang, words in (
        ("en", ("Floors of the corpus", "Unigram entropy", "Miller–Madow", "Reference losses")),
        ("zh", ("语料的损失下限", "一元熵", "Miller–Madow", "参考损失")),
    ):
        res = runner.invoke(app, [*args, "--lang", lang])
        assert res.exit_code == 0, res.output
        for w in words:
            assert w in res.output, (lang, w)
        for key in ("unigram_entropy_train", "unigram_cross_entropy_val", "bigram_plug_in", "bigram_miller_madow"):
            assert f"{c[key]:.4f}" in res.output, key
        assert f"{c['train_tokens']:,} / {c['val_tokens']:,}" in res.output


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


TINY = dict(seq_len=16, d_model=16, num_layers=1, num_heads=2, dropout=0.0, batch_size=32, epochs=1, lr=3e-3, seed=7, device="cpu")


@pytest.mark.parametrize("source", ["char", "word", "markov", "zipf"])
def test_figures_equal_what_train_writes_in_its_header(tmp_path, source):
    from lossdoc.train.config import TrainConfig
    from lossdoc.train.loop import train

    if source in ("char", "word"):
        write_slice(tmp_path / "doc.txt", 6000)
        data = dict(data=str(tmp_path / "doc.txt"), tokenizer=source, min_freq=2)
        flags = ["--data", data["data"], "--tokenizer", source, "--min-freq", "2"]
    else:
        data = dict(data=source, vocab_size=16, num_samples=64, val_fraction=0.25, markov_successors=3, zipf_exponent=1.3)
        flags = [
            "--data",
            source,
            "--vocab-size",
            "16",
            "--num-samples",
            "64",
            "--val-fraction",
            "0.25",
            "--markov-successors",
            "3",
            "--zipf-exponent",
            "1.3",
        ]
    result = train(TrainConfig(out=str(tmp_path / "run"), cache_dir=str(tmp_path / "c"), **{**TINY, **data}))
    header = records(result.metrics_path)[0]["data"]
    doc = baseline_json(*flags, "--seq-len", "16", "--seed", "7", "--cache-dir", str(tmp_path / "c"))
    assert doc["corpus"]["unigram_entropy_train"] == header["unigram_entropy"]
    assert doc["corpus"]["unigram_cross_entropy_val"] == header["unigram_xent"]
    assert doc["vocab_size"] == header["vocab_size"]
    assert {k: v for k, v in doc["data"].items() if k != "cache_hit"} == {k: v for k, v in header.items() if k != "cache_hit"}
    if source in ("markov", "zipf"):
        assert doc["corpus"]["exact_entropy_rate"] == header["entropy_floor"]
    # a run's config.yaml gives the same figures
    doc2 = baseline_json("--config", str(tmp_path / "run" / "config.yaml"))
    assert doc2["corpus"]["unigram_entropy_train"] == header["unigram_entropy"]


def _stats(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(x.size))


def test_zipf_exact_entropy_next_to_the_estimates(tmp_path):
    v, s = 64, 1.1
    doc = baseline_json(
        "--data", "zipf", "--vocab-size", str(v), "--zipf-exponent", str(s), "--num-samples", "2000", "--seq-len", "64", "--cache-dir", str(tmp_path)
    )
    c = doc["corpus"]
    p = np.arange(1, v + 1, dtype=float) ** -s
    p /= p.sum()
    h = float(-(p * np.log(p)).sum())
    assert c["exact_entropy_rate"] == pytest.approx(h, rel=1e-12)
    # the same draw as train (lossdoc.data.synthetic with train's seed streams), scored by the true model
    from lossdoc.data.synthetic import sample_zipf

    tr = sample_zipf(v, s, 1800, 64, 42, 1).ravel()
    nll = -np.log(p[tr])
    n = tr.size
    assert c["train_tokens_counted"] == n
    # plug-in entropy: the sample's own distribution scores it at least as well as the truth (Gibbs)
    assert c["unigram_entropy_train"] <= float(nll.mean()) + 1e-12
    # tolerance from the sample: 4 standard errors of the mean NLL plus the first-order bias (K - 1)/(2N)
    tol = 4 * _stats(nll) + (c["vocab_used_train"] - 1) / (2 * n)
    assert abs(c["unigram_entropy_train"] - h) < tol, (c["unigram_entropy_train"], h, tol)
    # i.i.d. tokens: the previous token does not help, so the bigram estimate is the entropy too
    pairs_tol = 4 * _stats(nll) + (c["bigram_distinct_pairs"] - c["bigram_distinct_contexts"]) / (2 * c["bigram_pairs"])
    assert abs(c["bigram_miller_madow"] - h) < pairs_tol


def test_markov_exact_entropy_rate_next_to_the_bigram_estimate(tmp_path):
    v, k = 32, 4
    doc = baseline_json(
        "--data",
        "markov",
        "--vocab-size",
        str(v),
        "--markov-successors",
        str(k),
        "--num-samples",
        "2000",
        "--seq-len",
        "64",
        "--seed",
        "3",
        "--cache-dir",
        str(tmp_path),
    )
    c = doc["corpus"]
    from lossdoc.data.synthetic import random_markov_chain, sample_markov

    chain = random_markov_chain(v, k, 3)
    pm = chain.dense()
    vals, vecs = np.linalg.eig(pm.T)  # stationary distribution from an eigenvector, not by power iteration
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi /= pi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = float(pi @ -np.where(pm > 0, pm * np.log(pm), 0).sum(axis=1))
    assert c["exact_entropy_rate"] == pytest.approx(rate, rel=1e-9)
    rows = sample_markov(chain, 1800, 64, 3, 1)
    nll = -np.log(pm[rows[:, :-1], rows[:, 1:]])  # (rows, 63): the true model on every in-row pair
    assert c["bigram_pairs"] == nll.size
    assert c["bigram_plug_in"] <= float(nll.mean()) + 1e-12  # the sample's own transition counts fit it best
    # rows are independent stretches, so the row means are i.i.d.: their spread gives the standard error
    se = float(nll.mean(axis=1).std(ddof=1) / math.sqrt(nll.shape[0]))
    tol = 4 * se + (c["bigram_distinct_pairs"] - c["bigram_distinct_contexts"]) / (2 * c["bigram_pairs"])
    assert abs(c["bigram_miller_madow"] - rate) < tol, (c["bigram_miller_madow"], rate, tol)
    assert c["unigram_cross_entropy_val"] > rate + 10 * tol  # the previous token helps on a Markov chain


def test_dummy_data_uses_the_seed_rows(tmp_path):
    doc = baseline_json("--data", "dummy", "--vocab-size", "50", "--num-samples", "100", "--seq-len", "16", "--cache-dir", str(tmp_path))
    c = doc["corpus"]
    assert c["exact_entropy_rate"] == pytest.approx(math.log(49), rel=1e-15)
    import torch

    from lossdoc.train.data import dummy_split_seeds

    s_train, _ = dummy_split_seeds(42)
    rows = torch.randint(1, 50, (90, 16), generator=torch.Generator().manual_seed(s_train)).numpy()
    cnt = Counter(rows.ravel().tolist())
    n = rows.size
    assert c["unigram_entropy_train"] == pytest.approx(-sum(k / n * math.log(k / n) for k in cnt.values()), rel=1e-12)
    assert 0 not in cnt and c["vocab_used_train"] == len(cnt)


def test_figures_are_cached(tmp_path, monkeypatch):
    import lossdoc.baseline as bl
    from lossdoc.data import corpus as corpus_mod

    write_slice(tmp_path / "doc.txt")
    calls = []
    real = bl.corpus_baseline

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(bl, "corpus_baseline", counting)
    args = ("--data", str(tmp_path / "doc.txt"), "--tokenizer", "char", "--cache-dir", str(tmp_path / "c"))
    tok0 = corpus_mod.tokenize_count
    first = baseline_json(*args)
    assert len(calls) == 1 and corpus_mod.tokenize_count == tok0 + 1
    files = list((tmp_path / "c" / "baseline").glob("corpus-baseline-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["figures"] == first["corpus"]
    second = baseline_json(*args)
    assert len(calls) == 1 and corpus_mod.tokenize_count == tok0 + 1  # neither tokenised nor recomputed
    assert second["corpus"] == first["corpus"] and second["data"]["cache_hit"] is True
    # other settings are other figures
    baseline_json(*args, "--seq-len", "32")
    assert len(calls) == 2
    # an edited file is a new corpus
    (tmp_path / "doc.txt").write_text((tmp_path / "doc.txt").read_text() + "one more line\n", encoding="utf-8")
    third = baseline_json(*args)
    assert len(calls) == 3 and third["corpus"]["train_tokens"] + third["corpus"]["val_tokens"] > first["corpus"]["total_tokens"]


def test_text_data_does_not_import_torch(tmp_path):
    write_slice(tmp_path / "doc.txt")
    code = (
        "import sys; from lossdoc.cli import run; "
        f"rc = run(['baseline', '--data', {str(tmp_path / 'doc.txt')!r}, '--tokenizer', 'char', "
        f"'--cache-dir', {str(tmp_path / 'c')!r}]); "
        "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'datasets' not in sys.modules, 'datasets imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Floors of the corpus" in proc.stdout


def test_json_is_language_neutral(tmp_path):
    write_slice(tmp_path / "doc.txt")
    args = ("--data", str(tmp_path / "doc.txt"), "--cache-dir", str(tmp_path / "c"))
    a, b = baseline_json(*args), baseline_json(*args, "--lang", "zh")
    a["data"].pop("cache_hit"), b["data"].pop("cache_hit")
    assert a == b and a["data"]["tokenizer"] == "char"  # char: the default for a text file, as in train


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "case,needle_en,needle_zh",
    [
        ("missing", "no data source", "找不到数据源"),
        ("unknown_name", "no data source 'nosuchsource'", "找不到数据源 'nosuchsource'"),
        ("empty", "holds no text", "中没有文本"),
        ("blank", "holds no text", "中没有文本"),
        ("tokenizer", "invalid --tokenizer 'bpe'", "--tokenizer 'bpe' 无效"),
        ("vocab_text", "does not apply to the text data", "不适用于文本数据"),
        ("vocab_bad", "integer >= 2", "不小于 2 的整数"),
        ("no_data", "--tokenizer describes a data source", "--tokenizer 用于描述数据源"),
        ("too_short", "fewer than one sequence", "seq_len=64"),
        ("val_file", "validation file not found", "找不到验证文件"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, lang, case, needle_en, needle_zh):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")
    (tmp_path / "short.txt").write_text("a few words\n" * 3, encoding="utf-8")
    write_slice(tmp_path / "doc.txt", 3000)
    cache = ["--cache-dir", str(tmp_path / "c")]
    argv = {
        "missing": ["--data", str(tmp_path / "nope.txt")],
        "unknown_name": ["--data", "nosuchsource"],
        "empty": ["--data", str(tmp_path / "empty.txt")],
        "blank": ["--data", str(tmp_path / "blank.txt")],
        "tokenizer": ["--data", str(tmp_path / "doc.txt"), "--tokenizer", "bpe"],
        "vocab_text": ["--data", str(tmp_path / "doc.txt"), "--vocab-size", "100"],
        "vocab_bad": ["--data", "zipf", "--vocab-size", "x"],
        "no_data": ["--tokenizer", "char"],
        "too_short": ["--data", str(tmp_path / "short.txt")],
        "val_file": ["--data", str(tmp_path / "doc.txt"), "--val-file", str(tmp_path / "nope.txt")],
    }[case]
    rc = run(["baseline", *argv, *cache, "--lang", lang])
    cap = capsys.readouterr()
    assert rc == 2
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    prefix = "lossdoc: error: " if lang == "en" else "lossdoc: 错误: "
    assert lines[0].startswith(prefix) and (needle_en if lang == "en" else needle_zh) in lines[0], lines[0]
    assert "Traceback" not in cap.err and cap.out == ""


def test_help_lists_the_data_options():
    res = runner.invoke(app, ["baseline", "--help"])
    assert res.exit_code == 0
    for opt in (
        "--data",
        "--tokenizer",
        "--min-freq",
        "--val-file",
        "--text-column",
        "--cache-dir",
        "--zipf-exponent",
        "--markov-successors",
        "--seed",
        "--num-samples",
        "--seq-len",
        "--config",
    ):
        assert opt in res.output, opt


@pytest.mark.parametrize("lang,words", [("en", ("true source itself scores", "Exact entropy rate")), ("zh", ("真实数据源本身", "精确熵率"))])
def test_synthetic_text_output_shows_the_exact_rate_and_the_sample_floor(tmp_path, lang, words):
    args = ["--data", "markov", "--vocab-size", "16", "--num-samples", "200", "--seq-len", "16", "--cache-dir", str(tmp_path)]
    doc = baseline_json(*args)
    res = runner.invoke(app, ["baseline", *args, "--lang", lang])
    assert res.exit_code == 0, res.output
    for w in words:
        assert w in res.output
    assert f"{doc['corpus']['exact_entropy_rate']:.4f}" in res.output
    assert f"{doc['data']['val_floor_sample']:.4f}" in res.output and f"{doc['data']['val_floor_se']:.4f}" in res.output
