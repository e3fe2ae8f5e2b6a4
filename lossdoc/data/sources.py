"""Where text comes from: a ``--data`` spec -> a TextSource with a train and a
validation split (iterables of text pieces that each end at a line end).

Specs:
- ``dummy``, ``zipf``, ``markov``: synthetic tokens (lossdoc.data.synthetic; no text).
- ``pydoc``: the English prose of Python's own documentation
  (``pydoc_data.topics``, about 465 KB, shipped with every CPython): a real
  corpus that needs no download.
- ``wikitext2``, ``wikitext103``: ``Salesforce/wikitext`` through Hugging Face
  ``datasets`` with its own train/validation splits.
- ``hf:NAME[:CONFIG]``: any dataset ``datasets.load_dataset`` reads, or a
  local folder written by ``save_to_disk`` (read with ``load_from_disk``), or a
  local parquet/text/json/csv file or folder.
- anything else: a path to a ``.txt`` file or a folder of them (recursive,
  sorted by path, joined with line ends).

Validation split of local text (and pydoc): the last ``val_fraction`` of the
characters, the cut moved forward to just after the next line end (when there is
one), so no line is split; or all of ``--val-file``. For datasets: the
``validation`` split (or valid, val, dev, test, in that order); a dataset with
only a train split gives its last ``val_fraction`` of rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError

SYNTHETIC = ("dummy", "zipf", "markov")
HF_BUILTIN = {
    "wikitext2": ("Salesforce/wikitext", "wikitext-2-raw-v1"),
    "wikitext103": ("Salesforce/wikitext", "wikitext-103-raw-v1"),
}
BUILTIN = SYNTHETIC + ("pydoc",) + tuple(HF_BUILTIN)
VAL_SPLITS = ("validation", "valid", "val", "dev", "test")
PIECE_CHARS = 1 << 20  # text is tokenised in pieces of about 1M characters
FILE_BUILDERS = {".parquet": "parquet", ".txt": "text", ".json": "json", ".jsonl": "json", ".csv": "csv"}


@dataclass
class Spec:
    kind: str  # dummy | zipf | markov | pydoc | hf | text
    name: str  # the spec as given, a dataset name, or a path
    config: str | None = None


def parse_spec(data: str) -> Spec:
    """Classify a ``--data`` value without touching the disk or the network."""
    if data in SYNTHETIC or data == "pydoc":
        return Spec(data, data)
    if data in HF_BUILTIN:
        name, config = HF_BUILTIN[data]
        return Spec("hf", name, config)
    if data.startswith("hf:"):
        rest = data[3:]
        if not rest:
            raise LossdocError("error.data_missing", spec=data)
        if Path(rest).exists() or ":" not in rest:
            return Spec("hf", rest, None)
        name, config = rest.rsplit(":", 1)
        return Spec("hf", name, config or None)
    return Spec("text", data)


def default_tokenizer(spec: Spec) -> str:
    """word for WikiText (the classic word-level setup), char for everything else."""
    return "word" if spec.kind == "hf" and spec.name == "Salesforce/wikitext" else "char"


Pieces = Callable[[], Iterator[str]]


@dataclass
class TextSource:
    kind: str  # text | hf
    description: str  # shown in the header and in messages
    identity: dict[str, Any]  # what the tokenised cache is keyed by
    train: Pieces
    val: Pieces
    val_rule: str  # how the validation split was chosen
    total_chars: dict[str, int] = field(default_factory=dict)  # per split, for progress (approximate for datasets)


def open_source(spec: Spec, *, val_fraction: float = 0.1, val_file: str | None = None, text_column: str = "text") -> TextSource:
    if val_file is not None and spec.kind not in ("text", "pydoc"):
        raise LossdocError("error.val_file_source", source=spec.name)
    if spec.kind == "pydoc":
        return _pydoc_source(val_fraction, val_file)
    if spec.kind == "text":
        return _text_source(Path(spec.name), val_fraction, val_file)
    if spec.kind == "hf":
        return _hf_source(spec, val_fraction, text_column)
    raise ValueError(f"{spec.kind} is not a text source")


# ---- local text -------------------------------------------------------------------------------------------


def pydoc_text() -> str:
    """Python's documentation topics (pydoc_data.topics), sorted by topic, one blank line between them."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip("\n") for k in sorted(topics)) + "\n"


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """The last ``val_fraction`` of the characters, cut just after the next line end when there is one."""
    cut = int(len(text) * (1.0 - val_fraction))
    nl = text.find("\n", cut)
    if nl != -1 and nl + 1 < len(text):
        cut = nl + 1
    return text[:cut], text[cut:]


