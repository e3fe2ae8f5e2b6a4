"""The speed levers of the training loop change no numbers: the fused AdamW and ``--compile`` keep a seeded
tiny run's loss curve within 1e-4 of the plain path, and ``--compile`` without a compiler falls back with one
warning. No timing here: speed lives in benchmarks/ (docs/performance.md)."""

import pytest
import torch

from lossdoc.train import loop
from lossdoc.train.checkpoint import load_checkpoint
from lossdoc.train.loop import compile_unavailable, train
from tests.conftest import read_records, tiny_config


def plain_adamw(model, *, lr, weight_decay):
    """The reference: PyTorch's one-tensor-at-a-time AdamW (neither fused nor foreach)."""
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=False, fused=False)


def curve(run_dir):
    recs = read_records(run_dir)
    batches = [r["loss"] for r in recs if r["type"] == "batch"]
    epochs = [(r["train_loss"], r["val_loss"]) for r in recs if r["type"] == "epoch"]
    return batches, epochs


def assert_close_curves(a, b, tol=1e-4):
    (ba, ea), (bb, eb) = a, b
    assert len(ba) == len(bb) > 0 and len(ea) == len(eb)
    assert max(abs(x - y) for x, y in zip(ba, bb)) <= tol
    assert max(abs(x - y) for pa, pb in zip(ea, eb) for x, y in zip(pa, pb)) <= tol


def fused_adamw_on_cpu() -> bool:
    try:
        torch.optim.AdamW([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 has no fused AdamW for the CPU
        return False
    return True


@pytest.mark.skipif(not fused_adamw_on_cpu(), reason="this torch has no fused AdamW for the CPU")
def test_fused_adamw_is_used_and_keeps_the_loss_curve(tmp_path, monkeypatch):
    train(tiny_config(tmp_path / "fused", dropout=0.1))
    saved = load_checkpoint(tmp_path / "fused" / "checkpoints" / "last.pt")["optimizer"]["param_groups"][0]
    assert saved["fused"] is True  # the loop built the fused kernel, so the comparison below compares something
    monkeypatch.setattr(loop, "build_optimizer", plain_adamw)
    train(tiny_config(tmp_path / "plain", dropout=0.1))
    saved = load_checkpoint(tmp_path / "plain" / "checkpoints" / "last.pt")["optimizer"]["param_groups"][0]
    assert not saved["fused"] and not saved["foreach"]
    fused, plain = curve(tmp_path / "fused"), curve(tmp_path / "plain")
    assert_close_curves(fused, plain)


def test_build_optimizer_falls_back_where_no_fused_kernel_exists(monkeypatch):
    real = torch.optim.AdamW

    def no_fused(params, **kw):
        if kw.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, "AdamW", no_fused)
    opt = loop.build_optimizer(torch.nn.Linear(2, 2), lr=1e-3, weight_decay=0.01)
    assert isinstance(opt, real) and not opt.defaults["fused"]
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["weight_decay"] == 0.01


def test_compile_without_a_compiler_warns_once_and_trains_as_usual(tmp_path, monkeypatch):
    train(tiny_config(tmp_path / "eager", dropout=0.1))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv("CXX", raising=False)
    assert compile_unavailable(torch.device("cpu")) == "no-cxx"
    res = train(tiny_config(tmp_path / "nocc", dropout=0.1, compile=True))
    assert res.status == "completed"
    events = [r for r in read_records(tmp_path / "nocc") if r["type"] == "event"]
    assert [e["kind"] for e in events] == ["compile_unavailable"]
    assert events[0]["reason"] == "no-cxx" and "C++ compiler" in events[0]["message"]
    assert curve(tmp_path / "nocc") == curve(tmp_path / "eager")  # the eager path, exactly


def test_compile_warning_is_translated():
    from lossdoc.i18n import t

    for lang in ("en", "zh"):
        for code in loop.COMPILE_UNAVAILABLE:
            text = t(f"train.event.compile_unavailable.{code}", lang)
            assert "--compile" in text and text != f"train.event.compile_unavailable.{code}"


@pytest.mark.slow
@pytest.mark.skipif(compile_unavailable(torch.device("cpu")) is not None, reason="no compiler for torch.compile here")
def test_compiled_run_keeps_the_loss_curve(tmp_path):
    train(tiny_config(tmp_path / "eager", dropout=0.1, epochs=1))
    res = train(tiny_config(tmp_path / "compiled", dropout=0.1, epochs=1, compile=True))
    assert res.status == "completed"
    assert not [r for r in read_records(tmp_path / "compiled") if r["type"] == "event"]
    assert_close_curves(curve(tmp_path / "compiled"), curve(tmp_path / "eager"))
