"""The LM head and its cross-entropy in one autograd step, with one (N, V) buffer kept from step to step.

The plain way, ``F.cross_entropy(F.linear(h, W, b), t)``, makes four (N, V) tensors in each training step:
the logits, the log-probabilities, the gradient of the log-probabilities (zeros with -1/N at the targets)
and the gradient of the logits. At the seed's size (N = 16 x 63 = 1008 positions, V = 10000) each is 40 MB;
on a CPU every fresh one is page-faulted in (about 14 ms for 40 MB here) as well as written and read.
``linear_cross_entropy`` gives the same loss and gradients with one (N, V) buffer that lives in a
``Workspace`` and is reused by every step (docs/performance.md has the measurements):

    logits = h @ W.T + b                        (N, V), written into the workspace
    m      = max_j logits                       (N, 1)
    e      = exp(logits - m)                    (N, V), in place
    s      = sum_j e                            (N, 1)
    loss   = mean_i(m + ln s - logits[target])  the mean cross-entropy, as F.cross_entropy's
  and, only when a gradient is wanted:
    P      = e / s - onehot(target)             (N, V), in place: N x dloss/dlogits
  backward, for an upstream gradient g:
    dlogits = P * g / N;  dh = dlogits @ W;  dW = dlogits.T @ h;  db = sum_i dlogits

Under autocast (bf16 on a CPU) it does what autocast does to the plain path: the matmuls in the low
precision (so the logits are rounded to it), the softmax in fp32, the logits' gradient scaled and then cast to
the low precision before the two backward matmuls, and gradients returned in the parameters' dtype. It then
keeps a second, low-precision (N, V) buffer for the logits and their gradient (60 MB in all at the seed's size).

What it does not do, and says so by raising rather than by a wrong gradient (autograd's version counter):
the buffer is reused, so a second forward before the first one's backward (two losses summed into one
backward, say) overwrites what that backward needs; under autocast the backward scales its saved P in place,
so a second backward through the same graph (``retain_graph``) is refused too. There is no ``ignore_index``
(every target must be a class index) and no double backward. Only CPU tensors use the workspace; on other
devices each call allocates (their caching allocators make that cheap), and the training loop uses this
function on a CPU only (TransformerLM.forward).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

_LOW_PRECISION = (torch.bfloat16, torch.float16)


class Workspace:
    """Buffers reused by ``linear_cross_entropy`` from call to call, one per slot, dtype and device (CPU only)."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}

    def take(self, slot: str, rows: int, cols: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """An uninitialised (rows, cols) tensor: a view of this slot's buffer, grown when too small."""
        if device.type != "cpu":
            return torch.empty(rows, cols, dtype=dtype, device=device)
        key = (slot, dtype, device)
        buffer = self._buffers.get(key)
        stale = buffer is not None and buffer.is_inference() and not torch.is_inference_mode_enabled()  # unusable outside it
        if buffer is None or stale or buffer.numel() < rows * cols:
            buffer = self._buffers[key] = torch.empty(rows * cols, dtype=dtype, device=device)
        return buffer[: rows * cols].view(rows, cols)

    def nbytes(self) -> int:
        return sum(b.numel() * b.element_size() for b in self._buffers.values())


def compute_dtype(t: torch.Tensor) -> torch.dtype:
    """The dtype a matmul of ``t`` runs in here: autocast's where it is on for t's device (autocast leaves
    float64 alone), else t's own."""
    if t.dtype == torch.float64:
        return t.dtype
    enabled, dtype = autocast_state(t.device.type)
    return dtype if enabled else t.dtype


def autocast_state(device: str) -> tuple[bool, torch.dtype]:
    """(autocast on?, its dtype) for a device type, on every torch from 2.2 (the per-device calls came in 2.4)."""
    if hasattr(torch, "get_autocast_dtype"):
        return torch.is_autocast_enabled(device), torch.get_autocast_dtype(device)
    if device == "cpu":
        return torch.is_autocast_cpu_enabled(), torch.get_autocast_cpu_dtype()
    return torch.is_autocast_enabled(), torch.get_autocast_gpu_dtype()


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, weight, bias, targets, workspace, want_grad):
        n, v = h.shape[0], weight.shape[0]
        low = compute_dtype(h)
        acc = torch.float32 if low in _LOW_PRECISION else low  # the softmax's dtype
        with torch.autocast(h.device.type, enabled=False):
            h_c, w_c = h.to(low), weight.to(low)
            b_c = bias.to(low) if bias is not None else None
            e = workspace.take("acc", n, v, acc, h.device)  # (N, V)
            # the logits: into e itself, or in the low precision into its own buffer (rounded there, as autocast's)
            logits = _linear_into(e if low == acc else workspace.take("low", n, v, low, h.device), h_c, w_c, b_c)
            if low != acc:
                e.copy_(logits)  # (a copy, then sub_: faster than one mixed-dtype sub, which is not vectorised)
            m = e.amax(dim=1, keepdim=True)  # (N, 1)
            picked = e.gather(1, targets[:, None])  # (N, 1)
            e.sub_(m).exp_()  # (N, V): exp(logits - m), in place
            s = e.sum(dim=1, keepdim=True)  # (N, 1)
            loss = (m + s.log() - picked).mean()
            if want_grad:  # (needs_input_grad is True under no_grad too: the caller knows the grad mode)
                p = e.div_(s)  # softmax, in place
                p[torch.arange(n, device=h.device), targets] -= 1.0  # N x dloss/dlogits
                ctx.save_for_backward(p, h_c, w_c)
                ctx.dtypes = (h.dtype, weight.dtype, bias.dtype if bias is not None else None)
                ctx.workspace = workspace
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        p, h_c, w_c = ctx.saved_tensors
        h_dtype, w_dtype, b_dtype = ctx.dtypes
        scale = grad / p.shape[0]  # () tensor: no host sync
        if p.dtype == h_c.dtype:  # no autocast: scale the small results rather than P
            d_h = (p @ w_c).mul_(scale)
            d_w = (p.t() @ h_c).mul_(scale)
            d_b = p.sum(dim=0).mul_(scale) if b_dtype is not None else None
        else:  # as autocast's plain path: dlogits = P * g / N in fp32, cast to the matmuls' precision
            d_logits = ctx.workspace.take("low", *p.shape, h_c.dtype, p.device).copy_(p.mul_(scale))  # scaled, then rounded
            d_h = d_logits @ w_c
            d_w = d_logits.t() @ h_c
            d_b = d_logits.sum(dim=0) if b_dtype is not None else None
        d_b = d_b.to(b_dtype) if d_b is not None else None
        return d_h.to(h_dtype), d_w.to(w_dtype), d_b, None, None, None


def _linear_into(out: torch.Tensor, h: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """out = h @ w.T (+ b), written into ``out``."""
    if b is None:
        return torch.mm(h, w.t(), out=out)
    return torch.addmm(b, h, w.t(), out=out)


def linear_cross_entropy(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, targets: torch.Tensor, workspace: Workspace | None = None
) -> torch.Tensor:
    """Mean cross-entropy of ``softmax(h @ weight.T + bias)`` against ``targets``: h (N, C), weight (V, C),
    bias (V,) or None, targets (N,) of class indices in [0, V). Equal to ``F.cross_entropy(F.linear(h, weight,
    bias), targets)`` (within rounding), with its gradients, where every target is a class (no ignore_index);
    its buffers come from ``workspace`` when given (see the module's docstring for what it refuses)."""
    if h.dim() != 2 or targets.shape != h.shape[:1]:
        raise ValueError(f"h must be (N, C) and targets (N,): got {tuple(h.shape)} and {tuple(targets.shape)}")
    want_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (h, weight, bias))
    return _LinearCrossEntropy.apply(h, weight, bias, targets, workspace if workspace is not None else Workspace(), want_grad)
