"""A text corpus tokenised once into a memory-mapped cache, then reused.

The cache entry for a (source, tokenizer, settings) triple is a folder
``<cache_dir>/<name>-<tokenizer>-<key>/`` holding ``train.bin`` and ``val.bin``
(raw little-endian uint16, or uint32 when V > 65536) and ``meta.json`` (token
counts, dtype and the tokenizer's vocabulary). The key is a SHA-256 of the
source's identity (file paths, sizes and modification times; a dataset's name,
config and split fingerprints; the split rule) and the tokenizer settings, so
an edited file or a different ``--min-freq`` gets a new entry. An entry is
written into a temporary folder and renamed into place, so a killed run leaves
no half-written entry. The cache folder is ``cache_dir``, else
``$LOSSDOC_CACHE``, else ``~/.cache/lossdoc``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc import floors
from lossdoc.data.sources import TextSource, default_tokenizer, open_source, parse_spec
from lossdoc.data.tokenizers import TOKENIZERS, Tokenizer, build_tokenizer, token_dtype, tokenizer_from_dict
from lossdoc.errors import LossdocError

CACHE_FORMAT = "lossdoc.tokens/1"
PROGRESS_MIN_CHARS = 5_000_000  # the default progress line appears only for corpora at least this long

Progress = Callable[[str, int, int], None]  # (split, characters done, characters in all)

tokenize_count = 0  # how many corpora this process has tokenised (tests check that a cache hit does not add one)


@dataclass
class Corpus:
    train: np.ndarray  # 1-d token ids (a read-only memmap of the cache)
    val: np.ndarray
    tokenizer: Tokenizer
    info: dict[str, Any] = field(default_factory=dict)  # kind, source, tokenizer, vocab_size, token counts, split rule, cache
    cache_hit: bool = False
    cache_path: Path | None = None

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size


def default_cache_dir() -> Path:
    env = os.environ.get("LOSSDOC_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lossdoc"


def cache_key(identity: dict[str, Any], tokenizer: str, min_freq: int) -> str:
    settings: dict[str, Any] = {"format": CACHE_FORMAT, "source": identity, "tokenizer": tokenizer}
    if tokenizer == "word":
        settings["min_freq"] = min_freq
    blob = json.dumps(settings, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()[:20]


def prepare_corpus(
    data: str,
    *,
    tokenizer: str | None = None,
    min_freq: int = 3,
    val_fraction: float = 0.1,
    val_file: str | None = None,
    text_column: str = "text",
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Corpus:
    """Open the text source ``data``, tokenise it (or reuse the cache) and return the token streams."""
    spec = parse_spec(data)
    if spec.kind in ("dummy", "zipf", "markov"):
        raise ValueError(f"{data} is a synthetic source, not text")
    tok_name = tokenizer or default_tokenizer(spec)
    if tok_name not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tok_name!r}")
    source = open_source(spec, val_fraction=val_fraction, val_file=val_file, text_column=text_column)
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    key = cache_key(source.identity, tok_name, min_freq)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(source.description).name or source.description)[:40].strip("_") or "data"
    entry = root / f"{slug}-{tok_name}-{key}"
    corpus = _load_entry(entry)
    if corpus is None:
        _build_entry(entry, source, tok_name, min_freq, progress if progress is not None else stderr_progress(source.description))
        corpus = _load_entry(entry)
        if corpus is None:  # pragma: no cover - only if the disk lies
            raise LossdocError("error.cache_bad", path=str(entry))
    else:
        corpus.cache_hit = True
    corpus.info.update({"kind": source.kind, "source": source.description, "val_split": source.val_rule})
    return corpus


def _load_entry(entry: Path) -> Corpus | None:
    meta_path = entry / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != CACHE_FORMAT:
            return None
        dtype = np.dtype(meta["dtype"])
        arrays = []
        for split, count in (("train", meta["train_tokens"]), ("val", meta["val_tokens"])):
            path = entry / f"{split}.bin"
            if path.stat().st_size != count * dtype.itemsize:
                return None
            arrays.append(np.memmap(path, dtype=dtype, mode="r", shape=(count,)) if count else np.zeros(0, dtype=dtype))
        tok = tokenizer_from_dict(meta["tokenizer"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    info = {
        "tokenizer": tok.name,
        "vocab_size": tok.vocab_size,
        "train_tokens": int(meta["train_tokens"]),
        "val_tokens": int(meta["val_tokens"]),
        "cache": str(entry),
    }
    if tok.name == "word":
        info["min_freq"] = meta["tokenizer"].get("min_freq")
    return Corpus(arrays[0], arrays[1], tok, info, False, entry)


def _build_entry(entry: Path, source: TextSource, tok_name: str, min_freq: int, progress: Progress | None) -> None:
    global tokenize_count
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    except OSError as exc:
        raise LossdocError("error.io", path=str(entry.parent), detail=exc.strerror or str(exc)) from None
    try:
        tok = build_tokenizer(tok_name, source.train(), min_freq=min_freq)
        dtype = token_dtype(tok.vocab_size)
        counts = {}
        for split, pieces, fname in (("train", source.train, "train.bin"), ("validation", source.val, "val.bin")):
            total = source.total_chars.get(split, 0)
            done = n = 0
            with open(tmp / fname, "wb") as fh:
                for piece in pieces():
                    ids = tok.encode(piece)
                    fh.write(ids.astype(dtype.newbyteorder("<")).tobytes())
                    n += ids.size
                    done += len(piece)
                    if progress is not None:
                        progress(split, done, max(total, done))
            if progress is not None:
                progress(split, max(total, done), max(total, done))  # the last line says 100%
            counts[split] = n
        meta = {
            "format": CACHE_FORMAT,
            "source": source.description,
            "identity": source.identity,
            "val_split": source.val_rule,
            "dtype": dtype.newbyteorder("<").str,
            "train_tokens": counts["train"],
            "val_tokens": counts["validation"],
            "tokenizer": tok.to_dict(),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, default=str), encoding="utf-8")
        tokenize_count += 1
        try:
            os.replace(tmp, entry)
        except OSError:
            if not (entry / "meta.json").is_file():  # another process won the race: keep theirs
                raise
    except OSError as exc:
        raise LossdocError("error.io", path=str(entry), detail=exc.strerror or str(exc)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stderr_progress(description: str, min_chars: int = PROGRESS_MIN_CHARS, stream=None) -> Progress:
    """A progress callback printing 'tokenising SOURCE (split): N%' every 10% for long corpora."""
    from lossdoc.i18n import detect_lang, t

    stream = stream if stream is not None else sys.stderr
    lang = detect_lang()
    shown: dict[str, int] = {}

    def report(split: str, done: int, total: int) -> None:
        if total < min_chars:
            return
        pct = min(100, int(100 * done / total)) // 10 * 10
        if shown.get(split, -1) >= pct:
            return
        shown[split] = pct
        line = t("data.progress", lang, source=description, split=split, pct=pct)
        tty = getattr(stream, "isatty", lambda: False)()
        stream.write(("\r" + line + ("\n" if pct >= 100 else "")) if tty else line + "\n")
        stream.flush()

    return report


def unigram_figures(train_rows: np.ndarray, val_rows: np.ndarray, vocab_size: int, chunk: int = 1 << 22) -> tuple[float, float]:
    """(unigram entropy of the training rows' tokens, add-one unigram cross-entropy on the validation rows'
    predicted tokens, i.e. every position but the first): the loss of a model that knows only frequencies."""
    flat = train_rows.reshape(-1)
    counts = np.zeros(vocab_size, dtype=np.int64)
    for i in range(0, flat.shape[0], chunk):
        counts += floors.unigram_counts(np.asarray(flat[i : i + chunk]), vocab_size)
    labels = np.asarray(val_rows[:, 1:]).reshape(-1).astype(np.int64)
    return floors.unigram_entropy(counts), floors.unigram_cross_entropy(counts, labels, alpha=1.0)
