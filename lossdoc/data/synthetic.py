"""Synthetic token sources whose best possible loss is known exactly.

- ``zipf``: i.i.d. tokens, id k-1 drawn with probability proportional to
  1/k^s (k = 1..V). No context helps, so the floor is the entropy of the
  distribution, ``floors.zipf_entropy(V, s)``.
- ``markov``: a seeded random order-1 Markov chain over V tokens. Each token
  has ``successors`` possible next tokens: token i always may go to i+1 (mod V),
  which makes the chain irreducible, plus successors-1 others drawn at random
  (possibly i itself); the transition weights are drawn from a flat Dirichlet.
  Rows start in the stationary distribution, so every predicted position has
  the same expected loss at best: the entropy rate
  ``floors.markov_entropy_rate(P)`` (from the stationary distribution of P).

Rows are drawn with numpy generators seeded by (seed, stream): the chain
(stream 0), the training rows (1) and the validation rows (2), so the two
splits are independent draws from the same source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossdoc import floors

MARKOV_MAX_VOCAB = 2048  # the exact floor uses a dense V x V matrix (floors.markov_entropy_rate)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, stream])


def sample_zipf(vocab_size: int, exponent: float, num_rows: int, seq_len: int, seed: int, stream: int) -> np.ndarray:
    """(num_rows, seq_len) int64 i.i.d. Zipf tokens."""
    p = floors.zipf_probs(vocab_size, exponent)
    return _rng(seed, stream).choice(vocab_size, size=(num_rows, seq_len), p=p).astype(np.int64)


@dataclass
class MarkovChain:
    successors: np.ndarray  # (V, k) int64: the possible next tokens of each token
    probs: np.ndarray  # (V, k) float64: their probabilities (rows sum to 1)

    @property
    def vocab_size(self) -> int:
        return self.successors.shape[0]

    def dense(self) -> np.ndarray:
        """The V x V transition matrix P[i, j] = p(next = j | current = i)."""
        v = self.vocab_size
        p = np.zeros((v, v), dtype=np.float64)
        np.add.at(p, (np.repeat(np.arange(v), self.successors.shape[1]), self.successors.ravel()), self.probs.ravel())
        return p

    def stationary(self) -> np.ndarray:
        return floors.stationary_distribution(self.dense())

    def entropy_rate(self) -> float:
        return floors.markov_entropy_rate(self.dense())


def random_markov_chain(vocab_size: int, successors: int, seed: int) -> MarkovChain:
    if not 2 <= successors <= vocab_size:
        raise ValueError("successors must be between 2 and vocab_size")
    rng = _rng(seed, 0)
    v, k = vocab_size, successors
    succ = np.empty((v, k), dtype=np.int64)
    for i in range(v):
        nxt = (i + 1) % v
        others = rng.choice(v - 1, size=k - 1, replace=False)
        others = others + (others >= nxt)  # skip nxt: draw from the other V-1 tokens
        succ[i, 0] = nxt
        succ[i, 1:] = others
    probs = rng.dirichlet(np.ones(k), size=v)
    return MarkovChain(succ, probs)


def sample_markov(chain: MarkovChain, num_rows: int, seq_len: int, seed: int, stream: int) -> np.ndarray:
    """(num_rows, seq_len) int64: independent stretches of the chain, each started in the stationary distribution."""
    rng = _rng(seed, stream)
    pi = chain.stationary()
    rows = np.empty((num_rows, seq_len), dtype=np.int64)
    x = rng.choice(chain.vocab_size, size=num_rows, p=pi)
    rows[:, 0] = x
    cum = np.cumsum(chain.probs, axis=1)
    k = chain.probs.shape[1]
    for t in range(1, seq_len):
        u = rng.random(num_rows)
        j = np.minimum((u[:, None] >= cum[x]).sum(axis=1), k - 1)
        x = chain.successors[x, j]
        rows[:, t] = x
    return rows


def synthetic_rows(
    kind: str, vocab_size: int, num_train: int, num_val: int, seq_len: int, seed: int, *, zipf_exponent: float = 1.0, markov_successors: int = 4
) -> tuple[np.ndarray, np.ndarray, float, dict]:
    """(train rows, validation rows, exact floor, source settings) of ``zipf`` or ``markov`` data: what
    ``lossdoc train`` trains on and what ``lossdoc baseline --data`` can measure, from one place."""
    if kind == "zipf":
        train = sample_zipf(vocab_size, zipf_exponent, num_train, seq_len, seed, 1)
        val = sample_zipf(vocab_size, zipf_exponent, num_val, seq_len, seed, 2)
        nll = -np.log(floors.zipf_probs(vocab_size, zipf_exponent)[val[:, 1:]])
        return train, val, floors.zipf_entropy(vocab_size, zipf_exponent), {"zipf_exponent": zipf_exponent, **_sample_floor(nll)}
    if kind == "markov":
        chain = random_markov_chain(vocab_size, markov_successors, seed)
        train = sample_markov(chain, num_train, seq_len, seed, 1)
        val = sample_markov(chain, num_val, seq_len, seed, 2)
        nll = -np.log(chain.dense()[val[:, :-1], val[:, 1:]])
        settings = {"markov_successors": markov_successors, "chain_seed": seed, **_sample_floor(nll)}
        return train, val, chain.entropy_rate(), settings
    raise ValueError(f"{kind!r} is not a synthetic source with a floor (zipf, markov)")


def _sample_floor(nll: np.ndarray) -> dict[str, float]:
    """What the true source itself scores on these validation rows (``val_floor_sample``: the mean of
    -ln p(label | previous token) over every predicted position) and its standard error
    (``val_floor_se`` = std / sqrt(n)). The exact floor is an expectation; on a finite validation set a
    loss can land a little below it by chance, by about this much, never systematically."""
    x = np.asarray(nll, dtype=np.float64).ravel()
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return {"val_floor_sample": float(x.mean()), "val_floor_se": se}
