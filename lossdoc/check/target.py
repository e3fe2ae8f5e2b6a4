"""What `lossdoc check TARGET` checks: a model loaded from one of three kinds of target.

- ``path/to/file.py:factory``: the file is imported (the user's code runs in this
  process) and ``factory()`` must return an ``nn.Module`` mapping ids (B, T) to logits.
- ``lossdoc:RUN_OR_CHECKPOINT``: lossdoc's own model, rebuilt from a run folder, a
  checkpoint (.pt, loaded with weights_only=True) or a config .yaml, injected fault included.
- ``hf:PATH``: a local Hugging Face causal LM folder, through ``transformers``.

Every failure to load is a LossdocError (one line, exit 2); the user's own
traceback rides along as ``user_traceback`` for ``--debug``.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lossdoc.errors import LossdocError

# attributes where models keep their context length, most specific first
_MAX_POS_ATTRS = ("max_len", "block_size", "n_positions", "max_position_embeddings", "n_ctx", "seq_len", "max_seq_len")


@dataclass
class Target:
    spec: str  # what the user typed
    kind: str  # file | lossdoc | hf
    model: nn.Module
    vocab_size: int | None = None  # from the model's config, when it carries one
    max_positions: int | None = None
    trained: bool = False  # weights are trained (a checkpoint's), not an initialisation
    labels: str | None = None  # the label convention of the target's own training code, when known (a lossdoc run's)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (message key, args)


def user_error(key: str, exc: BaseException | None = None, **args: Any) -> LossdocError:
    """A LossdocError that keeps the user's traceback for --debug."""
    err = LossdocError(key, **args)
    if exc is not None:
        tb = exc.__traceback__
        here = Path(__file__).resolve().parent
        while tb is not None and tb.tb_next is not None and Path(tb.tb_frame.f_code.co_filename).resolve().parent == here:
            tb = tb.tb_next  # start at the user's frames, not lossdoc's
        err.user_traceback = "".join(traceback.format_exception(type(exc), exc, tb))  # type: ignore[attr-defined]
    return err


def exc_line(exc: BaseException) -> str:
    """'TypeError: message' on one line, cut to 200 characters."""
    text = " ".join(str(exc).split())
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:200]


def load_target(spec: str, *, trained: bool = False, seed: int | None = None) -> Target:
    if spec.startswith("hf:"):
        return _load_hf(spec, spec[3:])
    if spec.startswith("lossdoc:"):
        return _load_lossdoc(spec, spec[len("lossdoc:") :], trained=trained, seed=seed)
    return _load_file(spec, seed=seed)


# ---------------------------------------------------------------- file.py:factory


