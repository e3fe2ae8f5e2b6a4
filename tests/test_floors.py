"""lossdoc.floors against independent computations: hand arithmetic, brute-force
enumeration, Monte Carlo with fixed seeds, and lossdoc's real model in torch."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from lossdoc import floors

# ---------------------------------------------------------------- the seed's numbers


def test_uniform_floor_is_ln_v_and_the_seeds_9_21():
    assert floors.uniform_floor(10000) == pytest.approx(4 * math.log(10), rel=1e-15)
    assert f"{floors.uniform_floor(10000):.4f}" == "9.2103"
    assert f"{floors.nats_to_bits(floors.uniform_floor(10000)):.3f}" == "13.288"
    assert floors.nats_to_bits(floors.uniform_floor(10000)) == pytest.approx(4 / math.log10(2), rel=1e-14)
    assert floors.perplexity(floors.uniform_floor(10000)) == pytest.approx(10000, rel=1e-12)


def test_dummy_floor_is_ln_v_minus_1():
    # ln 9999 = ln 10000 + ln(1 - 1/10000), computed another way
    assert floors.dummy_floor(1, 10000) == pytest.approx(4 * math.log(10) + math.log1p(-1e-4), rel=1e-14)
    assert f"{floors.dummy_floor(1, 10000):.4f}" == "9.2102"
    # the gap is ~1/V
    assert floors.uniform_floor(10000) - floors.dummy_floor(1, 10000) == pytest.approx(1e-4, rel=1e-3)
    with pytest.raises(ValueError):
        floors.dummy_floor(5, 5)


def test_dummy_floor_equals_the_entropy_of_the_seeds_randint_distribution():
    v = 37
    p = np.zeros(v)
    p[1:] = 1.0 / (v - 1)  # randint(1, V): ids 1..V-1, uniformly
    assert floors.dummy_floor(1, v) == pytest.approx(-sum(q * math.log(q) for q in p if q > 0), rel=1e-13)


def test_perplexity_overflow_is_inf():
    assert floors.perplexity(800.0) == math.inf
    assert floors.perplexity(0.0) == 1.0


@pytest.mark.parametrize("bad", [1, 0, -3, 2.0, "10"])
def test_vocab_checks(bad):
    with pytest.raises(ValueError):
        floors.uniform_floor(bad)


# ---------------------------------------------------------------- initialisation


def test_default_init_logit_std_formula():
    # 1/3 + 1/(3*256) = 257/768
    assert floors.default_init_logit_std(256) == pytest.approx(math.sqrt(257 / 768), rel=1e-15)
    assert f"{floors.default_init_logit_std(256):.4f}" == "0.5785"
    assert floors.default_init_logit_std(256) ** 2 == pytest.approx(1 / 3, abs=2e-3)


def test_seed_init_loss_is_ln_v_plus_a_sixth():
    s = floors.default_init_logit_std(256)
    e = floors.expected_init_loss(10000, s)
    assert e == pytest.approx(math.log(10000) + (1 / 3 + 1 / 768) / 2 - math.expm1(257 / 768) / 20000, rel=1e-14)
    assert round(e, 2) == 9.38  # what the seed saw as its first loss
    assert f"{e:.3f}" == "9.378"


def _mc_expected_logsumexp(v: int, std: float, draws: int, seed: int) -> tuple[float, float]:
    """Monte Carlo E[logsumexp(z)], z ~ N(0, std^2)^V: mean and standard error."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(max(1, draws * v // 1_000_000)):  # chunks of ~1M normals
        n = min(draws, max(1, 1_000_000 // v))
        z = rng.standard_normal((n, v)) * std
        m = z.max(axis=1)
        vals.append(m + np.log(np.exp(z - m[:, None]).sum(axis=1)))
    x = np.concatenate(vals)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def test_expected_init_loss_matches_monte_carlo_for_the_seed():
    s = floors.default_init_logit_std(256)
    mean, se = _mc_expected_logsumexp(10000, s, draws=400, seed=1234)
    # E[z_y] = 0 for a target independent of the logits, so E[loss] = E[logsumexp]
    assert abs(floors.expected_init_loss(10000, s) - mean) < 4 * se + 1e-4
    assert abs(floors.expected_init_loss_exact(10000, s) - mean) < 4 * se + 1e-4


@pytest.mark.parametrize("v,std", [(10, 1.0), (10, 2.0), (10, 3.0), (100, 3.0), (1000, 2.5)])
def test_exact_init_loss_matches_monte_carlo_where_the_closed_form_fails(v, std):
    mean, se = _mc_expected_logsumexp(v, std, draws=40_000 if v <= 100 else 4_000, seed=v + int(10 * std))
    exact = floors.expected_init_loss_exact(v, std)
    assert abs(exact - mean) < 4 * se + 1e-3, (exact, mean, se)
    if math.expm1(std * std) / v > 0.5:  # the second-order expansion is outside its domain here
        assert abs(floors.expected_init_loss(v, std) - mean) > 10 * se


def test_exact_init_loss_special_cases():
    assert floors.expected_init_loss_exact(50, 0.0) == math.log(50)
    # sigma -> 0: the quadrature reproduces ln V (Frullani's integral)
    assert floors.expected_init_loss_exact(50, 1e-6) == pytest.approx(math.log(50), abs=1e-6)
    # V = 2: E[logsumexp(a, b)] = E[max] + E[log(1 + e^-|a-b|)], a - b ~ N(0, 2 s^2), E[max] = s / sqrt(pi)
    for s in (0.5, 3.0, 20.0):
        d = np.linspace(0, 12 * s * math.sqrt(2), 200_001)
        dens = 2 * np.exp(-d * d / (4 * s * s)) / (math.sqrt(2 * math.pi) * s * math.sqrt(2))  # half-normal density of |a - b|
        second = np.trapezoid(np.log1p(np.exp(-d)) * dens, d)
        assert floors.expected_init_loss_exact(2, s) == pytest.approx(s / math.sqrt(math.pi) + second, abs=1e-5)


@pytest.mark.parametrize("v", [2, 10, 1000, 10000, 50257])
def test_exact_and_closed_form_agree_where_the_expansion_holds(v):
    for s in (0.1, 0.3, 0.5785, 1.0):
        if math.expm1(s * s) / v < 0.01:
            assert floors.expected_init_loss_exact(v, s) == pytest.approx(floors.expected_init_loss(v, s), abs=2e-4)


def test_exact_init_loss_rejects_bad_std():
    for bad in (-0.1, math.nan, math.inf, floors.MAX_LOGIT_STD + 1):
        with pytest.raises(ValueError):
            floors.expected_init_loss_exact(10, bad)


def test_init_loss_band():
    s = floors.default_init_logit_std(256)
    low, high = floors.init_loss_band(10000, s)
    assert low == pytest.approx(math.log(10000) - 0.05)
    assert high == pytest.approx(math.log(10000) + 0.5 - math.expm1(1.0) / 20000 + 0.05, abs=1e-6)  # sigma 1, closed form
    assert low < floors.expected_init_loss(10000, s) < high
    # a larger sigma moves the top with it, and stays sensible where the closed form breaks down
    low2, high2 = floors.init_loss_band(10000, 0.5785 * 30)
    assert low2 == low and high2 > high > low
    # the closed form alone would give nonsense here (about -3e126); beyond s^2 = 50 it hands over to the integral
    assert floors.expected_init_loss(10000, 0.5785 * 30) == floors.expected_init_loss_exact(10000, 0.5785 * 30)
    assert floors.expected_init_loss(10000, 40.0) > math.log(10000)  # expm1 overflowed here before


def test_implied_logit_std_inverts_the_expected_init_loss():
    for v, s in ((10000, 0.5785), (64, 3.0), (64, 17.35), (1000, 0.1)):
        assert floors.implied_logit_std(v, floors.expected_init_loss_exact(v, s)) == pytest.approx(s, rel=0.01)
    assert floors.implied_logit_std(10, 1.0) == 0.0  # below ln V


def test_default_init_logit_std_and_init_loss_on_lossdoc_model():
    """The facts behind the seed's 9.38, measured on lossdoc's real model."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from lossdoc.train.model import ModelConfig, TransformerLM

    v = 10000
    for d_model in (16, 256):
        stds, losses = [], []
        for seed in range(3):
            torch.manual_seed(seed)
            model = TransformerLM(ModelConfig(vocab_size=v, max_len=64, d_model=d_model, num_heads=4, d_ff=4 * d_model, dropout=0.0)).eval()
            x = torch.randint(1, v, (32, 64))
            y = torch.randint(1, v, (32, 64))
            with torch.no_grad():
                z = model(x)
            stds.append(z.std().item())
            losses.append(F.cross_entropy(z.reshape(-1, v), y.reshape(-1)).item())
        sigma = floors.default_init_logit_std(d_model)
        assert np.mean(stds) == pytest.approx(sigma, rel=0.01)
        assert np.mean(losses) == pytest.approx(floors.expected_init_loss(v, sigma), abs=0.03)


# ---------------------------------------------------------------- entropies


def test_entropy_by_hand():
    assert floors.entropy([0.5, 0.25, 0.25]) == pytest.approx(1.5 * math.log(2), rel=1e-15)
    assert floors.entropy([1.0, 0.0]) == 0.0
    assert floors.entropy(np.full(8, 1 / 8)) == pytest.approx(3 * math.log(2))
    for bad in ([], [0.5, 0.6], [-0.5, 1.5], [[0.5, 0.5]]):
        with pytest.raises(ValueError):
            floors.entropy(bad)


@pytest.mark.parametrize("v,a", [(2, 1.0), (50, 1.0), (1000, 1.1), (300, 0.0), (20, 2.5)])
def test_zipf_entropy_brute_force(v, a):
    weights = [1.0 / k**a for k in range(1, v + 1)]
    z = sum(weights)
    h = -sum(w / z * math.log(w / z) for w in weights)
    assert floors.zipf_entropy(v, a) == pytest.approx(h, rel=1e-12)
    if a == 0.0:
        assert floors.zipf_entropy(v, a) == pytest.approx(math.log(v))


def _brute_force_markov_rate(p: np.ndarray) -> float:
    """H(X1..X3) - H(X1..X2) from the stationary start, by enumerating every sequence;
    the stationary distribution from an eigenvector (not power iteration)."""
    w, vecs = np.linalg.eig(p.T)
    pi = np.real(vecs[:, np.argmin(np.abs(w - 1))])
    pi = pi / pi.sum()
    n = p.shape[0]

    def h(length: int) -> float:
        total = 0.0
        for seq in itertools.product(range(n), repeat=length):
            q = pi[seq[0]]
            for a, b in zip(seq, seq[1:]):
                q *= p[a, b]
            if q > 0:
                total -= q * math.log(q)
        return total

    return h(3) - h(2)


def test_markov_entropy_rate_brute_force():
    rng = np.random.default_rng(7)
    for n in (2, 3, 4):
        p = rng.random((n, n)) + 0.05
        p /= p.sum(axis=1, keepdims=True)
        assert floors.markov_entropy_rate(p) == pytest.approx(_brute_force_markov_rate(p), rel=1e-9)
    sparse = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
    assert floors.markov_entropy_rate(sparse) == pytest.approx(_brute_force_markov_rate(sparse), rel=1e-9)
    # a periodic deterministic chain: rate 0, stationary distribution uniform
    flip = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert floors.markov_entropy_rate(flip) == 0.0
    assert np.allclose(floors.stationary_distribution(flip), [0.5, 0.5])
    # i.i.d. rows: the rate is the entropy of the row
    row = np.array([0.7, 0.2, 0.1])
    assert floors.markov_entropy_rate(np.tile(row, (3, 1))) == pytest.approx(floors.entropy(row))


TEXT = "the cat sat on the mat and the dog sat on the log while the cat ate".split()


def _ids(words: list[str], vocab: list[str]) -> np.ndarray:
    return np.array([vocab.index(w) for w in words], dtype=np.int64)


def test_unigram_entropy_and_cross_entropy_by_counting():
    vocab = sorted(set(TEXT)) + ["unused", "zebra"]
    train = _ids(TEXT, vocab)
    val_words = "the zebra sat on the cat".split()
    val = _ids(val_words, vocab)
    counts = Counter(TEXT)
    n = len(TEXT)
    h = -sum(c / n * math.log(c / n) for c in counts.values())
    c_arr = floors.unigram_counts(train, len(vocab))
    assert c_arr.sum() == n and c_arr[vocab.index("the")] == 5
    assert floors.unigram_entropy(c_arr) == pytest.approx(h, rel=1e-13)
    v = len(vocab)
    ce = -sum(math.log((counts.get(w, 0) + 1) / (n + v)) for w in val_words) / len(val_words)
    assert floors.unigram_cross_entropy(c_arr, val) == pytest.approx(ce, rel=1e-13)
    ce_half = -sum(math.log((counts.get(w, 0) + 0.5) / (n + 0.5 * v)) for w in val_words) / len(val_words)
    assert floors.unigram_cross_entropy(c_arr, val, alpha=0.5) == pytest.approx(ce_half, rel=1e-13)
    with pytest.raises(ValueError):
        floors.unigram_entropy(np.zeros(3))


def _dict_bigram(tokens: list[int]) -> tuple[float, float]:
    """H(Y | X) = -sum_{x,y} p(x, y) ln p(y | x) by dict counting, and Miller-Madow."""
    pairs = Counter(zip(tokens, tokens[1:]))
    ctx = Counter(tokens[:-1])
    n = len(tokens) - 1
    h = -sum(c / n * math.log(c / ctx[x]) for (x, _), c in pairs.items())
    return h, h + (len(pairs) - len(ctx)) / (2 * n)


def test_bigram_conditional_entropy_against_dict_counting():
    vocab = sorted(set(TEXT))
    toks = _ids(TEXT, vocab)
    got = floors.bigram_conditional_entropy(toks, len(vocab))
    want = _dict_bigram(toks.tolist())
    assert got == pytest.approx(want, rel=1e-12)
    rng = np.random.default_rng(3)
    for v in (2, 7, 300):
        t = rng.integers(0, v, size=5000)
        assert floors.bigram_conditional_entropy(t, v) == pytest.approx(_dict_bigram(t.tolist()), rel=1e-12)
    with pytest.raises(ValueError):
        floors.bigram_conditional_entropy(np.array([1]), 3)


def test_bigram_of_a_deterministic_cycle_is_zero():
    t = np.tile(np.arange(5), 100)
    plug, mm = floors.bigram_conditional_entropy(t, 5)
    assert plug == pytest.approx(0.0, abs=1e-12) and mm == pytest.approx(0.0, abs=1e-12)  # K = J: no correction


def test_excess():
    assert floors.excess(9.229, 9.2102) == pytest.approx((0.0188, 100 * 0.0188 / 9.2102))
    d, pct = floors.excess(1.0, 0.0)
    assert d == 1.0 and math.isnan(pct)
