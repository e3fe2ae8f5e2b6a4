"""The figures of `lossdoc baseline`, as data (numpy only, no torch).

Three entry points, each returning a plain dataclass or dict that the
renderers (lossdoc.render.baseline) print as a table or JSON:

- :func:`vocab_baseline` : the reference losses that depend only on the
  vocabulary size V (uniform floor, the seed's dummy-data floor, the expected
  loss at initialisation and its healthy band);
- :func:`loss_reading` : one loss value read against those references;
- :func:`corpus_baseline` : the floors of a real corpus given as token arrays
  (unigram entropy, smoothed unigram cross-entropy, bigram conditional entropy,
  unseen share). It is what ``lossdoc baseline --data`` calls once a loader
  turns a data source into train/validation token ids.

Every number comes from a function in lossdoc.floors, so ``train`` and
``explain`` print the same figures. Formulas and worked numbers: docs/floors.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc import floors
from lossdoc.errors import LossdocError

DEFAULT_D_MODEL = 256
"""d_model of lossdoc's default model (TrainConfig.d_model; a test keeps them equal)."""

DUMMY_TOKEN_LOW = 1
"""The seed's dummy data draws ids from [1, V) (lossdoc.train.data.TOKEN_LOW; a test keeps them equal)."""

BITS_HINT_TOLERANCE = 0.01
"""A loss within 1% of log2 V is flagged as possibly measured in bits."""

UNK_ID = {"char": 0, "word": 0}
"""The <unk> id of the tokenizers that have one (lossdoc.data.tokenizers; byte has none)."""

CORPUS_CACHE_VERSION = 2
"""Bump when corpus_baseline's figures change, so old cache files are ignored."""


