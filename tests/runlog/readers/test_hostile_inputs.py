"""Regression tests for issue #18: each class of hostile input, from a minimal input the test writes itself.

Every case goes through the whole CLI (cli.run) and must end with a verdict (exit 0) or one line (exit 2),
and never with lossdoc's last-resort "this is a bug" line."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import struct
import sys
from pathlib import Path

import pytest

from lossdoc.cli import run
from lossdoc.runlog.readers import _common, console, generic, markdown, nanogpt, numbers, read_run, seed_console, tensorboard

sys.path.insert(0, str(Path(__file__).parent))
from regex_lint import ambiguities  # noqa: E402

HUGE = "9" * 5000  # more digits than Python converts (4,300)
HEADER = {
    "type": "run",
    "schema": "lossdoc.run/1",
    "run_id": "t",
    "vocab_size": 64,
    "batch_tokens": 120,
    "data": {"kind": "dummy", "entropy_floor": 4.143},
    "model": {"init_logit_std": 0.58},
}


def explain(path: Path, *flags: str) -> tuple[int, str, str]:
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = run(["explain", str(path), "--json", *flags])
    return rc, so.getvalue(), se.getvalue()


def verdict(path: Path, *flags: str) -> dict:
    rc, out, err = explain(path, *flags)
    assert rc == 0 and err == "", err
    return json.loads(out)


def kept_contract(path: Path, *flags: str) -> int:
    rc, out, err = explain(path, *flags)
    assert rc in (0, 2), (rc, err)
    assert "Traceback" not in err and "bug in lossdoc" not in err, err
    if rc == 2:
        assert len(err.rstrip("\n").split("\n")) == 1
    return rc


def lossdoc_log(tmp_path: Path, records: list[str], header: dict | None = None) -> Path:
    p = tmp_path / "metrics.jsonl"
    p.write_text(json.dumps(header or HEADER) + "\n" + "\n".join(records) + "\n")
    return p


# --------------------------------------------------------------------------- integers beyond the conversion limit


def test_to_int_reads_any_number_of_digits():
    assert _common.to_int("12") == 12 and _common.to_int("-0007") == -7
    assert _common.to_int(HUGE) == _common.HUGE_INT and _common.to_int("-" + HUGE) == -_common.HUGE_INT
    assert _common.to_int("0" * 6000 + "5") == 5


def test_nanogpt_iterations_and_steps_beyond_the_conversion_limit(tmp_path):
    p = tmp_path / "train.log"
    p.write_text(
        f"iter 0: loss 4.5, time 1ms\niter 1: loss 4.4, time 1ms\niter {HUGE}: loss 4.4, time 1ms\nstep {HUGE}: train loss 4.3, val loss 4.2\n"
    )
    verdict(p)


def test_seed_console_epochs_batches_and_sizes_beyond_the_conversion_limit(tmp_path):
    p = tmp_path / "console.txt"
    p.write_text(
        f"Epoch 1, Batch 1/2, Loss: 9.3\nEpoch 1, Batch 2/{HUGE}, Loss: 9.2\nEpoch {HUGE}, Batch {HUGE}/2, Loss: 9.1\nEpoch {HUGE}/3\nVal Loss: 9.0\n"
    )
    verdict(p, "--vocab-size", "10000")


def test_hf_state_with_an_integer_beyond_the_conversion_limit_is_one_line(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text(f'{{"log_history": [{{"step": {HUGE}, "loss": 4.0}}, {{"step": 1, "loss": 3.9}}]}}')
    assert kept_contract(p) == 2  # json refuses the document (ValueError, not JSONDecodeError)


# --------------------------------------------------------------------------- numbers out of range


def test_negative_and_infinite_token_counts(tmp_path):
    recs = [
        json.dumps({"type": "batch", "epoch": 1, "step": s, "loss": 4.3 - s / 100, "tokens": t})
        for s, t in zip(range(1, 9), [-120, -1e300, 1e400, 120, "NaN", "Infinity", -5, 120])
    ]
    recs.append(json.dumps({"type": "epoch", "epoch": 1, "step": 8, "train_loss": 4.2, "val_loss": 4.25, "val_tokens": -360}))
    d = verdict(lossdoc_log(tmp_path, recs))
    assert d["verdict"]


def test_infinite_steps_and_event_steps(tmp_path):
    recs = [json.dumps({"type": "batch", "epoch": 1, "step": s, "loss": 4.3}) for s in (1, 2, 3)]
    recs += [
        '{"type": "batch", "epoch": 1, "step": 1e400, "loss": 4.2}',
        '{"type": "event", "kind": "nonfinite_loss", "step": "Infinity"}',
        '{"type": "event", "kind": "nonfinite_loss", "step": 1e400}',
        '{"type": "epoch", "epoch": 1, "step": "Infinity", "val_loss": "NaN"}',
    ]
    verdict(lossdoc_log(tmp_path, recs))


@pytest.mark.parametrize("field, value", [("init_logit_std", 1e20), ("init_logit_std", 49.0), ("dropout", 1e300), ("batch_tokens", 1e30)])
def test_header_numbers_out_of_range_are_ignored_with_a_warning(tmp_path, field, value):
    header = json.loads(json.dumps(HEADER))
    (header["model"] if field in ("init_logit_std", "dropout") else header)[field] = value
    recs = [json.dumps({"type": "epoch", "epoch": 0, "step": 0, "val_loss": 4.3})]
    recs += [json.dumps({"type": "batch", "epoch": 1, "step": s, "loss": 4.3 - s / 100}) for s in range(1, 6)]
    run_ = read_run(lossdoc_log(tmp_path, recs, header))
    assert getattr(run_, field) is None
    assert any(w.key == "warn.header_out_of_range" and w.args["field"] == field for w in run_.warnings)
    verdict(tmp_path / "metrics.jsonl")


def test_an_infinite_half_precision_tensor(tmp_path):
    # Event{step: 1, summary{value{tag: "loss", tensor{dtype: DT_HALF, float_val: inf}}}}; and one with half_val 0x7c00 (+inf)
    def record(payload: bytes) -> bytes:
        head = struct.pack("<Q", len(payload))
        return head + struct.pack("<I", tensorboard.masked_crc(head)) + payload + struct.pack("<I", tensorboard.masked_crc(payload))

    def event(step: int, tensor: bytes) -> bytes:
        value = b"\x0a\x04loss" + b"\x42" + bytes([len(tensor)]) + tensor
        summary = b"\x0a" + bytes([len(value)]) + value
        return b"\x10" + bytes([step]) + b"\x2a" + bytes([len(summary)]) + summary

    inf_float_val = b"\x08\x13" + b"\x2d" + struct.pack("<f", math.inf)  # dtype 19, float_val (fixed32) inf
    inf_half_val = b"\x08\x13" + b"\x68" + b"\x80\xf8\x01"  # dtype 19, half_val 0x7c00
    data = b"".join(record(event(s, inf_float_val if s % 2 else inf_half_val)) for s in range(1, 5))
    data += b"".join(record(event(s, b"\x08\x01" + b"\x2d" + struct.pack("<f", 4.0 - s / 10))) for s in range(5, 12))
    p = tmp_path / "events.out.tfevents.1.x.0"
    p.write_bytes(data)
    run_ = read_run(p)
    assert math.isinf(run_.batches.loss[0]) and run_.batches.loss[-1] == pytest.approx(2.9, abs=1e-6)
    verdict(p)


# --------------------------------------------------------------------------- regexes: linear on any line


def _patterns():
    for mod in (seed_console, nanogpt, generic, _common, console, markdown, numbers):
        for name, value in sorted(vars(mod).items()):
            for i, rx in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(rx, re.Pattern):
                    yield pytest.param(rx, id=f"{mod.__name__.rsplit('.', 1)[-1]}.{name}{i or ''}")


@pytest.mark.parametrize("rx", list(_patterns()))
def test_reader_patterns_have_no_backtracking_shape(rx):
    assert ambiguities(rx) == []


def test_the_lint_finds_the_shapes_that_made_the_seed_console_hang():
    assert ambiguities(r"Epoch\s*\[?\s*(\d+)(?:\s*/\s*\d+)?\s*\]?\s*[,，]?\s*Batch")  # the pattern before issue #18
    assert ambiguities(r"train\s+loss\s+(\d+|\S*?)\s*,")  # nanoGPT's eval line before issue #18
    assert ambiguities(r"(\s*x?)*y") and ambiguities(r"(a+)+b")
    assert not ambiguities(r"Epoch\s*(?:\[\s*)?(\d+)") and not ambiguities(r"a\s*\d+\s*b")


@pytest.mark.parametrize(
    "line",
    [
        "Epoch 1" + " " * 60000,
        "Epoch [" + " \t" * 30000,
        "Epoch 1 ]" + " ," * 30000,
        "Epoch 1, Batch" + " " * 60000,
        "第" + " " * 60000 + "1",
        "Val Loss:" + " " * 60000,
        "step 1: train loss" + " " * 60000,
        ("Epoch 1 " + " " * 50 + "\n") * 1000,
    ],
)
def test_hostile_lines_are_read(tmp_path, line):
    # before issue #18 a line of "Epoch 1" and 2,000 spaces took 34 s (cubic); these have 30 times as many
    p = tmp_path / "console.txt"
    p.write_text("Epoch 1, Batch 1/2, Loss: 9.3\n" + line + "\nEpoch 1, Batch 2/2, Loss: 9.2\nVal Loss: 9.1\n")
    kept_contract(p)
    kept_contract(p, "--format", "nanogpt")
    kept_contract(p, "--format", "seed-console")


def test_the_linear_patterns_read_what_the_old_ones_read():
    for line, want in [
        ("Epoch 1, Batch 2/10, Loss: 9.21", ("1", "2", "10", "9.21")),
        ("Epoch [3/5] Batch [7] , Loss=1.5", ("3", "7", None, "1.5")),
        ("epoch 2 ， batch 3 / 4 ，loss：nan", ("2", "3", "4", "nan")),
        ("Epoch[1] ,Batch 1 ] , Loss: 2", ("1", "1", None, "2")),
    ]:
        m = seed_console._BATCH.search(line)
        assert m is not None and m.groups() == want, line
    assert seed_console._EPOCH_HDR.search("== Epoch [ 4 / 9 ]").groups() == ("4", "9")
    assert nanogpt._EVAL.search("step 10: train loss 4.3, val loss 4.2").groups() == ("10", "4.3", "4.2")
    assert nanogpt._EVAL.search("step 12: train loss , val loss 3").groups() == ("12", None, "3")


# --------------------------------------------------------------------------- the expensive maths is bounded


def test_implied_logit_std_needs_few_integrations(monkeypatch):
    from lossdoc import floors

    calls = []
    real = floors._init_loss_on_grid

    def counting(v, s, nz, du):
        calls.append((nz, du))
        return real(v, s, nz, du)

    monkeypatch.setattr(floors, "_init_loss_on_grid", counting)
    floors.expected_init_loss_exact.cache_clear()
    s = floors.implied_logit_std(64, 100.0)  # a constant loss of 100 at V = 64: 33 exact integrations before issue #18
    assert floors.expected_init_loss_exact(64, s) == pytest.approx(100.0, abs=1e-4)
    fine = [c for c in calls if c[0] >= 401]
    assert len(fine) <= 7 and all(c == (401, 0.4) for c in fine[:-1]) and len(calls) <= 40


def test_a_constant_loss_of_100_is_explained(tmp_path):
    recs = [json.dumps({"type": "epoch", "epoch": 0, "step": 0, "val_loss": 100.0})]
    recs += [json.dumps({"type": "batch", "epoch": 1, "step": s, "loss": 100.0}) for s in range(1, 60)]
    verdict(lossdoc_log(tmp_path, recs))


# --------------------------------------------------------------------------- TensorBoard folders and records


def _scalar_file(path: Path, steps=range(1, 30), tag="loss") -> bytes:
    import importlib.util

    spec = importlib.util.spec_from_file_location("large_logs", Path(__file__).resolve().parents[3] / "benchmarks" / "large_logs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    data = b"".join(mod._record(mod._scalar_event(s, tag, 4.0 - s / 100)) for s in steps)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def test_a_folder_1500_levels_deep_is_walked_without_recursion(tmp_path):
    import os
    import subprocess

    top = tmp_path / "deep"
    cur = str(top)
    os.makedirs(cur)
    for _ in range(1500):
        cur = os.path.join(cur, "d")
        os.mkdir(cur)
    _scalar_file(Path(cur) / "events.out.tfevents.1.bottom.0")
    try:
        assert kept_contract(top) == 2  # beyond MAX_DEPTH: no event file found, one line
        _scalar_file(top / "events.out.tfevents.1.top.0")
        run_ = read_run(top)
        assert any(w.key == "warn.folder_too_deep" for w in run_.warnings)
    finally:
        subprocess.run(["rm", "-rf", str(top)], check=False)  # shutil.rmtree recurses


def test_a_folder_walk_stops_after_max_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "MAX_ENTRIES", 20)
    for i in range(30):
        (tmp_path / f"f{i:02d}.txt").write_bytes(b"x")
    warnings: list = []
    tensorboard._event_files(tmp_path, warnings)
    assert [w.key for w in warnings] == ["warn.folder_too_many"]


@pytest.mark.parametrize("length", [2**63, 2**40, 10**9])
def test_a_record_length_that_lies_is_a_torn_record_not_an_allocation(tmp_path, length):
    p = tmp_path / "events.out.tfevents.1.x.0"
    data = _scalar_file(p)
    head = struct.pack("<Q", length)
    p.write_bytes(data + head + struct.pack("<I", tensorboard.masked_crc(head)) + b"\x00" * 64)
    run_ = read_run(p)
    assert len(run_.batches) == 29 and any(w.key == "warn.tb_torn" for w in run_.warnings)


def test_records_longer_than_the_cap_are_skipped_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "MAX_RECORD", 1000)
    p = tmp_path / "events.out.tfevents.1.x.0"
    data = _scalar_file(p)
    big = b"\x2a" + b"\x90\x4e" + b"\x00" * 10000  # a 10 KB summary
    head = struct.pack("<Q", len(big))
    cut = 16 + struct.unpack_from("<Q", data, 0)[0]  # after the first record
    p.write_bytes(data[:cut] + head + struct.pack("<I", tensorboard.masked_crc(head)) + big + b"\x00" * 4 + data[cut:])
    run_ = read_run(p)
    assert any(w.key == "warn.tb_huge_records" and w.args["count"] == 1 for w in run_.warnings)
    assert len(run_.batches) == 29  # every record after the skipped one is read


# --------------------------------------------------------------------------- neighbour files


@pytest.mark.parametrize(
    "yaml_text",
    ["vocab_size: !!int xyz\n", "t: !!timestamp 2001-13-45\n", "x: !!float abc\n", "vocab_size: " + HUGE + "\n", "x: !!bool maybe\n"],
    ids=["int", "timestamp", "float", "huge", "bool"],
)
def test_a_hparams_yaml_that_does_not_parse_is_ignored_with_a_warning(tmp_path, yaml_text):
    d = tmp_path / "version_0"
    d.mkdir()
    (d / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n0,0,4.6,\n0,1,4.5,\n0,2,,4.4\n")
    (d / "hparams.yaml").write_text(yaml_text)
    rc, out, err = explain(d)
    assert rc == 0, err
    assert "warn.config_unreadable" in out  # named as a reader warning (explain() asks for --json)


@pytest.mark.parametrize("special", ["fifo", "devzero", "dir"])
@pytest.mark.parametrize("name", ["config.json", "hparams.yaml"])
def test_a_neighbour_that_is_not_a_regular_file_is_not_read(tmp_path, special, name):
    import os

    if name == "config.json":
        (tmp_path / "trainer_state.json").write_text(
            json.dumps({"log_history": [{"step": s, "loss": 4 - s / 10, "epoch": s / 10} for s in range(1, 9)]})
        )
        target = tmp_path / "trainer_state.json"
    else:
        (tmp_path / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n0,0,4.6,\n0,1,4.5,\n0,2,,4.4\n")
        target = tmp_path / "metrics.csv"
    nb = tmp_path / name
    if special == "fifo":
        os.mkfifo(nb)
    elif special == "devzero":
        nb.symlink_to("/dev/zero")
    else:
        nb.mkdir()
    verdict(target)
