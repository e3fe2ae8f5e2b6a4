"""Local text sources, the validation split rule and the tokenised cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lossdoc.data import corpus as corpus_mod
from lossdoc.data.corpus import prepare_corpus
from lossdoc.data.sources import pydoc_text
from lossdoc.data.tokenizers import CharTokenizer, WordTokenizer
from lossdoc.errors import LossdocError


def write_slice(path, start: int = 0, n: int = 30_000) -> str:
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k] for k in sorted(topics))[start : start + n]
    text = text[: text.rindex("\n") + 1]
    path.write_text(text, encoding="utf-8")
    return text


def expected_split(text: str, frac: float) -> tuple[str, str]:
    # the rule, restated: cut at 90% of the characters, then just after the next "\n"
    i = int(len(text) * (1 - frac))
    while text[i] != "\n":
        i += 1
    return text[: i + 1], text[i + 1 :]


def test_text_file_split_and_tokens(tmp_path):
    text = write_slice(tmp_path / "a.txt")
    c = prepare_corpus(str(tmp_path / "a.txt"), tokenizer="char", cache_dir=tmp_path / "cache")
    train, val = expected_split(text, 0.1)
    tok = CharTokenizer(sorted(set(train)))
    assert c.vocab_size == tok.vocab_size
    assert np.array_equal(np.asarray(c.train), tok.encode(train))
    assert np.array_equal(np.asarray(c.val), tok.encode(val))
    assert c.train.dtype == np.uint16 and isinstance(c.train, np.memmap)
    assert c.info["kind"] == "text" and c.info["train_tokens"] == len(train) and c.info["val_tokens"] == len(val)
    assert c.tokenizer.decode(c.val).startswith(val[:50])


def test_second_load_reuses_cache_without_tokenising(tmp_path):
    write_slice(tmp_path / "a.txt")
    cache = tmp_path / "cache"
    first = prepare_corpus(str(tmp_path / "a.txt"), tokenizer="word", min_freq=2, cache_dir=cache)
    n = corpus_mod.tokenize_count
    mtimes = {p.name: p.stat().st_mtime_ns for p in first.cache_path.iterdir()}
    second = prepare_corpus(str(tmp_path / "a.txt"), tokenizer="word", min_freq=2, cache_dir=cache)
    assert not first.cache_hit and second.cache_hit
    assert corpus_mod.tokenize_count == n  # nothing tokenised the second time
    assert {p.name: p.stat().st_mtime_ns for p in second.cache_path.iterdir()} == mtimes
    assert second.cache_path == first.cache_path
    assert np.array_equal(second.train, first.train) and second.tokenizer.itos == first.tokenizer.itos
    # other settings, another entry
    third = prepare_corpus(str(tmp_path / "a.txt"), tokenizer="word", min_freq=1, cache_dir=cache)
    assert not third.cache_hit and third.cache_path != first.cache_path
    assert corpus_mod.tokenize_count == n + 1
    assert len(list(cache.iterdir())) == 2


def test_edited_file_is_tokenised_again(tmp_path):
    f = tmp_path / "a.txt"
    write_slice(f)
    a = prepare_corpus(str(f), tokenizer="byte", cache_dir=tmp_path / "c")
    text = write_slice(f, start=50_000, n=20_000)
    os.utime(f, ns=(a.cache_path.stat().st_mtime_ns + 10**9,) * 2)
    b = prepare_corpus(str(f), tokenizer="byte", cache_dir=tmp_path / "c")
    assert not b.cache_hit and b.cache_path != a.cache_path
    train, _ = expected_split(text, 0.1)
    assert bytes(np.asarray(b.train, dtype=np.uint8)) == train.encode("utf-8")


def test_folder_of_txt_files_and_val_file(tmp_path):
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    t1 = write_slice(d / "b.txt", 0, 8000)
    t2 = write_slice(d / "sub" / "a.txt", 9000, 8000)
    (d / "ignore.md").write_text("not text data\n")
    v = write_slice(tmp_path / "val.txt", 20_000, 3000)
    c = prepare_corpus(str(d), tokenizer="byte", val_file=str(tmp_path / "val.txt"), cache_dir=tmp_path / "c")
    # sorted by path: b.txt before sub/a.txt; the whole folder trains, val.txt validates
    assert bytes(np.asarray(c.train, dtype=np.uint8)).decode() == t1 + t2
    assert bytes(np.asarray(c.val, dtype=np.uint8)).decode() == v
    assert c.info["val_split"].startswith("val_file")


def test_pydoc_source_is_real_documentation(tmp_path):
    text = pydoc_text()
    assert len(text) > 300_000 and "assert" in text and "statement" in text
    c = prepare_corpus("pydoc", cache_dir=tmp_path / "c")
    assert c.tokenizer.name == "char"
    train, val = expected_split(text, 0.1)
    assert c.info["train_tokens"] == len(train) and c.info["val_tokens"] == len(val)


def test_progress_is_reported(tmp_path):
    write_slice(tmp_path / "a.txt")
    calls = []
    prepare_corpus(str(tmp_path / "a.txt"), tokenizer="char", cache_dir=tmp_path / "c", progress=lambda *a: calls.append(a))
    assert {s for s, _, _ in calls} == {"train", "validation"}
    assert all(done <= total for _, done, total in calls)
    assert calls[-1][1] == calls[-1][2]


def test_stderr_progress_prints_every_ten_percent():
    import io

    buf = io.StringIO()
    report = corpus_mod.stderr_progress("big.txt", min_chars=100, stream=buf)
    for done in range(0, 1001, 25):
        report("train", done, 1000)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "tokenising big.txt (train): 0%" and lines[-1].endswith(": 100%") and len(lines) == 11
    quiet = io.StringIO()
    corpus_mod.stderr_progress("small", min_chars=10_000, stream=quiet)("train", 5, 50)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    "spec, key",
    [("no/such/file.txt", "error.data_missing"), ("EMPTYDIR", "error.data_no_txt"), ("BINARY", "error.data_not_utf8")],
)
def test_bad_text_sources(tmp_path, spec, key):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bin.txt").write_bytes(b"abc\xff\xfe\x00def")
    spec = {"EMPTYDIR": str(tmp_path / "empty"), "BINARY": str(tmp_path / "bin.txt")}.get(spec, spec)
    with pytest.raises(LossdocError) as e:
        prepare_corpus(spec, cache_dir=tmp_path / "c")
    assert e.value.key == key


def test_word_tokenizer_from_cache_keeps_vocabulary(tmp_path):
    text = write_slice(tmp_path / "a.txt")
    c = prepare_corpus(str(tmp_path / "a.txt"), tokenizer="word", min_freq=2, cache_dir=tmp_path / "c")
    train, _ = expected_split(text, 0.1)
    ref = WordTokenizer.fit([train], min_freq=2)
    assert c.tokenizer.itos == ref.itos and c.info["min_freq"] == 2