@dataclass(frozen=True)
class VocabBaseline:
    """Reference losses for a vocabulary of V tokens, all in nats per token unless named bits."""

    vocab_size: int
    uniform_nats: float  # ln V
    uniform_bits: float  # log2 V
    uniform_perplexity: float  # V
    dummy_token_low: int  # 1: the seed's data is randint(1, V)
    dummy_token_high: int  # V (exclusive)
    dummy_nats: float  # ln(V - 1)
    dummy_bits: float
    dummy_perplexity: float  # V - 1
    dummy_gap_nats: float  # ln V - ln(V - 1) = -ln(1 - 1/V) ~ 1/V
    init_logit_std: float  # sigma of the logits at initialisation
    init_logit_std_source: str  # "lossdoc_default" or "given"
    init_d_model: int | None  # the d_model sigma was derived from (None when given)
    init_expected_nats: float  # E[loss] at init, exact (quadrature)
    init_expected_closed_form: float  # ln V + s^2/2 - (e^{s^2} - 1)/(2V)
    init_expansion_ratio: float  # (e^{s^2} - 1)/V: the closed form needs it << 1
    init_expected_bits: float
    init_expected_perplexity: float
    init_band_low: float
    init_band_high: float
    init_band_max_std: float  # the band's high end is the expected loss at max(sigma, this)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LossReading:
    """One loss value read against the references of a vocabulary."""

    loss: float  # nats per token
    vocab_size: int
    perplexity: float  # e^loss: as uncertain as a uniform choice among this many tokens
    bits: float  # loss / ln 2
    uniform_nats: float
    excess_uniform_nats: float
    excess_uniform_pct: float
    dummy_nats: float
    excess_dummy_nats: float  # on the seed's random data: KL(true || model) when >= 0
    excess_dummy_pct: float
    excess_dummy_bits: float
    perplexity_ratio_uniform: float  # e^loss / V
    init_band_low: float
    init_band_high: float
    position: str  # below_floor | near_floor | init_band | above_init_band (docs/floors.md)
    bits_hint: bool  # loss ~ log2 V: maybe measured in bits

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_vocab_size(vocab_size: object) -> int:
    """V as an int >= 2, or a LossdocError naming the value."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
        raise LossdocError("error.baseline_vocab", value=vocab_size)
    return int(vocab_size)


def vocab_baseline(vocab_size: int, init_logit_std: float | None = None) -> VocabBaseline:
    """The reference losses for V tokens.

    ``init_logit_std`` is the std of the model's logits at initialisation;
    None means lossdoc's default model (d_model 256), whose PyTorch-default LM
    head gives sqrt(1/3 + 1/(3 d_model)) ~ 0.5785.
    """
    v = check_vocab_size(vocab_size)
    if init_logit_std is None:
        std, source, d_model = floors.default_init_logit_std(DEFAULT_D_MODEL), "lossdoc_default", DEFAULT_D_MODEL
    else:
        if not math.isfinite(init_logit_std) or init_logit_std < 0:
            raise LossdocError("error.baseline_std", value=init_logit_std)
        std, source, d_model = float(init_logit_std), "given", None
    uniform = floors.uniform_floor(v)
    dummy = floors.dummy_floor(DUMMY_TOKEN_LOW, v)
    expected = floors.expected_init_loss_exact(v, std)
    low, high = floors.init_loss_band(v, std)
    return VocabBaseline(
        vocab_size=v,
        uniform_nats=uniform,
        uniform_bits=floors.nats_to_bits(uniform),
        uniform_perplexity=floors.perplexity(uniform),
        dummy_token_low=DUMMY_TOKEN_LOW,
        dummy_token_high=v,
        dummy_nats=dummy,
        dummy_bits=floors.nats_to_bits(dummy),
        dummy_perplexity=floors.perplexity(dummy),
        dummy_gap_nats=uniform - dummy,
        init_logit_std=std,
        init_logit_std_source=source,
        init_d_model=d_model,
        init_expected_nats=expected,
        init_expected_closed_form=floors.expected_init_loss(v, std),
        init_expansion_ratio=math.expm1(std * std) / v if std * std < 700 else math.inf,
        init_expected_bits=floors.nats_to_bits(expected),
        init_expected_perplexity=floors.perplexity(expected),
        init_band_low=low,
        init_band_high=high,
        init_band_max_std=1.0,
    )


def loss_reading(loss: float, vocab_size: int, init_logit_std: float | None = None) -> LossReading:
    """Read one loss (nats per token) against the references of V tokens."""
    if not isinstance(loss, (int, float)) or not math.isfinite(loss):
        raise LossdocError("error.baseline_loss_number", value=loss)
    if loss < 0:
        raise LossdocError("error.baseline_loss_negative", value=loss)
    ref = vocab_baseline(vocab_size, init_logit_std)
    loss = float(loss)
    ex_u, pct_u = floors.excess(loss, ref.uniform_nats)
    ex_d, pct_d = floors.excess(loss, ref.dummy_nats)
    allowance = floors.INIT_BAND_ALLOWANCE
    if loss < ref.dummy_nats - allowance:
        position = "below_floor"
    elif loss <= ref.uniform_nats + allowance:
        position = "near_floor"
    elif loss <= ref.init_band_high:
        position = "init_band"
    else:
        position = "above_init_band"
    ppl = floors.perplexity(loss)
    return LossReading(
        loss=loss,
        vocab_size=ref.vocab_size,
        perplexity=ppl,
        bits=floors.nats_to_bits(loss),
        uniform_nats=ref.uniform_nats,
        excess_uniform_nats=ex_u,
        excess_uniform_pct=pct_u,
        dummy_nats=ref.dummy_nats,
        excess_dummy_nats=ex_d,
        excess_dummy_pct=pct_d,
        excess_dummy_bits=floors.nats_to_bits(ex_d),
        perplexity_ratio_uniform=ppl / ref.vocab_size,
        init_band_low=ref.init_band_low,
        init_band_high=ref.init_band_high,
        position=position,
        bits_hint=abs(loss - ref.uniform_bits) <= BITS_HINT_TOLERANCE * ref.uniform_bits,
    )


@dataclass(frozen=True)
class CorpusFigures:
    """The floors of a corpus (:func:`corpus_baseline`); all losses in nats per token. ``to_dict()`` is the
    ``corpus`` object of ``baseline --json`` and of the cache files, in this order."""

    vocab_size: int
    train_tokens: int  # the streams as given
    val_tokens: int
    total_tokens: int
    seq_len: int | None  # with seq_len: the rows train makes (else None, as are the row counts)
    train_rows: int | None
    val_rows: int | None
    train_tokens_counted: int  # the tokens the figures use
    val_tokens_scored: int
    vocab_used_train: int  # distinct ids counted in train
    vocab_used: int  # distinct ids in train or scored in val
    uniform_nats: float  # ln V
    unigram_entropy_train: float  # plug-in entropy of the train unigram distribution
    unigram_cross_entropy_val: float  # add-alpha smoothed train unigram model scored on val
    smoothing: dict[str, Any]  # {"kind": "add_alpha", "alpha": alpha}
    bigram_plug_in: float  # H(X_t | X_t-1) on train, plug-in ...
    bigram_miller_madow: float  # ... and bias-corrected by (K - J) / (2N)
    bigram_pairs: int  # N
    bigram_distinct_pairs: int  # K
    bigram_distinct_contexts: int  # J
    unseen_val_share: float  # share of scored val tokens whose id never occurs in the counted train tokens
    unseen_val_types: int  # distinct such ids
    exact_entropy_rate: float | None  # the true entropy rate of a synthetic source, when known
    unk_id: int | None = None  # with a tokenizer that has <unk>: its id, ...
    unk_train_share: float | None = None  # ... and the shares of counted train / scored val tokens that are it
    unk_val_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if self.unk_id is None:  # the document has the three unk_ keys only when there is an <unk>
            for k in ("unk_id", "unk_train_share", "unk_val_share"):
                del d[k]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CorpusFigures:
        return cls(**d)


def corpus_baseline(
    train_tokens: np.ndarray,
    val_tokens: np.ndarray,
    vocab_size: int,
    *,
    alpha: float = 1.0,
    exact_entropy_rate: float | None = None,
    seq_len: int | None = None,
    unk_id: int | None = None,
) -> CorpusFigures:
    """The floors a model must beat on a corpus to have learned more than token frequencies.

    ``train_tokens`` and ``val_tokens`` are integer token ids in [0, V) of any
    shape, read as one stream each (rows are joined). ``exact_entropy_rate`` is
    the true entropy rate of a synthetic source (floors.zipf_entropy,
    floors.markov_entropy_rate), passed through when known.

    With ``seq_len`` the figures are those of the rows ``lossdoc train`` makes
    (lossdoc.data.load.rows_of: each stream cut into rows of seq_len tokens, the
    shorter tail dropped): the unigram model is counted on the tokens of the train
    rows and scored on the *predicted* positions of the validation rows (every
    position but the first, which is what the validation loss averages over),
    and bigram pairs are taken inside rows only. ``unigram_entropy_train`` and
    ``unigram_cross_entropy_val`` then equal the run header's ``unigram_entropy``
    and ``unigram_xent`` (lossdoc.data.corpus.unigram_figures: the same floors
    functions on the same ids). Without ``seq_len``: the whole streams, pairs
    across the whole train stream, every validation token scored.

    Returns a :class:`CorpusFigures` (all losses in nats per token; its fields say what each figure is).
    With ``unk_id`` (the tokenizer's id for text it does not know, 0 for char and word) it also gives the
    shares of counted train / scored val tokens that are it: for a tokenizer with <unk>, the unseen words
    or characters of validation land there, so ``unseen_val_share`` alone does not show them.
    """
    v = check_vocab_size(vocab_size)
    train = _token_stream(train_tokens, v, "train")
    val = _token_stream(val_tokens, v, "val")
    if not alpha > 0:
        raise ValueError("alpha must be > 0")
    counted, scored, pairs_of, prev, nxt, n_train_rows, n_val_rows = _what_is_counted(train, val, seq_len)
    counts = floors.unigram_counts(counted, v)
    seen_train = counts > 0
    scored_counts = floors.unigram_counts(scored, v)
    plug_in, mm = floors.bigram_conditional_entropy(pairs_of, v)
    distinct_pairs = int(np.unique(prev * np.int64(v) + nxt).size)
    distinct_contexts = int(np.count_nonzero(np.bincount(prev, minlength=v)))
    unseen = ~seen_train[scored]
    return CorpusFigures(
        vocab_size=v,
        train_tokens=int(train.size),
        val_tokens=int(val.size),
        total_tokens=int(train.size + val.size),
        seq_len=seq_len,
        train_rows=n_train_rows,
        val_rows=n_val_rows,
        train_tokens_counted=int(counted.size),
        val_tokens_scored=int(scored.size),
        vocab_used_train=int(np.count_nonzero(seen_train)),
        vocab_used=int(np.count_nonzero(seen_train | (scored_counts > 0))),
        uniform_nats=floors.uniform_floor(v),
        unigram_entropy_train=floors.unigram_entropy(counts),
        unigram_cross_entropy_val=floors.unigram_cross_entropy(counts, scored, alpha=alpha),
        smoothing={"kind": "add_alpha", "alpha": float(alpha)},
        bigram_plug_in=plug_in,
        bigram_miller_madow=mm,
        bigram_pairs=int(prev.size),
        bigram_distinct_pairs=distinct_pairs,
        bigram_distinct_contexts=distinct_contexts,
        unseen_val_share=float(unseen.mean()),
        unseen_val_types=int(np.count_nonzero((scored_counts > 0) & ~seen_train)),
        exact_entropy_rate=None if exact_entropy_rate is None else float(exact_entropy_rate),
        unk_id=None if unk_id is None else int(unk_id),
        unk_train_share=None if unk_id is None else float(counts[unk_id] / counted.size),
        unk_val_share=None if unk_id is None else float(scored_counts[unk_id] / scored.size),
    )


def token_fingerprint(train_tokens: np.ndarray, val_tokens: np.ndarray, vocab_size: int) -> str:
    """A sha256 of the token ids and V: the cache key of corpus_baseline_cached."""
    h = hashlib.sha256(f"lossdoc.corpus_baseline/{CORPUS_CACHE_VERSION}/V={int(vocab_size)}".encode())
    for name, arr in (("train", train_tokens), ("val", val_tokens)):
        a = np.ascontiguousarray(np.asarray(arr).ravel(), dtype=np.int64)
        h.update(f"/{name}/{a.size}/".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def corpus_cache_file(
    train_tokens: np.ndarray, val_tokens: np.ndarray, vocab_size: int, cache_dir: str | Path, *, key: str | None = None, **kwargs: Any
) -> Path:
    """The file corpus_baseline_cached reads and writes for these arguments."""
    key = key or token_fingerprint(train_tokens, val_tokens, vocab_size)
    extra = json.dumps(kwargs, sort_keys=True, default=str)
    return Path(cache_dir) / f"corpus-baseline-{hashlib.sha256((key + extra).encode()).hexdigest()[:32]}.json"


def corpus_baseline_cached(
    train_tokens: np.ndarray,
    val_tokens: np.ndarray,
    vocab_size: int,
    cache_dir: str | Path,
    *,
    key: str | None = None,
    **kwargs: Any,
) -> CorpusFigures:
    """corpus_baseline, remembered in ``cache_dir/corpus-baseline-<key>.json``.

    ``key`` defaults to :func:`token_fingerprint`; a loader that already has a
    stable key for (source, tokenizer, split) can pass it and skip the hash.
    A cache file that cannot be read is recomputed and rewritten; one that
    cannot be written is skipped (the figures are still returned).
    """
    key = key or token_fingerprint(train_tokens, val_tokens, vocab_size)
    path = corpus_cache_file(train_tokens, val_tokens, vocab_size, cache_dir, key=key, **kwargs)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("cache_version") == CORPUS_CACHE_VERSION:
            return CorpusFigures.from_dict(cached["figures"])
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        pass
    figures = corpus_baseline(train_tokens, val_tokens, vocab_size, **kwargs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"cache_version": CORPUS_CACHE_VERSION, "key": key, "figures": figures.to_dict()}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return figures


@dataclass
class DataMeasurement:
    """What ``lossdoc baseline --data`` measured."""

    vocab_size: int
    figures: CorpusFigures  # with seq_len: the rows train makes
    header: dict[str, Any]  # the run header's "data" object, exactly as ``train`` records it for these settings
    cache_file: Path | None  # where the figures are remembered


def measure_data(
    data: str | None,
    vocab_size: int | None = None,
    config: str | Path | None = None,
    **settings: Any,
) -> DataMeasurement:
    """The corpus figures of a ``train`` data source, loaded by the loader ``train`` uses.

    ``data``, ``vocab_size`` and ``settings`` (tokenizer, min_freq, val_file,
    text_column, cache_dir, seq_len, num_samples, val_fraction, seed,
    zipf_exponent, markov_successors; None = the default) resolve into a
    TrainConfig exactly as ``lossdoc train`` resolves its flags (defaults, then
    ``config``, then flags), so the same values give the same rows: zipf, markov
    and text through lossdoc.data.load (numpy only), dummy through
    lossdoc.train.data.make_dummy (torch: the seed defines it as torch.randint).
    The figures are corpus_baseline with seq_len, remembered by
    corpus_baseline_cached in ``<cache dir>/baseline/``.
    """
    from lossdoc.data.corpus import default_cache_dir
    from lossdoc.data.sources import parse_spec
    from lossdoc.train.config import resolve_config

    cfg = resolve_config(config, data=data, vocab_size=vocab_size, **settings)
    kind = parse_spec(cfg.data).kind
    if kind not in ("dummy", "zipf", "markov") and vocab_size is not None:
        raise LossdocError("error.baseline_vocab_text", value=vocab_size, source=cfg.data)
    root = (Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir()) / "baseline"
    key = unk_id = None
    if kind == "dummy":
        import torch

        from lossdoc.train.data import make_dummy

        ds = make_dummy(cfg)
        train, val = (x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x) for x in (ds.train, ds.val))
        header, exact = dict(ds.header), ds.header["entropy_floor"]
        v = int(ds.header["token_high"])  # ids in [token_low, V)
    else:
        from lossdoc.data.load import load_rows

        rows = load_rows(cfg)
        header, v, exact = dict(rows.header), int(rows.header["vocab_size"]), rows.exact_floor
        if rows.corpus is not None:  # the whole token streams; corpus_baseline cuts them into the same rows
            train, val = rows.corpus.train, rows.corpus.val
            unk_id = UNK_ID.get(rows.corpus.tokenizer.name)
            key = f"corpus/{rows.corpus.cache_path.name}" if rows.corpus.cache_path is not None else None
        else:
            train, val = rows.train, rows.val
    kwargs = {"exact_entropy_rate": exact, "seq_len": cfg.seq_len, "unk_id": unk_id}
    key = key or token_fingerprint(train, val, v)
    figures = corpus_baseline_cached(train, val, v, root, key=key, **kwargs)
    return DataMeasurement(v, figures, header, corpus_cache_file(train, val, v, root, key=key, **kwargs))


def _what_is_counted(train: np.ndarray, val: np.ndarray, seq_len: int | None) -> tuple:
    """(counted train ids, scored val ids, what bigrams are taken from, bigram contexts, next ids, train rows,
    val rows) for corpus_baseline: the whole streams, or with seq_len the rows ``lossdoc train`` makes."""
    if seq_len is None:
        if train.size < 2:
            raise LossdocError("error.baseline_train_empty", count=train.size, need=2)
        if val.size < 1:
            raise LossdocError("error.baseline_val_empty", count=val.size, need=1)
        return train, val, train, train[:-1], train[1:], None, None
    from lossdoc.data.load import rows_of

    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 2:
        raise ValueError("seq_len must be an integer >= 2")
    seq_len = int(seq_len)
    train_rows, val_rows = rows_of(train, seq_len), rows_of(val, seq_len)
    if train_rows.shape[0] < 1:
        raise LossdocError("error.baseline_train_empty", count=train.size, need=seq_len)
    if val_rows.shape[0] < 1:
        raise LossdocError("error.baseline_val_empty", count=val.size, need=seq_len)
    # every row position is counted; validation scores every position but the first (what the loss averages over)
    return (
        train_rows.ravel(),
        val_rows[:, 1:].ravel(),
        train_rows,
        train_rows[:, :-1].ravel(),
        train_rows[:, 1:].ravel(),
        int(train_rows.shape[0]),
        int(val_rows.shape[0]),
    )


def _token_stream(tokens: np.ndarray, vocab_size: int, split: str) -> np.ndarray:
    a = np.asarray(tokens)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise LossdocError(f"error.baseline_{split}_ids", detail=f"dtype {a.dtype}")
    a = a.ravel().astype(np.int64, copy=False)
    if a.size and (a.min() < 0 or a.max() >= vocab_size):
        raise LossdocError(f"error.baseline_{split}_ids", detail=f"min {a.min()}, max {a.max()}, V = {vocab_size}")
    return a
