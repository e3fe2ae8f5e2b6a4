"""Facts from the files that sit beside a log: config.json, adapter_config.json, hparams.yaml.

A training log rarely records the vocabulary size, whether the model started from
pretrained weights, or its dropout; the files its framework writes beside it often do:

* Hugging Face: ``config.json`` (``vocab_size``, ``model_type``, the dropout under
  any of its common names, ``_name_or_path``) and, for PEFT/LoRA,
  ``adapter_config.json`` (``base_model_name_or_path``), beside ``trainer_state.json``
  or one folder up (the output folder of a ``checkpoint-N/``).
* Lightning: ``hparams.yaml`` (vocabulary size, learning rate, dropout).

Every fact carries its source (the file). A neighbour that cannot be read or
parsed, or that holds nonsense, is ignored with a warning: explain never fails
because of a neighbour. ``training_args.bin`` is never opened (it is a pickle).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from lossdoc.runlog.readers._common import to_float, vocab_from
from lossdoc.runlog.run import ReaderWarning, Run

MAX_NEIGHBOUR_BYTES = 4 * 2**20  # a config file larger than this is not a config file
VOCAB_KEYS = ("vocab_size", "n_vocab", "vocab", "num_tokens", "ntokens", "n_tokens", "num_embeddings")
# Dropout names, most specific first: the residual/hidden dropout is the one that separates train from val.
DROPOUT_KEYS = (
    "resid_pdrop",
    "hidden_dropout_prob",
    "hidden_dropout",
    "dropout_rate",
    "dropout",
    "dropout_prob",
    "residual_dropout",
    "embd_pdrop",
    "attention_probs_dropout_prob",
    "attention_dropout",
    "attn_pdrop",
    "p_dropout",
    "drop_rate",
)
LR_KEYS = ("lr", "learning_rate", "max_lr", "learningrate")
MODEL_KEYS = (
    "model_type",
    "architectures",
    "n_layer",
    "num_hidden_layers",
    "num_layers",
    "n_embd",
    "hidden_size",
    "d_model",
    "n_head",
    "num_attention_heads",
    "n_positions",
    "max_position_embeddings",
    "initializer_range",
    "tie_word_embeddings",
)


def _load(path: Path, run: Run, parse) -> Any:
    """Parse a neighbour file; None (with a warning) when it cannot be read or parsed."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise OSError("not a regular file")
        if size > MAX_NEIGHBOUR_BYTES:
            raise OSError(f"larger than {MAX_NEIGHBOUR_BYTES // 2**20} MB")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_NEIGHBOUR_BYTES + 1)
        return parse(raw.decode("utf-8-sig", errors="replace"))
    except Exception as exc:  # noqa: BLE001 -- a neighbour never makes explain fail, whatever it holds
        detail = (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}")
        )
        run.warnings.append(ReaderWarning("warn.config_unreadable", {"path": _safe(path), "detail": detail[:80]}))
        return None


def _safe(path: Path) -> str:
    return str(path).encode("unicode_escape", errors="backslashreplace").decode("ascii", errors="replace")


def _first_number(scopes: list[dict[str, Any]], keys: tuple[str, ...], lo: float, hi: float) -> tuple[float, str] | None:
    for scope in scopes:
        for key in keys:
            if key in scope:
                v = to_float(scope[key])
                if v is not None and math.isfinite(v) and lo <= v <= hi:
                    return v, key
    return None