def pieces_of(text: str, size: int = PIECE_CHARS) -> Pieces:
    """The text in pieces of about ``size`` characters, each ending at a line end (or the text's end)."""

    def gen() -> Iterator[str]:
        start = 0
        while start < len(text):
            end = min(start + size, len(text))
            if end < len(text):
                nl = text.find("\n", end)
                end = len(text) if nl == -1 else nl + 1
            yield text[start:end]
            start = end

    return gen


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LossdocError("error.data_not_utf8", path=str(path), detail=f"byte {exc.start}") from None
    except OSError as exc:
        raise LossdocError("error.data_read", path=str(path), detail=exc.strerror or str(exc)) from None
    return text if text.endswith("\n") or not text else text + "\n"


def _txt_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise LossdocError("error.data_no_txt", path=str(path))
        return files
    raise LossdocError("error.data_missing", spec=str(path))


def _file_identity(files: list[Path]) -> list[list[Any]]:
    out = []
    for f in files:
        st = f.stat()
        out.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    return out


def _text_source(path: Path, val_fraction: float, val_file: str | None) -> TextSource:
    files = _txt_files(path)
    text = "".join(_read_text(f) for f in files)
    return _finish_text("text", str(path), {"files": _file_identity(files)}, text, val_fraction, val_file)


