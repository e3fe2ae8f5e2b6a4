"""Tokenizers: char, byte and word. Each maps text to ids 0..V-1 and back.

- ``byte``: the UTF-8 bytes of the text, V = 256. Nothing is unknown.
- ``char``: one id per Unicode character seen in the training split, plus
  ``<unk>`` (id 0) for characters first seen later.
- ``word``: whitespace-separated words, one ``<eos>`` (id 1) at the end of every
  line, and ``<unk>`` (id 0) for words seen fewer than ``min_freq`` times in the
  training split: the classic word-level setup of WikiText-2.

A tokenizer is fitted on the training split only and saved as a plain dict of
lists, str and int (``to_dict``), so it travels in the run folder and in
checkpoints loaded with ``weights_only=True``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

TOKENIZERS = ("char", "byte", "word")
UNK = "<unk>"
EOS = "<eos>"
UNK_CHAR = "\ufffd"  # what an unknown character decodes to


class Tokenizer:
    """Base class: ``name``, ``vocab_size``, ``encode``, ``decode``, ``to_dict``."""

    name = "base"

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> np.ndarray:
        """Text -> 1-d int64 array of ids. Word text is cut at line ends ("\\n")."""
        raise NotImplementedError

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    def token_str(self, i: int) -> str:
        """How one id reads, for display."""
        return self.decode([i])


class ByteTokenizer(Tokenizer):
    name = "byte"

    @property
    def vocab_size(self) -> int:
        return 256

    def encode(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)

    def decode(self, ids) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def to_dict(self) -> dict:
        return {"name": "byte", "vocab_size": 256}


class CharTokenizer(Tokenizer):
    name = "char"

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = sorted(set(chars))  # id i + 1 is chars[i]; id 0 is <unk>
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("char vocabulary entries must be single characters")
        self._codes = np.array([ord(c) for c in self.chars], dtype=np.int64)

    @classmethod
    def fit(cls, pieces: Iterable[str]) -> CharTokenizer:
        seen: set[str] = set()
        for piece in pieces:
            seen.update(piece)
        return cls(sorted(seen))

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        if self._codes.size == 0:
            return np.zeros(codes.size, dtype=np.int64)
        pos = np.searchsorted(self._codes, codes)
        pos_c = np.minimum(pos, self._codes.size - 1)
        found = self._codes[pos_c] == codes
        return np.where(found, pos_c + 1, 0).astype(np.int64)

    def decode(self, ids) -> str:
        chars = self.chars
        return "".join(chars[i - 1] if 0 < i <= len(chars) else UNK_CHAR for i in (int(j) for j in ids))

    def to_dict(self) -> dict:
        return {"name": "char", "vocab_size": self.vocab_size, "chars": list(self.chars)}


class WordTokenizer(Tokenizer):
    name = "word"

    def __init__(self, words: Sequence[str], min_freq: int = 1) -> None:
        self.itos = [UNK, EOS] + [w for w in words if w not in (UNK, EOS)]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate words in the vocabulary")
        self.min_freq = min_freq

    @classmethod
    def fit(cls, pieces: Iterable[str], min_freq: int = 1) -> WordTokenizer:
        """Words seen at least ``min_freq`` times, most frequent first (ties by the word)."""
        counts: Counter[str] = Counter()
        for piece in pieces:
            counts.update(piece.split())
        for special in (UNK, EOS):
            counts.pop(special, None)
        kept = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        return cls(kept, min_freq)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # a final "\n" ends the last line; it does not start a new one
        get = self.stoi.get
        ids: list[int] = []
        for line in lines:
            ids.extend(get(w, 0) for w in line.split())
            ids.append(1)
        return np.array(ids, dtype=np.int64)

    def decode(self, ids) -> str:
        out: list[str] = []
        line: list[str] = []
        for i in (int(j) for j in ids):
            if i == 1:
                out.append(" ".join(line) + "\n")
                line = []
            else:
                line.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        if line:
            out.append(" ".join(line))
        return "".join(out)

    def to_dict(self) -> dict:
        return {"name": "word", "vocab_size": self.vocab_size, "min_freq": self.min_freq, "words": self.itos[2:]}


def build_tokenizer(name: str, train_pieces: Iterable[str] = (), *, min_freq: int = 1) -> Tokenizer:
    """Fit tokenizer ``name`` on the training text (an iterable of pieces that end at line ends)."""
    if name == "byte":
        return ByteTokenizer()
    if name == "char":
        return CharTokenizer.fit(train_pieces)
    if name == "word":
        return WordTokenizer.fit(train_pieces, min_freq=min_freq)
    raise ValueError(f"unknown tokenizer {name!r}; use one of {', '.join(TOKENIZERS)}")


def tokenizer_from_dict(d: dict) -> Tokenizer:
    """The inverse of ``Tokenizer.to_dict``."""
    name = d.get("name")
    if name == "byte":
        return ByteTokenizer()
    if name == "char":
        return CharTokenizer(d["chars"])
    if name == "word":
        return WordTokenizer(d["words"], int(d.get("min_freq", 1)))
    raise ValueError(f"unknown tokenizer {name!r}")


def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned dtype that holds ids 0..V-1: uint16 up to 65536, else uint32."""
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)
