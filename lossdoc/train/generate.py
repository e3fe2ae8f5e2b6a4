"""Sampling text from a trained checkpoint with the run's own tokenizer.

``generate(checkpoint, prompt)`` loads a lossdoc checkpoint (weights_only),
rebuilds the model from the config stored in it, encodes the prompt with the
tokenizer stored in it, and samples ``max_new_tokens`` tokens one at a time:
logits of the last position / temperature, optionally cut to the top k, then a
draw from the softmax with a seeded generator (temperature 0: the most likely
token). The context is the last seq_len tokens, the model's window. Runs on
synthetic data have no tokenizer: their prompt and output are token ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from lossdoc.data.tokenizers import Tokenizer, tokenizer_from_dict
from lossdoc.errors import LossdocError
from lossdoc.train.checkpoint import load_checkpoint
from lossdoc.train.model import ModelConfig, TransformerLM

DEFAULT_PROMPT = "The"


@dataclass
class Generation:
    prompt: str
    prompt_ids: list[int]
    new_ids: list[int]
    text: str  # the decoded prompt + continuation (ids joined by spaces when there is no tokenizer)
    tokenizer: str | None
    checkpoint: Path
    data_kind: str = ""
    extra: dict = field(default_factory=dict)


def resolve_checkpoint(path: str | Path) -> Path:
    """A .pt file as given, or a run folder's checkpoints/best.pt (else last.pt)."""
    p = Path(path)
    if p.is_dir():
        for name in ("best.pt", "last.pt"):
            if (p / "checkpoints" / name).is_file():
                return p / "checkpoints" / name
        raise LossdocError("error.generate_no_checkpoint", path=str(p))
    return p


def load_model(ckpt: dict) -> TransformerLM:
    cfg = ckpt.get("config") or {}
    try:
        mcfg = ModelConfig(
            vocab_size=int(cfg["vocab_size"]),
            max_len=int(cfg["seq_len"]),
            d_model=int(cfg["d_model"]),
            num_layers=int(cfg["num_layers"]),
            num_heads=int(cfg["num_heads"]),
            d_ff=int(cfg["d_ff"]),
            dropout=0.0,
            causal=cfg.get("inject") != "no-causal-mask",
        )
        model = TransformerLM(mcfg)
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise LossdocError("error.checkpoint_bad", path="checkpoint", detail=(str(exc).splitlines() or ["bad config"])[0][:200]) from None
    model.eval()
    return model


def start_ids(tok: Tokenizer) -> list[int]:
    """What an empty prompt starts from: a line end."""
    ids = tok.encode("\n")
    return [int(ids[-1])] if ids.size else [0]


@torch.no_grad()
def sample_ids(
    model: TransformerLM, prompt_ids: list[int], max_new_tokens: int, *, temperature: float = 1.0, top_k: int | None = None, seed: int = 0
) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)
    window = model.cfg.max_len
    new: list[int] = []
    for _ in range(max_new_tokens):
        ctx = torch.tensor([ids[-window:]], dtype=torch.long)
        logits = model(ctx)[0, -1].float()
        if temperature <= 0:
            nxt = int(torch.argmax(logits))
        else:
            logits = logits / temperature
            if top_k is not None and 0 < top_k < logits.numel():
                kth = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = int(torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=g))
        ids.append(nxt)
        new.append(nxt)
    return new


def generate(
    checkpoint: str | Path, prompt: str | None = None, *, max_new_tokens: int = 200, temperature: float = 1.0, top_k: int | None = None, seed: int = 0
) -> Generation:
    path = resolve_checkpoint(checkpoint)
    ckpt = load_checkpoint(path)
    model = load_model(ckpt)
    vocab = model.cfg.vocab_size
    tok_dict = ckpt.get("tokenizer")
    kind = str(((ckpt.get("header") or {}).get("data") or {}).get("kind", ""))
    if tok_dict:
        tok = tokenizer_from_dict(tok_dict)
        text_prompt = DEFAULT_PROMPT if prompt is None else prompt
        prompt_ids = [int(i) for i in tok.encode(text_prompt)] if text_prompt else []
        if tok.name == "word" and prompt_ids and not text_prompt.endswith("\n"):
            prompt_ids = prompt_ids[:-1]  # continue the prompt's line rather than start a new one
        if not prompt_ids:
            prompt_ids = start_ids(tok)
        new = sample_ids(model, prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, seed=seed)
        text = tok.decode(prompt_ids + new)
        return Generation(text_prompt, prompt_ids, new, text, tok.name, path, kind)
    text_prompt = "" if prompt is None else prompt
    try:
        prompt_ids = [int(x) for x in text_prompt.split()]
    except ValueError:
        prompt_ids = [-1]
    if any(not 0 <= i < vocab for i in prompt_ids):
        raise LossdocError("error.generate_id_prompt", kind=kind or "token", top=vocab - 1, prompt=text_prompt)
    if not prompt_ids:
        prompt_ids = [0]
    new = sample_ids(model, prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, seed=seed)
    return Generation(text_prompt, prompt_ids, new, " ".join(str(i) for i in prompt_ids + new), None, path, kind)
