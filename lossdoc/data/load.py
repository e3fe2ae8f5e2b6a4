"""The token rows of a data source, as numpy arrays: what ``lossdoc train`` trains on and what
``lossdoc baseline --data`` measures, from one loader (numpy only, no torch).

``load_rows(cfg)`` takes the data settings of a training config (``cfg.data``, ``seq_len``,
``num_samples``, ``val_fraction``, ``seed``, ``zipf_exponent``, ``markov_successors``,
``tokenizer``, ``min_freq``, ``val_file``, ``text_column``, ``cache_dir``) and returns the
train and validation rows and the run header's ``"data"`` object, with the unigram figures
that ``train`` records. lossdoc.train.data wraps the rows in torch tensors; ``dummy`` data
is made there, with torch, because the seed defines it as ``torch.randint``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoc.data.corpus import Corpus, prepare_corpus, unigram_figures
from lossdoc.errors import LossdocError

SYNTHETIC_WITH_FLOOR = ("zipf", "markov")


@dataclass
class Rows:
    train: np.ndarray  # (N_train, seq_len) integer ids; for text, a view of the cache's memmap
    val: np.ndarray  # (N_val, seq_len)
    header: dict[str, Any]  # the run header's "data" object
    corpus: Corpus | None = None  # text data: the tokenised corpus (streams, tokenizer, cache entry)
    exact_floor: float | None = None  # synthetic data: the source's exact entropy rate
    settings: dict[str, Any] = field(default_factory=dict)  # synthetic data: what synthetic_rows reports


def rows_of(tokens: np.ndarray, seq_len: int) -> np.ndarray:
    """A 1-d token stream cut into non-overlapping rows of seq_len tokens; the shorter tail is dropped."""
    n = int(tokens.shape[0]) // seq_len
    return tokens[: n * seq_len].reshape(n, seq_len)


def load_rows(cfg: Any, progress: Callable[[str, int, int], None] | None = None) -> Rows:
    """The rows and header of ``cfg.data`` for zipf, markov and text sources (not dummy)."""
    from lossdoc.data.sources import parse_spec

    kind = parse_spec(cfg.data).kind
    if kind == "dummy":
        raise ValueError("dummy data is made with torch (lossdoc.train.data.make_dummy)")
    if kind in SYNTHETIC_WITH_FLOOR:
        return synthetic_data(cfg)
    return text_data(cfg, progress)


def synthetic_data(cfg: Any) -> Rows:
    from lossdoc.data import synthetic

    n_val = cfg.num_val_samples
    n_train = cfg.num_samples - n_val
    v = cfg.vocab_size
    train, val, floor, settings = synthetic.synthetic_rows(
        cfg.data, v, n_train, n_val, cfg.seq_len, cfg.seed, zipf_exponent=cfg.zipf_exponent, markov_successors=cfg.markov_successors
    )
    header: dict[str, Any] = {"kind": cfg.data, **settings}
    uni_h, uni_x = unigram_figures(train, val, v)
    header.update(
        {
            "vocab_size": v,
            "num_samples": cfg.num_samples,
            "num_train": n_train,
            "num_val": n_val,
            "seq_len": cfg.seq_len,
            "train_tokens": int(train.size),
            "val_tokens": int(val.size),
            "entropy_floor": floor,
            "floor_kind": "exact",
            "unigram_entropy": uni_h,
            "unigram_xent": uni_x,
        }
    )
    return Rows(train, val, header, exact_floor=floor, settings=settings)


def open_corpus(cfg: Any, progress: Callable[[str, int, int], None] | None = None) -> Corpus:
    """Tokenise ``cfg.data`` into the cache, or reuse the cache entry."""
    return prepare_corpus(
        cfg.data,
        tokenizer=cfg.tokenizer,
        min_freq=cfg.min_freq,
        val_fraction=cfg.val_fraction,
        val_file=cfg.val_file,
        text_column=cfg.text_column,
        cache_dir=cfg.cache_dir,
        progress=progress,
    )


def text_data(cfg: Any, progress: Callable[[str, int, int], None] | None = None) -> Rows:
    corpus = open_corpus(cfg, progress)
    train, val = rows_of(corpus.train, cfg.seq_len), rows_of(corpus.val, cfg.seq_len)
    for split, rows, n in (("train", train, corpus.train.shape[0]), ("validation", val, corpus.val.shape[0])):
        if rows.shape[0] < 1:
            raise LossdocError("error.data_too_short", split=split, source=corpus.info["source"], tokens=int(n), seq_len=cfg.seq_len)
    uni_h, uni_x = unigram_figures(train, val, corpus.vocab_size)
    info = corpus.info
    header: dict[str, Any] = {
        "kind": info["kind"],
        "source": info["source"],
        "tokenizer": info["tokenizer"],
        "vocab_size": corpus.vocab_size,
    }
    if "min_freq" in info:
        header["min_freq"] = info["min_freq"]
    header.update(
        {
            "val_split": info["val_split"],
            "train_tokens": info["train_tokens"],
            "val_tokens": info["val_tokens"],
            "num_train": int(train.shape[0]),
            "num_val": int(val.shape[0]),
            "seq_len": cfg.seq_len,
            "unigram_entropy": uni_h,
            "unigram_xent": uni_x,
            "cache": info["cache"],
            "cache_hit": corpus.cache_hit,
        }
    )
    return Rows(train, val, header, corpus=corpus)
