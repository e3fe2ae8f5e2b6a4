"""zipf and markov sources: their exact floors against independent computations."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.data import synthetic


def test_zipf_floor_and_empirical_entropy():
    v, s = 50, 1.1
    w = np.array([1.0 / (k**s) for k in range(1, v + 1)])
    p = w / w.sum()
    exact = float(-(p * np.log(p)).sum())
    from lossdoc import floors

    assert math.isclose(floors.zipf_entropy(v, s), exact, rel_tol=1e-12)
    rows = synthetic.sample_zipf(v, s, 2000, 100, seed=3, stream=1)
    assert rows.shape == (2000, 100) and rows.min() >= 0 and rows.max() < v
    freq = np.bincount(rows.ravel(), minlength=v) / rows.size
    assert np.abs(freq - p).max() < 0.004  # 200k draws: id k-1 has probability p_k
    emp = float(-(freq[freq > 0] * np.log(freq[freq > 0])).sum())
    assert abs(emp - exact) < 0.01
    # seeded: same seed and stream, same rows; another stream, other rows
    assert np.array_equal(rows, synthetic.sample_zipf(v, s, 2000, 100, seed=3, stream=1))
    assert not np.array_equal(rows[:10], synthetic.sample_zipf(v, s, 10, 100, seed=3, stream=2))


def eig_stationary(p: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eig(p.T)
    i = int(np.argmin(np.abs(vals - 1.0)))
    pi = np.real(vecs[:, i])
    return pi / pi.sum()


def test_markov_chain_structure_and_exact_entropy_rate():
    v, k = 40, 3
    chain = synthetic.random_markov_chain(v, k, seed=11)
    p = chain.dense()
    assert np.allclose(p.sum(axis=1), 1.0)
    assert all(np.count_nonzero(p[i]) == k for i in range(v))  # k distinct successors per token
    assert all(p[i, (i + 1) % v] > 0 for i in range(v))  # the cycle that keeps the chain irreducible
    pi = eig_stationary(p)
    assert pi.min() > 0
    assert np.allclose(chain.stationary(), pi, atol=1e-10)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_rows = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    exact = float(pi @ h_rows)
    assert math.isclose(chain.entropy_rate(), exact, rel_tol=1e-9)
    assert 0 < exact < math.log(k)


def test_markov_samples_follow_the_chain_and_converge_to_the_floor():
    v, k = 30, 4
    chain = synthetic.random_markov_chain(v, k, seed=5)
    p = chain.dense()
    rows = synthetic.sample_markov(chain, 4000, 64, seed=5, stream=1)
    prev, nxt = rows[:, :-1].ravel(), rows[:, 1:].ravel()
    assert np.all(p[prev, nxt] > 0)  # every step is a transition of the chain
    # empirical conditional entropy of the 252k transitions, against the exact rate
    pair = np.zeros((v, v))
    np.add.at(pair, (prev, nxt), 1)
    ctx = pair.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        emp = float(-np.nansum(pair / pair.sum() * np.log(pair / ctx)))
    assert abs(emp - chain.entropy_rate()) < 0.01
    # rows start in the stationary distribution
    first = np.bincount(rows[:, 0], minlength=v) / rows.shape[0]
    assert np.abs(first - eig_stationary(p)).max() < 0.03
    # the expected model loss at the floor: mean -ln P(next | prev) over the sample
    nll = float(-np.log(p[prev, nxt]).mean())
    assert abs(nll - chain.entropy_rate()) < 0.01


def test_markov_chain_is_seeded():
    a = synthetic.random_markov_chain(20, 3, seed=1)
    b = synthetic.random_markov_chain(20, 3, seed=1)
    c = synthetic.random_markov_chain(20, 3, seed=2)
    assert np.array_equal(a.dense(), b.dense()) and not np.array_equal(a.dense(), c.dense())


def test_validation_sample_floor_is_the_true_models_loss_on_those_rows():
    v, k = 24, 3
    train, val, floor, settings = synthetic.synthetic_rows("markov", v, 50, 300, 32, seed=9, markov_successors=k)
    p = synthetic.random_markov_chain(v, k, seed=9).dense()
    # the true model's loss, position by position, computed with plain loops
    losses = [-math.log(p[row[t - 1], row[t]]) for row in val.tolist() for t in range(1, 32)]
    mean = sum(losses) / len(losses)
    sd = math.sqrt(sum((x - mean) ** 2 for x in losses) / (len(losses) - 1))
    assert math.isclose(settings["val_floor_sample"], mean, rel_tol=1e-9)
    assert math.isclose(settings["val_floor_se"], sd / math.sqrt(len(losses)), rel_tol=1e-9)
    assert abs(mean - floor) < 5 * settings["val_floor_se"]  # the sample floor scatters around the exact one
    _, zval, zfloor, z = synthetic.synthetic_rows("zipf", 100, 10, 400, 32, seed=1, zipf_exponent=1.0)
    w = 1 / np.arange(1, 101)
    zl = -np.log((w / w.sum())[zval[:, 1:]])
    assert math.isclose(z["val_floor_sample"], float(zl.mean()), rel_tol=1e-9)
    assert abs(z["val_floor_sample"] - zfloor) < 5 * z["val_floor_se"]
