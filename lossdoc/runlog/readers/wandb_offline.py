"""Reader for a W&B run folder (``wandb/run-<date>_<time>-<id>/`` or ``wandb/offline-run-.../``, what
``wandb.init(mode="offline")`` and online runs leave on disk; wandb/sdk/internal/sender.py and
wandb/sdk/lib/filenames.py name its files).

    files/output.log          the run's console: read with the reader its text is (nanoGPT, Megatron, litgpt,
                              a home-made console ...), found as any log is
    files/config.yaml         wandb.config: ``<key>: {desc: ..., value: ...}`` -> V, sequence length, batch,
                              tokens per step, a fine-tune (``init_from``, ``pretrained``, ``finetune``)
    files/wandb-summary.json  the last value of each metric: kept in config["summary"]

The history itself is in the binary ``run-<id>.wandb`` record file (W&B's protobuf records), which is not
read: the console is. A fact the console gives wins over the same fact in config.yaml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lossdoc.runlog.readers._common import norm_name, to_float, vocab_from
from lossdoc.runlog.run import Run

_RUN_DIR = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-[A-Za-z0-9]{1,64}$")
_SEQ = ("seq_length", "seq_len", "max_seq_len", "max_seq_length", "block_size", "sequence_length", "context_length")
_BATCH = ("global_batch_size", "total_batch_size", "train_batch_size", "batch_size")
_TOKENS = ("tokens_per_step", "tokens_per_iter", "tokens_per_batch", "batch_tokens")
MAX_CONFIG_BYTES = 4 * 2**20


def is_run(folder: Path) -> bool:
    return (folder / "files" / "output.log").is_file() and bool(_RUN_DIR.match(folder.name) or (folder / "files" / "config.yaml").is_file())


def detect(path: Path, head: str) -> bool:
    return False  # a run is a folder: read through resolve


def resolve(folder: Path) -> Path | None:
    if is_run(folder):
        return folder
    if folder.name == "files" and is_run(folder.parent):
        return folder.parent
    return None


def _config(folder: Path) -> dict[str, Any]:
    p = folder / "files" / "config.yaml"
    try:
        if not p.is_file() or p.stat().st_size > MAX_CONFIG_BYTES:
            return {}
        import yaml

        doc = yaml.safe_load(p.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError, ImportError, Exception):  # a damaged config is no reason to refuse the run
        return {}
    if not isinstance(doc, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if str(k).startswith("_"):
            continue
        out[str(k)] = v.get("value") if isinstance(v, dict) and "value" in v else v
    return out


def _get(conf: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    by = {norm_name(k): k for k in conf}
    for n in names:
        if n in by:
            return by[n], conf[by[n]]
    return None


def read(path: Path, **options: Any) -> Run:
    from lossdoc.runlog.readers import read_run

    if path.is_file():  # --format wandb on output.log itself: its run folder is two levels up
        folder, log = path.parent.parent, path
    else:
        folder, log = path, path / "files" / "output.log"
    run = read_run(log, None, **options)  # an unreadable console is refused in its own words, naming output.log
    run.config["console_format"] = run.format
    run.format = "wandb"
    run.source = str(folder)
    conf = _config(folder)
    where = "files/config.yaml: {}"
    if run.vocab_size is None and (v := _get(conf, ("vocab_size", "n_vocab"))) is not None:
        vs = vocab_from(v[1])
        if vs is not None:
            run.set_fact("vocab_size", vs, "file", where.format(v[0]))
    if run.batch_tokens is None:
        tok = _get(conf, _TOKENS)
        seq, batch = _get(conf, _SEQ), _get(conf, _BATCH)
        if tok is not None and isinstance(t := to_float(tok[1]), float) and 0 < t < 1e13:
            run.set_fact("batch_tokens", t, "file", where.format(tok[0]))
        elif seq is not None and batch is not None:
            s, b = to_float(seq[1]), to_float(batch[1])
            if s and b and 0 < s * b < 1e13:
                run.set_fact("batch_tokens", s * b, "file", f"files/config.yaml: {batch[0]} x {seq[0]}")
    if run.pretrained is None and (ft := _get(conf, ("init_from", "pretrained", "finetune", "model_name_or_path"))) is not None:
        value = str(ft[1]).strip().lower()
        if norm_name(ft[0]) == "init_from":
            run.set_fact("pretrained", value not in ("scratch", "none", ""), "file", where.format(ft[0]))
        elif value in ("true", "1", "yes") or (norm_name(ft[0]) == "model_name_or_path" and value not in ("none", "")):
            run.set_fact("pretrained", True, "file", where.format(ft[0]))
    summary = folder / "files" / "wandb-summary.json"
    try:
        if summary.is_file() and summary.stat().st_size <= MAX_CONFIG_BYTES:
            s = json.loads(summary.read_text(encoding="utf-8", errors="replace"))
            if isinstance(s, dict):
                run.config["summary"] = {k: v for k, v in s.items() if isinstance(v, (int, float, str)) and not k.startswith("_wandb")}
    except (OSError, ValueError):
        pass
    run.config["wandb_config"] = {k: v for k, v in list(conf.items())[:50] if isinstance(v, (int, float, str, bool))}
    return run
