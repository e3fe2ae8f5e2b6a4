"""The fused LM head and cross-entropy (lossdoc/train/fused_loss.py) gives the plain path's loss and gradients:
exactly in float64 (gradcheck), to rounding in fp32, as autocast's plain path in bf16; it reuses one buffer and
refuses, rather than corrupts, a backward whose buffer a later forward has overwritten. A seeded tiny run keeps
its loss curve within 1e-4 of the plain path. No timing here: speed lives in benchmarks/."""

import pytest
import torch
import torch.nn.functional as F

import lossdoc.train.model as model_module
from lossdoc.train.fused_loss import Workspace, linear_cross_entropy
from lossdoc.train.loop import train
from lossdoc.train.model import ModelConfig, TransformerLM, lm_loss
from tests.conftest import tiny_config
from tests.train.test_speed import assert_close_curves, curve


def inputs(n=24, c=8, v=50, dtype=torch.float32, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    h = (torch.randn(n, c, generator=g, dtype=dtype) * scale).requires_grad_()
    w = (torch.randn(v, c, generator=g, dtype=dtype) * 0.3).requires_grad_()
    b = (torch.randn(v, generator=g, dtype=dtype) * 0.3).requires_grad_()
    t = torch.randint(0, v, (n,), generator=g)
    return h, w, b, t


def plain(h, w, b, t):
    return F.cross_entropy(F.linear(h, w, b).float(), t)


def loss_and_grads(fn, h, w, b, t, g=None):
    loss = fn(h, w, b, t)
    return (loss.detach(), *torch.autograd.grad(loss, [h, w, b], grad_outputs=g))


def test_gradients_are_exact_in_float64():
    h, w, b, t = inputs(dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda h, w, b: linear_cross_entropy(h, w, b, t), (h, w, b))
    assert torch.autograd.gradcheck(lambda h, w: linear_cross_entropy(h, w, None, t), (h, w))


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: logits of a broken run, losses in the thousands
def test_fp32_matches_the_plain_path(scale):
    h, w, b, t = inputs(n=63, c=16, v=997, scale=scale)
    ours = loss_and_grads(lambda *a: linear_cross_entropy(*a, Workspace()), h, w, b, t)
    ref = loss_and_grads(plain, h, w, b, t)
    assert torch.isfinite(ours[0]) and (scale == 1.0 or ours[0] > 100)
    for a, r in zip(ours, ref):
        assert a.dtype == r.dtype and a.shape == r.shape
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("low", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("g", [None, 1024.0])  # 1024: a loss scaled as a GradScaler does
def test_autocast_does_what_autocast_does_to_the_plain_path(low, g):
    h, w, b, t = inputs(n=63, c=32, v=997)
    g = None if g is None else torch.tensor(g)
    with torch.autocast("cpu", dtype=low):
        ours = loss_and_grads(lambda *a: linear_cross_entropy(*a, Workspace()), h, w, b, t, g)
        ref = loss_and_grads(plain, h, w, b, t, g)
    fp32 = loss_and_grads(plain, h, w, b, t, g)
    for a, r in zip(ours, ref):
        assert a.dtype == torch.float32 and a.shape == r.shape
        # the same steps (scaled in fp32, rounded, the low-precision matmuls); the fp32 scaling is done in another
        # order, so a rare logit gradient rounds one low-precision step away: under 1% of the results move, and
        # by about a step of the largest
        diff = (a - r).abs()
        assert (diff <= 2 * torch.finfo(low).eps * r.abs().max() + 1e-6).all()
        assert (diff > 1e-5 * r.abs() + 1e-6).float().mean() < 1e-2
    # and it is a low-precision computation: its distance from fp32 is the plain low-precision path's, not zero
    d_ours, d_ref = (ours[2] - fp32[2]).abs().max(), (ref[2] - fp32[2]).abs().max()
    assert d_ours > 0 and d_ref / 3 < d_ours < 3 * d_ref


def test_float64_under_autocast_stays_float64_as_autocast_leaves_it():
    h, w, b, t = inputs(dtype=torch.float64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = loss_and_grads(lambda *a: linear_cross_entropy(*a, Workspace()), h, w, b, t)
        ref = loss_and_grads(lambda h, w, b, t: F.cross_entropy(F.linear(h, w, b), t), h, w, b, t)
    for a, r in zip(ours, ref):
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-14)


def test_autocast_state_on_a_torch_without_the_per_device_calls(monkeypatch):
    from lossdoc.train import fused_loss

    with torch.autocast("cpu", dtype=torch.bfloat16):
        now = fused_loss.autocast_state("cpu")
        monkeypatch.delattr(torch, "get_autocast_dtype")  # as torch 2.2 and 2.3
        assert fused_loss.autocast_state("cpu") == now == (True, torch.bfloat16)
    assert fused_loss.autocast_state("cpu")[0] is False


def test_retain_graph_twice_gives_the_same_gradients_in_fp32_and_refuses_under_autocast():
    h, w, b, t = inputs()
    loss = linear_cross_entropy(h, w, b, t, Workspace())
    first = torch.autograd.grad(loss, [h, w, b], retain_graph=True)
    for a, r in zip(first, torch.autograd.grad(loss, [h, w, b])):
        torch.testing.assert_close(a, r, rtol=0, atol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(h, w, b, t, Workspace())
    torch.autograd.grad(loss, [h, w, b], retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(loss, [h, w, b])


def test_a_buffer_made_in_inference_mode_is_not_reused_for_training():
    h, w, b, t = inputs()
    ws = Workspace()
    with torch.inference_mode():
        linear_cross_entropy(h, w, b, t, ws)
    ours = loss_and_grads(lambda *a: linear_cross_entropy(*a, ws), h, w, b, t)
    for a, r in zip(ours, loss_and_grads(plain, h, w, b, t)):
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-6)


def test_without_gradients_only_the_loss_is_computed():
    h, w, b, t = inputs()
    ws = Workspace()
    with torch.no_grad():
        loss = linear_cross_entropy(h, w, b, t, ws)
    assert not loss.requires_grad
    torch.testing.assert_close(loss, plain(h, w, b, t).detach())
    # the buffer holds exp(logits - max), each row summing to at least 1; the gradient P (rows summing to 0) was not made
    rows = ws.take("acc", *h.shape[:1], w.shape[0], torch.float32, h.device).sum(dim=1)
    assert (rows >= 1).all()
    linear_cross_entropy(h, w, b, t, ws)
    torch.testing.assert_close(
        ws.take("acc", *h.shape[:1], w.shape[0], torch.float32, h.device).sum(dim=1), torch.zeros(h.shape[0]), atol=1e-5, rtol=0
    )


def test_one_buffer_is_reused_from_call_to_call():
    h, w, b, t = inputs(n=40, v=60)
    ws = Workspace()
    linear_cross_entropy(h, w, b, t, ws).backward()
    first = ws.nbytes()
    assert first == 40 * 60 * 4  # one fp32 (N, V) buffer
    ptr = ws.take("acc", 40, 60, torch.float32, h.device).data_ptr()
    linear_cross_entropy(h[:30], w, b, t[:30], ws).backward()  # a smaller batch uses the same buffer
    assert ws.nbytes() == first and ws.take("acc", 30, 60, torch.float32, h.device).data_ptr() == ptr
    h2, w2, b2, t2 = inputs(n=50, v=60, seed=3)  # a larger one grows it, and is right
    ours = loss_and_grads(lambda *a: linear_cross_entropy(*a, ws), h2, w2, b2, t2)
    assert ws.nbytes() == 50 * 60 * 4
    for a, r in zip(ours, loss_and_grads(plain, h2, w2, b2, t2)):
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-6)


def test_a_backward_whose_buffer_was_overwritten_raises_instead_of_lying():
    h, w, b, t = inputs()
    ws = Workspace()
    first = linear_cross_entropy(h, w, b, t, ws)
    linear_cross_entropy(h, w, b, t.flip(0), ws)  # overwrites the shared buffer first's backward needs
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        first.backward()


def test_bad_shapes_are_refused():
    h, w, b, t = inputs()
    with pytest.raises(ValueError, match=r"h must be \(N, C\)"):
        linear_cross_entropy(h, w, b, t[:-1])


def test_model_forward_with_targets_is_the_mean_loss_of_its_logits():
    torch.manual_seed(0)
    m = TransformerLM(ModelConfig(vocab_size=97, max_len=16, d_model=32, num_heads=2, d_ff=64, dropout=0.0))
    x = torch.randint(0, 97, (3, 16), generator=torch.Generator().manual_seed(1))
    fused = m(x[:, :-1], x[:, 1:])
    g_fused = torch.autograd.grad(fused, list(m.parameters()))
    ref = lm_loss(m(x[:, :-1]), x[:, 1:])
    g_ref = torch.autograd.grad(ref, list(m.parameters()))
    torch.testing.assert_close(fused, ref)
    for a, r in zip(g_fused, g_ref):
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("use_amp", [False, True])
def test_a_seeded_tiny_run_keeps_the_plain_paths_loss_curve(tmp_path, monkeypatch, use_amp):
    train(tiny_config(tmp_path / "fused", dropout=0.1, use_amp=use_amp))
    calls = []

    def plain_head(h, w, b, t, workspace=None):
        calls.append(1)
        return plain(h, w, b, t)

    monkeypatch.setattr(model_module, "linear_cross_entropy", plain_head)
    train(tiny_config(tmp_path / "plain", dropout=0.1, use_amp=use_amp))
    assert calls  # the loop went through the model's loss, so the comparison compares something
    assert_close_curves(curve(tmp_path / "fused"), curve(tmp_path / "plain"))
