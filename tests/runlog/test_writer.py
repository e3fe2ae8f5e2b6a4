import json
import math

from lossdoc.runlog.writer import JsonlLogger, dumps


def test_non_finite_numbers_become_strings():
    line = dumps({"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": {"d": math.nan}})
    assert json.loads(line) == {"a": "NaN", "b": ["Infinity", "-Infinity", 1.5], "c": {"d": "NaN"}}
    assert "NaN," not in line.replace('"NaN"', "")


def test_each_record_is_on_disk_before_the_next_is_written(tmp_path):
    p = tmp_path / "m.jsonl"
    log = JsonlLogger(p)
    log.log({"type": "run", "x": 1})
    assert p.read_text() == '{"type":"run","x":1}\n'  # flushed, not buffered
    log.log({"type": "end"})
    log.close()
    assert len(p.read_text().splitlines()) == 2


def test_appending_after_a_torn_line_starts_a_new_line(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"type":"run"}\n{"type":"bat')
    log = JsonlLogger(p)
    log.log({"type": "event"})
    log.close()
    assert p.read_text().splitlines() == ['{"type":"run"}', '{"type":"bat', '{"type":"event"}']
