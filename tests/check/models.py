"""Tiny models for the check tests, written as users write them: each factory returns an nn.Module.

`lossdoc check tests/check/models.py:NAME` imports this file, as it would a user's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lossdoc.train.model import ModelConfig, TransformerLM

V, T, C = 64, 32, 32


def _cfg(**kw) -> ModelConfig:
    return ModelConfig(**{"vocab_size": V, "max_len": T, "d_model": C, "num_layers": 1, "num_heads": 2, "d_ff": 64, "dropout": 0.1, **kw})


def lossdoc_model() -> nn.Module:
    """lossdoc's own model, healthy, with dropout 0.1."""
    return TransformerLM(_cfg())


def no_causal_mask() -> nn.Module:
    return TransformerLM(_cfg(causal=False, dropout=0.0))


def large_init_logits() -> nn.Module:
    return TransformerLM(_cfg(init_logit_scale=30.0, dropout=0.0))  # the scale of --inject large-init-logits


class Detached(nn.Module):
    """A causal model whose MLP output is detached before it joins the residual stream: the MLP never learns."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, C)
        self.pos = nn.Embedding(T, C)
        self.qkv = nn.Linear(C, 3 * C)
        self.mlp = nn.Sequential(nn.Linear(C, 64), nn.GELU(), nn.Linear(64, C))
        self.ln = nn.LayerNorm(C)
        self.head = nn.Linear(C, V)

    def forward(self, idx):
        x = self.emb(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        q, k, v = self.qkv(x).split(C, dim=-1)
        x = x + F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.mlp(x).detach()  # the bug
        return self.head(self.ln(x))


def detached() -> nn.Module:
    return Detached()


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        B, T_, C_ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C_, dim=2)
        q, k, v = (t.view(B, T_, self.n_head, C_ // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(B, T_, C_)
        x = x + self.c_proj(y)
        return x + self.mlp(self.ln_2(x))


class NanoGPT(nn.Module):
    """nanoGPT's interface: forward(idx, targets=None) -> (logits, loss); without targets, only the last position."""

    def __init__(self, block_size: int = T, vocab_size: int = V, n_embd: int = C, n_head: int = 2) -> None:
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                h=nn.ModuleList([Block(n_embd, n_head)]),
                ln_f=nn.LayerNorm(n_embd),
            )
        )
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT does
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=0.02)
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2))

    def forward(self, idx, targets=None):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])  # inference-time optimisation: the last position only
            loss = None
        return logits, loss


def nanogpt() -> nn.Module:
    return NanoGPT()


class LastOnly(nn.Module):
    """Returns the last position only and takes no targets: nothing to call it with."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = TransformerLM(_cfg(dropout=0.0))

    def forward(self, idx):
        return self.inner(idx)[:, -1:, :]


def last_only() -> nn.Module:
    return LastOnly()


class IgnoresInput(nn.Module):
    """Forgets the token embedding: the prediction depends on the position only."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, C)
        self.pos = nn.Embedding(T, C)
        self.head = nn.Linear(C, V)

    def forward(self, idx):
        return self.head(self.pos(torch.arange(idx.shape[1], device=idx.device)).expand(idx.shape[0], -1, -1) + 0 * self.tok(idx))


def ignores_input() -> nn.Module:
    return IgnoresInput()


class AlwaysDropout(nn.Module):
    """F.dropout without training=self.training: dropout stays on in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = TransformerLM(_cfg(dropout=0.0))

    def forward(self, idx):
        return F.dropout(self.inner(idx), p=0.1)


def always_dropout() -> nn.Module:
    return AlwaysDropout()


def raises() -> nn.Module:
    raise ValueError("no such layer size: 7")


def not_a_module():
    return {"weights": 1}


class WrongShape(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(1, V)

    def forward(self, idx):
        return self.lin(idx[..., None].float()).transpose(1, 2)  # (B, V, T): the classic transposed output


def wrong_shape() -> nn.Module:
    return WrongShape()


class NeedsMask(nn.Module):
    """forward needs a second input that check cannot invent."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = TransformerLM(_cfg(dropout=0.0))

    def forward(self, idx, mask):
        return self.inner(idx) * mask[..., None]


def needs_mask() -> nn.Module:
    return NeedsMask()


class TrainNeedsLabels(nn.Module):
    """Runs on ids alone in eval mode, but insists on labels in train mode."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = TransformerLM(_cfg(dropout=0.0))

    def forward(self, idx, labels=None):
        if self.training and labels is None:
            raise ValueError("labels are required in training mode")
        return self.inner(idx)


def train_needs_labels() -> nn.Module:
    return TrainNeedsLabels()
