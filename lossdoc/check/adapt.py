"""From whatever a model returns to logits (B, T, V).

Accepted outputs: a tensor; a tuple or list whose first item is the logits
(nanoGPT's ``(logits, loss)``); a dict or ``ModelOutput`` with ``logits``; an
object with a ``.logits`` attribute. A model that returns only the last
position (B, 1, V) for T > 1, as nanoGPT's does without targets, is recognised:
when its ``forward`` takes ``targets`` (or ``labels``), it is called with them
to get every position, and the loss it computes is ignored; otherwise it is
refused with one line, since every check needs the logits of every position.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from lossdoc.check.target import exc_line, user_error
from lossdoc.errors import LossdocError

TARGET_PARAMS = ("targets", "labels", "target", "y")


def _extract(out: Any) -> tuple[torch.Tensor | None, str]:
    """(logits tensor or None, how it was found)."""
    if isinstance(out, torch.Tensor):
        return out, "tensor"
    if isinstance(out, Mapping) and isinstance(out.get("logits"), torch.Tensor):
        return out["logits"], "dict['logits']" if type(out) is dict else f"{type(out).__name__}.logits"
    if isinstance(getattr(out, "logits", None), torch.Tensor):
        return out.logits, f"{type(out).__name__}.logits"
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0], f"{type(out).__name__}[0]"
    return None, type(out).__name__


def _target_param(model: nn.Module) -> str | None:
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return None
    return next((p for p in TARGET_PARAMS if p in params), None)


class Forward:
    """Calls the model on ids (B, T) and returns float logits (B, T, V), whatever its output looks like."""

    def __init__(self, model: nn.Module, seq_len: int, vocab_size: int | None, device: torch.device) -> None:
        self.model = model
        self.device = device
        self.target_kw: str | None = None
        self.last_only = False
        probe = torch.zeros(2, seq_len, dtype=torch.long, device=device)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = self._call(probe, None)
        finally:
            model.train(was_training)
        logits, self.output_kind = _extract(out)
        if logits is None:
            raise LossdocError("error.check_output_type", type=self.output_kind)
        shape = tuple(logits.shape)
        if logits.ndim == 2 and shape[0] == 2 and seq_len > 1:
            logits = logits[:, None, :]  # (B, V): the last position, squeezed
        if logits.ndim != 3 or logits.shape[0] != 2 or not logits.is_floating_point():
            raise LossdocError("error.check_output_shape", shape=str(shape), b=2, t=seq_len)
        if logits.shape[1] == 1 and seq_len > 1:
            self.last_only = True
            self.target_kw = _target_param(model)
            if self.target_kw is None:
                raise LossdocError("error.check_last_only", shape=str(shape), t=seq_len)
            model.eval()
            try:
                with torch.no_grad():
                    out = self._call(probe, self.target_kw)
            finally:
                model.train(was_training)
            logits, self.output_kind = _extract(out)
            if logits is None or logits.ndim != 3 or logits.shape[:2] != (2, seq_len):
                raise LossdocError("error.check_last_only", shape=str(shape), t=seq_len)
        elif logits.shape[1] != seq_len:
            raise LossdocError("error.check_output_shape", shape=str(shape), b=2, t=seq_len)
        v = int(logits.shape[-1])
        if vocab_size is not None and v != vocab_size:
            raise LossdocError("error.check_vocab_mismatch", v=v, given=vocab_size)
        if v < 2:
            raise LossdocError("error.check_output_shape", shape=str(shape), b=2, t=seq_len)
        self.vocab_size = v

    def _call(self, ids: torch.Tensor, target_kw: str | None) -> Any:
        try:
            if target_kw is None:
                return self.model(ids)
            return self.model(ids, **{target_kw: ids})
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise user_error("error.check_forward", exc, b=ids.shape[0], t=ids.shape[1], detail=exc_line(exc)) from None

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) as float32; raises LossdocError when the shape changes."""
        out = self._call(ids, self.target_kw)
        logits, _ = _extract(out)
        if logits is None or tuple(logits.shape) != (ids.shape[0], ids.shape[1], self.vocab_size):
            got = None if logits is None else tuple(logits.shape)
            raise LossdocError("error.check_output_shape", shape=str(got), b=ids.shape[0], t=ids.shape[1])
        return logits.float()