def _load_file(spec: str, *, seed: int | None) -> Target:
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text or not name or not path_text.endswith(".py"):
        raise LossdocError("error.check_target", target=spec)
    path = Path(path_text)
    if not path.is_file():
        raise LossdocError("error.log_missing", path=str(path))
    mod_name = f"_lossdoc_check_{abs(hash(str(path.resolve())))}"
    folder = str(path.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # so that the file can import its neighbours
    try:
        spec_obj = importlib.util.spec_from_file_location(mod_name, path)
        if spec_obj is None or spec_obj.loader is None:
            raise LossdocError("error.check_target", target=spec)
        module = importlib.util.module_from_spec(spec_obj)
        sys.modules[mod_name] = module
        try:
            spec_obj.loader.exec_module(module)
        except BaseException as exc:  # the user's code: anything can come out of it
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise user_error("error.check_import", exc, path=str(path), detail=exc_line(exc)) from None
        factory = getattr(module, name, None)
        if factory is None or not callable(factory):
            raise LossdocError("error.check_no_factory", path=str(path), name=name)
        torch.manual_seed(0 if seed is None else seed)
        try:
            model = factory()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise user_error("error.check_factory_raised", exc, name=name, detail=exc_line(exc)) from None
    finally:
        if added:
            try:
                sys.path.remove(folder)
            except ValueError:
                pass
    if not isinstance(model, nn.Module):
        raise LossdocError("error.check_not_module", name=name, type=type(model).__name__)
    return Target(spec, "file", model, vocab_size=_attr_int(model, ("vocab_size", "n_vocab")), max_positions=_attr_int(model, _MAX_POS_ATTRS))


def _attr_int(model: nn.Module, names: tuple[str, ...]) -> int | None:
    """An integer attribute of the model or of its config (``model.config``, ``model.cfg``, ``model.params``)."""
    holders = [model] + [getattr(model, h, None) for h in ("config", "cfg", "params", "args")]
    for name in names:
        for h in holders:
            if h is None:
                continue
            v = h.get(name) if isinstance(h, dict) else getattr(h, name, None)
            if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                return v
    return None


# ---------------------------------------------------------------- lossdoc:RUN_OR_CHECKPOINT


def _load_lossdoc(spec: str, path_text: str, *, trained: bool, seed: int | None) -> Target:
    from lossdoc.train.checkpoint import load_checkpoint
    from lossdoc.train.config import TrainConfig, resolve_config
    from lossdoc.train.generate import resolve_checkpoint
    from lossdoc.train.model import TransformerLM

    path = Path(path_text)
    if not path_text or not path.exists():
        raise LossdocError("error.log_missing", path=path_text or spec)
    ckpt = None
    if path.suffix in (".yaml", ".yml") and path.is_file():
        cfg = resolve_config(path)
    elif path.is_dir() and (path / "config.yaml").is_file() and not trained:
        cfg = resolve_config(path / "config.yaml")
    else:
        ckpt = load_checkpoint(resolve_checkpoint(path))
        raw = ckpt.get("config")
        if not isinstance(raw, dict):
            raise LossdocError("error.checkpoint_bad", path=str(path), detail="no config in the checkpoint")
        try:
            cfg = TrainConfig(**raw)
        except TypeError as exc:
            raise LossdocError("error.checkpoint_bad", path=str(path), detail=exc_line(exc)) from None
    if trained and ckpt is None:
        raise LossdocError("error.check_no_weights", path=str(path))
    mcfg = cfg.model_config()  # the run's model, with its --inject fault
    torch.manual_seed(cfg.seed if seed is None else seed)
    model = TransformerLM(mcfg)
    target = Target(spec, "lossdoc", model, vocab_size=cfg.vocab_size, max_positions=cfg.seq_len, trained=trained)
    if trained:
        assert ckpt is not None  # a trained target without a checkpoint was refused above
        try:
            model.load_state_dict(ckpt["model"])
        except (KeyError, RuntimeError) as exc:
            raise LossdocError("error.checkpoint_bad", path=str(path), detail=exc_line(exc)) from None
        target.notes.append(("chk.note.trained", {}))
    else:
        target.notes.append(("chk.note.fresh", {}))
    if cfg.inject == "unshifted-labels":  # the fault is in the run's training code: its labels are the inputs
        target.labels = "unshifted"
    if cfg.inject in ("no-causal-mask", "large-init-logits"):
        target.notes.append(("chk.note.inject", {"fault": cfg.inject}))
    elif cfg.inject and cfg.inject != "unshifted-labels":  # that one: the labels note says it
        target.notes.append(("chk.note.inject_training", {"fault": cfg.inject}))
    return target


# ---------------------------------------------------------------- hf:PATH


def _load_hf(spec: str, path_text: str) -> Target:
    path = Path(path_text)
    if not path_text or not path.exists():
        raise LossdocError("error.log_missing", path=path_text or spec)
    if not (path / "config.json").is_file():
        raise LossdocError("error.check_hf_folder", path=str(path))
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise LossdocError("error.check_no_transformers") from None
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    verbosity, progress = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # no progress bars or config chatter around lossdoc's table
    hf_logging.disable_progress_bar()
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds
        raise user_error("error.check_hf_load", exc, path=str(path), detail=exc_line(exc)) from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if progress:
            hf_logging.enable_progress_bar()
    model.float()
    cfg = model.config
    vocab = getattr(cfg, "vocab_size", None)
    max_pos = next((getattr(cfg, a) for a in _MAX_POS_ATTRS if isinstance(getattr(cfg, a, None), int)), None)
    return Target(spec, "hf", model, vocab_size=vocab, max_positions=max_pos)
