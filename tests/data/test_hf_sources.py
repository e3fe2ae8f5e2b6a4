"""The datasets path, for real: DatasetDicts saved with save_to_disk, local parquet and
text files read through datasets.load_dataset, and the one-line offline error."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossdoc.data import corpus as corpus_mod
from lossdoc.data.corpus import prepare_corpus
from lossdoc.data.tokenizers import WordTokenizer
from lossdoc.errors import LossdocError

if importlib.util.find_spec("datasets") is None:
    pytest.skip("datasets is not installed", allow_module_level=True)

# datasets takes a second of CPU to import: imported when this module's first test runs, not when each -n worker
# collects it; its tests and the other in-process users of datasets run on one worker (tests/conftest.py), the one of
# the transformers and Lightning tests, which import it too (the Trainer does).
pytestmark = pytest.mark.xdist_group("hf-lightning")
datasets = None  # bound by _datasets, below


@pytest.fixture(scope="module", autouse=True)
def _datasets():
    global datasets
    import datasets


ROOT = Path(__file__).resolve().parents[2]


def real_lines(start: int, n: int) -> list[str]:
    from pydoc_data.topics import topics

    lines = "\n".join(topics[k] for k in sorted(topics)).split("\n")
    return [ln + "\n" for ln in lines[start : start + n]]


@pytest.fixture(autouse=True)
def hf_cache(tmp_path, monkeypatch):
    """Keep datasets' own arrow cache inside tmp_path."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_datasets")


def test_save_to_disk_datasetdict(tmp_path):
    train, val = real_lines(0, 400), real_lines(400, 60)
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": train, "id": list(range(len(train)))}),
            "validation": datasets.Dataset.from_dict({"text": val, "id": list(range(len(val)))}),
            "test": datasets.Dataset.from_dict({"text": ["unused\n"], "id": [0]}),
        }
    )
    dd.save_to_disk(tmp_path / "dd")
    n = corpus_mod.tokenize_count
    c = prepare_corpus(f"hf:{tmp_path / 'dd'}", tokenizer="word", min_freq=2, cache_dir=tmp_path / "c")
    ref = WordTokenizer.fit(["".join(train)], min_freq=2)
    assert c.tokenizer.itos == ref.itos
    assert np.array_equal(np.asarray(c.train), ref.encode("".join(train)))
    assert np.array_equal(np.asarray(c.val), ref.encode("".join(val)))
    assert c.info["kind"] == "hf" and c.info["val_split"] == "split 'validation'"
    again = prepare_corpus(f"hf:{tmp_path / 'dd'}", tokenizer="word", min_freq=2, cache_dir=tmp_path / "c")
    assert again.cache_hit and corpus_mod.tokenize_count == n + 1


def test_single_dataset_on_disk_takes_last_rows_for_validation(tmp_path):
    rows = real_lines(100, 200)
    datasets.Dataset.from_dict({"content": rows}).save_to_disk(tmp_path / "one")
    c = prepare_corpus(f"hf:{tmp_path / 'one'}", tokenizer="byte", text_column="content", cache_dir=tmp_path / "c")
    assert bytes(np.asarray(c.train, dtype=np.uint8)).decode() == "".join(rows[:180])
    assert bytes(np.asarray(c.val, dtype=np.uint8)).decode() == "".join(rows[180:])


def test_local_parquet_through_load_dataset(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path / "pq"
    d.mkdir()
    train, val = real_lines(0, 300), real_lines(300, 40)
    pq.write_table(pa.table({"text": train}), d / "train.parquet")
    pq.write_table(pa.table({"text": val}), d / "validation.parquet")
    c = prepare_corpus(f"hf:{d}", tokenizer="char", cache_dir=tmp_path / "c")
    assert c.tokenizer.decode(c.train) == "".join(train)
    seen = set("".join(train))  # characters first seen in validation are <unk>, decoded as U+FFFD
    assert c.tokenizer.decode(c.val) == "".join(ch if ch in seen else "\ufffd" for ch in "".join(val))
    # a single parquet file: the builder follows the extension
    c1 = prepare_corpus(f"hf:{d / 'train.parquet'}", tokenizer="byte", cache_dir=tmp_path / "c")
    assert bytes(np.asarray(c1.train, dtype=np.uint8)).decode() + bytes(np.asarray(c1.val, dtype=np.uint8)).decode() == "".join(train)


def test_local_text_file_through_load_dataset(tmp_path):
    lines = real_lines(500, 100)
    (tmp_path / "t.txt").write_text("".join(lines), encoding="utf-8")
    c = prepare_corpus(f"hf:{tmp_path / 't.txt'}", tokenizer="byte", cache_dir=tmp_path / "c")
    got = bytes(np.asarray(c.train, dtype=np.uint8)).decode() + bytes(np.asarray(c.val, dtype=np.uint8)).decode()
    assert got == "".join(lines)  # the text builder yields one row per line; rows are joined back with line ends


def test_missing_text_column_names_the_columns(tmp_path):
    datasets.Dataset.from_dict({"body": ["a b\n"] * 10}).save_to_disk(tmp_path / "x")
    with pytest.raises(LossdocError) as e:
        prepare_corpus(f"hf:{tmp_path / 'x'}", cache_dir=tmp_path / "c")
    assert e.value.key == "error.hf_column" and "body" in str(e.value) and "--text-column" in str(e.value)


def test_offline_error_is_one_line_exit_2(tmp_path):
    """The real loader, hub unreachable (offline mode, empty HF_HOME): one line on stderr, exit 2, no run folder, and
    torch not imported by then (lossdoc.train.source opens the data first)."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "LANG": "C.UTF-8"}
    env.pop("LC_ALL", None)
    out = tmp_path / "run"
    code = "import sys; from lossdoc.cli import run; code = run(sys.argv[1:]); print('torch' in sys.modules); sys.exit(code)"
    p = subprocess.run(
        [sys.executable, "-c", code, "train", "--data", "wikitext2", "--out", str(out), "--cache-dir", str(tmp_path / "c")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("lossdoc: error: cannot load dataset Salesforce/wikitext:wikitext-2-raw-v1")
    assert "unreachable" in lines[0] and "HF_HOME" in lines[0] and "--data PATH.txt" in lines[0]
    assert str(tmp_path / "hf") in lines[0]  # names the cache it looked in
    assert not out.exists()
    assert p.stdout.splitlines() == ["False"]  # torch was not imported
