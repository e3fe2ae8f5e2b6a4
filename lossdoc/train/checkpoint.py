"""Checkpoints: written atomically, loaded only as plain weights.

A checkpoint is a dict of tensors and plain Python values. It is written to a
temporary file in the same folder, fsynced, then moved over the old one with
os.replace, so a kill at any moment leaves either the old or the new file.
Loading uses ``torch.load(weights_only=True)``: a pickle that would run code
is refused (LossdocError), never executed. Temporary files left by a save
that was killed (``.last.pt.*.tmp``) never shadow a checkpoint (they have
other names) and are removed by the next save of that checkpoint.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from lossdoc.errors import LossdocError


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise LossdocError("error.io", path=str(path), detail=exc.strerror or str(exc)) from None
        raise
    _fsync_dir(path.parent)
    remove_stale_temps(path)


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Delete the temporary files that killed saves of ``path`` left behind; returns them."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise LossdocError("error.log_missing", path=str(path))
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).strip().splitlines()
        reason = next((ln.strip() for ln in detail if "GLOBAL" in ln or "Unsupported" in ln), detail[0] if detail else "unsupported content")
        raise LossdocError("error.checkpoint_unsafe", path=str(path), detail=reason[:200]) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        raise LossdocError("error.checkpoint_bad", path=str(path), detail=(str(exc).splitlines() or [type(exc).__name__])[0][:200]) from None
    if not isinstance(state, dict) or "model" not in state:
        raise LossdocError("error.checkpoint_bad", path=str(path), detail="not a lossdoc checkpoint")
    return state


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