def _scopes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping itself and the mappings one level down (model:, text_config:, ...)."""
    return [data] + [v for v in data.values() if isinstance(v, dict)]


def short_name(value: str) -> str:
    """A model name or path as a reader knows it: 'org/name' from a hub cache path, else the last two parts."""
    v = value.replace("\\", "/").rstrip("/")
    for part in v.split("/"):
        if part.startswith("models--"):
            return part[len("models--") :].replace("--", "/")
    parts = [p for p in v.split("/") if p]
    return "/".join(parts[-2:])[-60:] if parts else v[-60:]


def _is_pretrained_name(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def apply_hf_config(run: Run, log_path: Path) -> None:
    """Vocabulary, model type, dropout and pretrained start from config.json / adapter_config.json
    beside a trainer_state.json, or one folder up."""
    folders = [log_path.parent]
    if log_path.parent.name.startswith("checkpoint-"):
        folders.append(log_path.parent.parent)
    for folder in folders:
        cfg_path = folder / "config.json"
        if "vocab_size" not in run.sources and cfg_path.exists():
            cfg = _load(cfg_path, run, _json)
            if cfg is not None and not isinstance(cfg, dict):
                run.warnings.append(ReaderWarning("warn.config_unreadable", {"path": _safe(cfg_path), "detail": "not a JSON object"}))
            elif isinstance(cfg, dict):
                _apply_config_dict(run, cfg, cfg_path.name)
                if _is_pretrained_name(cfg.get("_name_or_path")) and run.pretrained is None:
                    run.set_fact("pretrained", True, "file", f"config.json: _name_or_path = {short_name(str(cfg['_name_or_path']))}")
        ad_path = folder / "adapter_config.json"
        if "pretrained" not in run.sources and ad_path.exists():
            ad = _load(ad_path, run, _json)
            if isinstance(ad, dict):
                base = ad.get("base_model_name_or_path")
                what = ad.get("peft_type") or "adapter"
                where = f"adapter_config.json: {what}" + (f" on {short_name(str(base))}" if _is_pretrained_name(base) else "")
                run.set_fact("pretrained", True, "file", where)


def _apply_config_dict(run: Run, cfg: dict[str, Any], name: str) -> None:
    scopes = _scopes(cfg)
    v = None
    for scope in scopes:
        for key in VOCAB_KEYS:
            v = vocab_from(scope.get(key))
            if v is not None:
                break
        if v is not None:
            break
    if v is not None:
        run.set_fact("vocab_size", v, "file", f"{name}: {key}")
    d = _first_number(scopes, DROPOUT_KEYS, 0.0, 1.0)
    if d is not None:
        run.set_fact("dropout", d[0], "file", f"{name}: {d[1]}")
    run.model = {k: cfg[k] for k in MODEL_KEYS if k in cfg and isinstance(cfg[k], (int, float, str, bool, list))}


class _LenientLoader(yaml.SafeLoader):
    """SafeLoader that reads Lightning's python-object tags as plain data instead of failing."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_LenientLoader.add_multi_constructor("", _any_tag)


MAX_NESTING = 64  # a config nested deeper than this is not a config (and costs PyYAML seconds to parse)


def _nesting(text: str) -> int:
    """The deepest run of open flow brackets ([ and {) and of indentation levels, cheaply, before parsing."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    indent = max((len(line) - len(line.lstrip(" -")) for line in text.splitlines()), default=0) // 2
    return max(deepest, indent)


def _yaml(text: str) -> Any:
    if _nesting(text) > MAX_NESTING:
        raise ValueError(f"nested more than {MAX_NESTING} levels")
    return yaml.load(text, Loader=_LenientLoader)  # noqa: S506 (a SafeLoader subclass)


def _json(text: str) -> Any:
    if _nesting(text) > MAX_NESTING:
        raise ValueError(f"nested more than {MAX_NESTING} levels")
    return json.loads(text)


def apply_hparams(run: Run, hp: Path) -> None:
    """Vocabulary size, dropout and learning rate from Lightning's hparams.yaml (top level or one level down)."""
    if not hp.exists():
        return
    data = _load(hp, run, _yaml)
    if data is None:
        return
    if not isinstance(data, dict):
        run.warnings.append(ReaderWarning("warn.config_unreadable", {"path": _safe(hp), "detail": "not a mapping"}))
        return
    run.config = {str(k): v for k, v in data.items() if isinstance(v, (int, float, str, bool)) or v is None}
    scopes = _scopes(data)
    for scope in scopes:
        for key in VOCAB_KEYS:
            v = vocab_from(scope.get(key))
            if v is not None:
                run.set_fact("vocab_size", v, "file", f"hparams.yaml: {key}")
                break
        if "vocab_size" in run.sources:
            break
    d = _first_number(scopes, DROPOUT_KEYS, 0.0, 1.0)
    if d is not None:
        run.set_fact("dropout", d[0], "file", f"hparams.yaml: {d[1]}")
    for scope in scopes:
        for key in ("pretrained", "from_pretrained", "init_from", "model_name_or_path", "pretrained_model_name_or_path", "base_model"):
            value = scope.get(key)
            if isinstance(value, bool):
                run.set_fact("pretrained", value, "file", f"hparams.yaml: {key}")
                return
            if isinstance(value, str) and value.strip() and value.strip().lower() not in ("scratch", "none", "null", "false", "resume"):
                run.set_fact("pretrained", True, "file", f"hparams.yaml: {key} = {value[-60:]}")
                return