def _pydoc_source(val_fraction: float, val_file: str | None) -> TextSource:
    text = pydoc_text()
    ident = {"pydoc": list(sys.version_info[:3]), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    return _finish_text("text", "pydoc", ident, text, val_fraction, val_file)


def _finish_text(kind: str, description: str, ident: dict, text: str, val_fraction: float, val_file: str | None) -> TextSource:
    if not text.strip():
        raise LossdocError("error.data_empty_text", source=description)
    if val_file is not None:
        vpath = Path(val_file)
        if not vpath.is_file():
            raise LossdocError("error.val_file_missing", path=str(vpath))
        train, val = text, _read_text(vpath)
        ident = {**ident, "val_file": _file_identity([vpath])[0]}
        rule = f"val_file {vpath}"
    else:
        train, val = split_text(text, val_fraction)
        ident = {**ident, "val_fraction": val_fraction}
        rule = f"last {val_fraction:.0%} of the text"
    if not val.strip():
        raise LossdocError("error.data_empty_text", source=f"{description} (validation)")
    return TextSource(kind, description, ident, pieces_of(train), pieces_of(val), rule, {"train": len(train), "validation": len(val)})


# ---- Hugging Face datasets --------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_hub() -> Iterator[None]:
    """Silence the hub's retry warnings and progress bars: a failure is reported as one line by us."""
    names = ("huggingface_hub", "datasets", "fsspec", "urllib3")
    saved = [(n, logging.getLogger(n).level) for n in names]
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        import datasets

        bars = datasets.utils.logging.is_progress_bar_enabled()
        datasets.utils.logging.disable_progress_bar()
    except Exception:  # pragma: no cover - older datasets
        bars = None
    try:
        yield
    finally:
        for n, level in saved:
            logging.getLogger(n).setLevel(level)
        if bars:
            import datasets

            datasets.utils.logging.enable_progress_bar()


HUB_PROBE_TIMEOUT_S = 3.0  # one short connection attempt; datasets' own retries take about 25 s offline
_TRUE = ("1", "on", "yes", "true")
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def hub_offline(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether the Hugging Face hub is out of reach: HF_HUB_OFFLINE (or HF_DATASETS_OFFLINE,
    TRANSFORMERS_OFFLINE) is set, or one TCP connection to the hub's host fails within ``timeout``.
    Behind a proxy (HTTPS_PROXY etc.) the direct probe says nothing, so only the variables count."""
    if any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return False
    url = urllib.parse.urlsplit(hub_endpoint())
    host = url.hostname
    if not host:
        return False
    port = url.port or (80 if url.scheme == "http" else 443)
    reached: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                reached.append(True)
        except (OSError, ValueError):
            pass

    # in a thread, so that a name lookup that hangs (it has no timeout of its own) is cut off too
    worker = threading.Thread(target=probe, name="lossdoc-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    return not reached


@contextlib.contextmanager
def _hub_offline_mode() -> Iterator[None]:
    """datasets and huggingface_hub in offline mode for one call: a cached dataset still loads, a missing
    one fails at once instead of after the hub's retries."""
    import datasets
    import huggingface_hub.constants as hub_constants

    saved = (
        datasets.config.HF_HUB_OFFLINE,
        getattr(datasets.config, "HF_DATASETS_OFFLINE", None),
        hub_constants.HF_HUB_OFFLINE,
        os.environ.get("HF_HUB_OFFLINE"),
    )
    datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    if saved[1] is not None:
        datasets.config.HF_DATASETS_OFFLINE = True
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved[0], saved[2]
        if saved[1] is not None:
            datasets.config.HF_DATASETS_OFFLINE = saved[1]
        if saved[3] is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved[3]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def load_hf(spec: Spec):
    """The real ``datasets`` loader; its failures become one-line LossdocErrors."""
    label = spec.name + (f":{spec.config}" if spec.config else "")
    try:
        import datasets
    except ImportError:
        raise LossdocError("error.hf_no_datasets", name=label) from None
    path = Path(spec.name)
    try:
        with _quiet_hub():
            if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
                return datasets.load_from_disk(str(path))
            if path.is_file():
                builder = FILE_BUILDERS.get(path.suffix.lower())
                if builder is None:
                    raise LossdocError("error.hf_load", name=label, detail=f"unknown file type {path.suffix!r}; use {', '.join(FILE_BUILDERS)}")
                return datasets.load_dataset(builder, data_files=str(path))
            if path.is_dir():
                return datasets.load_dataset(str(path))
            if hub_offline():
                with _hub_offline_mode():
                    return datasets.load_dataset(spec.name, spec.config)
            return datasets.load_dataset(spec.name, spec.config)
    except LossdocError:
        raise
    except ConnectionError:
        raise LossdocError("error.hf_offline", name=label, cache=str(datasets.config.HF_DATASETS_CACHE)) from None
    except Exception as exc:
        not_found = getattr(getattr(datasets, "exceptions", None), "DatasetNotFoundError", ())
        if isinstance(exc, not_found) or isinstance(exc, FileNotFoundError):
            raise LossdocError("error.hf_not_found", name=label, detail=_first_line(exc)) from None
        raise LossdocError("error.hf_load", name=label, detail=_first_line(exc)) from None


def _hf_source(spec: Spec, val_fraction: float, text_column: str) -> TextSource:
    import datasets

    label = spec.name + (f":{spec.config}" if spec.config else "")
    ds = load_hf(spec)
    if isinstance(ds, datasets.Dataset):
        ds = datasets.DatasetDict({"train": ds})
    if not isinstance(ds, datasets.DatasetDict):
        raise LossdocError("error.hf_load", name=label, detail=f"unsupported object {type(ds).__name__}")
    splits = list(ds.keys())
    train_name = "train" if "train" in ds else (splits[0] if len(splits) == 1 else None)
    if train_name is None:
        raise LossdocError("error.hf_no_train", name=label, splits=", ".join(splits))
    train = ds[train_name]
    if text_column not in train.column_names:
        raise LossdocError("error.hf_column", name=label, column=text_column, columns=", ".join(train.column_names))
    val_name = next((s for s in VAL_SPLITS if s in ds and s != train_name), None)
    if val_name is not None:
        val = ds[val_name]
        if text_column not in val.column_names:
            raise LossdocError("error.hf_column", name=label, column=text_column, columns=", ".join(val.column_names))
        rule = f"split {val_name!r}"
    else:
        n = train.num_rows
        n_val = max(1, int(round(n * val_fraction)))
        if n - n_val < 1:
            raise LossdocError("error.data_empty_text", source=f"{label} (train)")
        train, val = train.select(range(n - n_val)), train.select(range(n - n_val, n))
        rule = f"last {val_fraction:.0%} of the rows of {train_name!r}"
    local = Path(spec.name).exists()
    ident = {
        "hf": str(Path(spec.name).resolve()) if local else spec.name,
        "config": spec.config,
        "column": text_column,
        "train": [train_name, getattr(train, "_fingerprint", None), train.num_rows],
        "val": [val_name, getattr(val, "_fingerprint", None), val.num_rows],
        "rule": rule,
    }
    return TextSource(
        "hf",
        label,
        ident,
        _rows_pieces(train, text_column),
        _rows_pieces(val, text_column),
        rule,
        {"train": _approx_chars(train), "validation": _approx_chars(val)},
    )


def _approx_chars(ds) -> int:
    try:
        return int(ds.data.nbytes)
    except Exception:  # pragma: no cover
        return 0


def _rows_pieces(ds, column: str, batch_rows: int = 10_000) -> Pieces:
    """Rows joined into pieces; every row ends with a line end (WikiText rows are lines)."""

    def gen() -> Iterator[str]:
        for batch in ds.select_columns([column]).iter(batch_size=batch_rows):
            rows: Iterable[Any] = batch[column]
            yield "".join(r if r.endswith("\n") else r + "\n" for r in ((x or "") for x in rows))

    return gen
