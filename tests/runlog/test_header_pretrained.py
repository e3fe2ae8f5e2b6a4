"""The run header's `pretrained` boolean (RunLogger, the HF callback) is read back as the pretrained fact."""

import json

import pytest

from lossdoc.runlog.readers.lossdoc_jsonl import read

HEADER = {
    "type": "run",
    "schema": "lossdoc.run/1",
    "run_id": "x",
    "started_at": "2026-01-01T00:00:00Z",
    "vocab_size": 64,
    "data": {"kind": "text"},
    "model": {},
    "config": {},
    "env": {},
}


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (None, False), ("yes", False), (1, False)])
def test_pretrained_from_the_header(tmp_path, value, expected):
    head = dict(HEADER)
    if value is not None:
        head["pretrained"] = value
    p = tmp_path / "run.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in (head, {"type": "batch", "step": 1, "loss": 4.0})) + "\n")
    run = read(p)
    assert run.pretrained is expected
    assert ("pretrained" in run.sources) is expected
    if expected:
        assert run.sources["pretrained"].kind == "log"
