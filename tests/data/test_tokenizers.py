"""Tokenizers: round trips, vocabularies, <unk>, and the plain-dict form saved in checkpoints."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from lossdoc.data.tokenizers import (
    ByteTokenizer,
    CharTokenizer,
    WordTokenizer,
    build_tokenizer,
    token_dtype,
    tokenizer_from_dict,
)


def real_text(n: int = 20_000) -> str:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))[:n]


def test_byte_round_trip_any_unicode():
    text = real_text(5000) + "\nnaïve café 中文 ☃ \t tabs\n"
    tok = build_tokenizer("byte")
    ids = tok.encode(text)
    assert tok.vocab_size == 256
    assert ids.tolist() == list(text.encode("utf-8"))
    assert tok.decode(ids) == text


def test_char_round_trip_and_unknown_characters():
    train = real_text()
    tok = build_tokenizer("char", [train[:7000], train[7000:]])
    assert tok.vocab_size == len(set(train)) + 1  # every character seen, plus <unk>
    ids = tok.encode(train)
    assert ids.size == len(train) and ids.min() >= 1 and ids.max() < tok.vocab_size
    assert tok.decode(ids) == train
    # a character never seen in training is id 0 and decodes to U+FFFD
    ids2 = tok.encode("a中b")
    assert ids2.tolist() == [tok.chars.index("a") + 1, 0, tok.chars.index("b") + 1]
    assert tok.decode(ids2) == "a\ufffdb"


def test_word_vocabulary_min_freq_unk_and_eos():
    train = real_text()
    counts = Counter(train.split())
    tok = build_tokenizer("word", [train], min_freq=3)
    kept = {w for w, c in counts.items() if c >= 3}
    assert tok.vocab_size == len(kept) + 2  # + <unk> + <eos>
    assert tok.itos[:2] == ["<unk>", "<eos>"]
    assert set(tok.itos[2:]) == kept
    # most frequent first
    freqs = [counts[w] for w in tok.itos[2:]]
    assert freqs == sorted(freqs, reverse=True)
    rare = next(w for w, c in counts.items() if c == 1)
    common = max(counts, key=counts.get)
    ids = tok.encode(f"{common} {rare}\n{common}")
    assert ids.tolist() == [tok.stoi[common], 0, 1, tok.stoi[common], 1]
    assert tok.decode(ids) == f"{common} <unk>\n{common}\n"


def test_word_round_trip_normalises_whitespace_only():
    train = real_text()
    tok = build_tokenizer("word", [train], min_freq=1)
    lines = train.split("\n")
    expected = "".join(" ".join(line.split()) + "\n" for line in lines)
    ids = tok.encode(train)
    assert ids.size == len(train.split()) + len(lines)  # one <eos> per line
    assert tok.decode(ids) == expected


def test_word_encoding_in_pieces_equals_whole():
    text = real_text()
    tok = build_tokenizer("word", [text], min_freq=2)
    cut = text.index("\n", len(text) // 2) + 1
    assert np.array_equal(np.concatenate([tok.encode(text[:cut]), tok.encode(text[cut:])]), tok.encode(text))


@pytest.mark.parametrize("name", ["char", "byte", "word"])
def test_tokenizer_dict_is_plain_json_and_round_trips(name):
    text = real_text(8000)
    tok = build_tokenizer(name, [text], min_freq=2)
    d = tok.to_dict()
    again = tokenizer_from_dict(json.loads(json.dumps(d)))
    assert type(again) is type(tok) and again.vocab_size == tok.vocab_size
    assert np.array_equal(again.encode(text), tok.encode(text))


def test_token_dtype_fits_vocabulary():
    assert token_dtype(256) == np.uint16
    assert token_dtype(65536) == np.uint16
    assert token_dtype(65537) == np.uint32


def test_classes():
    assert isinstance(build_tokenizer("byte"), ByteTokenizer)
    assert isinstance(build_tokenizer("char", ["ab"]), CharTokenizer)
    assert isinstance(build_tokenizer("word", ["a b"]), WordTokenizer)
    with pytest.raises(ValueError):
        build_tokenizer("bpe")
