import math

import pytest
import torch

from lossdoc import floors
from lossdoc.train.model import ModelConfig, TransformerLM, lm_loss


def small(**kw):
    cfg = dict(vocab_size=97, max_len=16, d_model=32, num_layers=2, num_heads=4, d_ff=64, dropout=0.0)
    cfg.update(kw)
    torch.manual_seed(0)
    return TransformerLM(ModelConfig(**cfg)).eval()


def test_shapes():
    m = small()
    logits = m(torch.randint(0, 97, (3, 10)))
    assert logits.shape == (3, 10, 97)


@pytest.mark.parametrize("t", [0, 5, 14])
def test_causality_future_tokens_never_change_the_output_at_t(t):
    m = small()
    x = torch.randint(0, 97, (2, 16), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[:, t + 1 :] = torch.randint(0, 97, (2, 15 - t), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a, b = m(x), m(y)
    assert torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-6)
    if t < 15:
        assert not torch.allclose(a[:, t + 1 :], b[:, t + 1 :], atol=1e-4)


def test_without_causal_mask_the_future_leaks():
    m = small(causal=False)
    x = torch.randint(0, 97, (2, 16), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[:, -1] = (y[:, -1] + 1) % 97
    with torch.no_grad():
        assert not torch.allclose(m(x)[:, 0], m(y)[:, 0], atol=1e-6)


def test_param_count_matches_the_architecture():
    V, L, C, F, N = 97, 16, 32, 64, 2
    m = small()
    per_block = (2 * 2 * C) + (C * 3 * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C)
    expected = V * C + L * C + N * per_block + 2 * C + (C * V + V)
    assert m.num_params() == expected


def test_lm_loss_is_mean_cross_entropy():
    logits = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([[0, 1, 2], [3, 4, 0]])
    logp = logits.log_softmax(-1)
    manual = -sum(logp[b, t, labels[b, t]] for b in range(2) for t in range(3)) / 6
    assert torch.allclose(lm_loss(logits, labels), manual)


def test_initial_loss_matches_the_floor_maths_like_the_seed():
    # PyTorch-default init: logit std sqrt(1/3 + 1/(3C)), so the first loss on
    # random tokens is ln V + s^2/2: the seed's 9.38 for V = 10000.
    V, C = 10000, 256
    torch.manual_seed(0)
    m = TransformerLM(ModelConfig(vocab_size=V, max_len=64, d_model=C, dropout=0.0)).eval()
    x = torch.randint(1, V, (64, 64), generator=torch.Generator().manual_seed(5))  # 4032 tokens: standard error ~0.01
    with torch.no_grad():
        logits = m(x[:, :-1])
        loss = lm_loss(logits, x[:, 1:]).item()
    s = floors.default_init_logit_std(C)
    assert logits.std(dim=-1).mean().item() == pytest.approx(s, rel=0.05)
    assert loss == pytest.approx(floors.expected_init_loss(V, s), abs=0.03)
    assert loss == pytest.approx(9.38, abs=0.03)
    assert math.log(V) < loss
