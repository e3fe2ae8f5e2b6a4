"""A small decoder-only causal Transformer language model, in one file.

Read top-down: TransformerLM -> Block -> CausalSelfAttention and MLP.
Shapes: B batch, T positions (<= max_len), C = d_model, H heads, D = C / H,
V vocabulary. Given targets, forward returns the mean next-token loss instead of
the logits: on a CPU through the fused head of lossdoc/train/fused_loss.py. Parameters keep PyTorch's default initialisation, as the seed's
script does: that is why its first loss is ~9.38 = ln(10000) + 1/6 rather
than ln(10000) (see lossdoc.floors.default_init_logit_std and docs/floors.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lossdoc.train.fused_loss import Workspace, linear_cross_entropy


@dataclass
class ModelConfig:
    vocab_size: int
    max_len: int
    d_model: int = 256
    num_layers: int = 2
    num_heads: int = 4
    d_ff: int = 1024
    dropout: float = 0.1
    causal: bool = True  # False only for the teaching fault --inject no-causal-mask
    init_logit_scale: float = 1.0  # >1 only for the teaching fault --inject large-init-logits


class TransformerLM(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        assert cfg.d_model % cfg.num_heads == 0, "d_model must be divisible by num_heads"
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)
        if cfg.init_logit_scale != 1.0:
            with torch.no_grad():
                self.head.weight.mul_(cfg.init_logit_scale)
                self.head.bias.mul_(cfg.init_logit_scale)
        self.loss_workspace = Workspace()  # the fused head's (B*T, V) buffer, reused by every step (not saved)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Token ids (B, T) -> next-token logits (B, T, V); with targets (B, T), the mean next-token
        cross-entropy (a scalar) instead, which on a CPU never makes the (B, T, V) logits a tensor of their own."""
        B, T = idx.shape
        assert T <= self.cfg.max_len, f"sequence of {T} tokens is longer than max_len={self.cfg.max_len}"
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        x = self.ln_f(x)  # (B, T, C)
        if targets is None:
            return self.head(x)  # (B, T, V)
        assert targets.shape == (B, T), f"targets {tuple(targets.shape)} vs ids {(B, T)}"
        if x.device.type != "cpu" or _compiling():  # measured on a CPU only; compiled, the plain path is traced
            return lm_loss(self.head(x), targets)
        return linear_cross_entropy(x.reshape(B * T, -1), self.head.weight, self.head.bias, targets.reshape(-1), self.loss_workspace)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Block(nn.Module):
    """Pre-LayerNorm residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, C)
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions <= t only."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.num_heads = cfg.num_heads
        self.causal = cfg.causal
        self.dropout = cfg.dropout
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        H = self.num_heads
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))  # 3 x (B, H, T, D)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, dropout_p=self.dropout if self.training else 0.0)  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff)
        self.proj = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, C)
        return self.drop(self.proj(F.gelu(self.fc(x))))


def _compiling() -> bool:
    """Whether torch.compile is tracing this call (torch.compiler.is_compiling came in 2.3; lossdoc allows 2.2)."""
    is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None) or torch._dynamo.is_compiling
    return bool(is_compiling())


def lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over every position: logits (B, T, V), labels (B, T)."""
    assert logits.shape[:2] == labels.shape, f"logits {tuple(logits.shape)} vs labels {tuple(labels.shape)}"
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1))
