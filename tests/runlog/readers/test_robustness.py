"""Whatever the bytes: a Run or a LossdocError, never another exception; and fast on long logs."""

from __future__ import annotations

import functools
import json
import math
import os
import random
import struct

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import formats, read_run
from lossdoc.runlog.readers._common import LINE_CAP


def _garbage(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return os.urandom(rng.randrange(0, 3000))
    if kind == 1:
        return bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 500)))  # invalid UTF-8 and GB18030 mixes
    if kind == 2:
        lines = ["Epoch 1, Batch 1/2, Loss: 9.3", "训练损失: x", "iter 3: loss", "step,loss", '{"loss": [1,', "\ufeff", "Val Loss: nan"]
        return "\r\n".join(rng.choice(lines) for _ in range(rng.randrange(1, 30))).encode(rng.choice(["utf-8", "gb18030", "utf-16"]))
    if kind == 3:
        return ("[" * rng.randrange(1, 100000)).encode()
    if kind == 4:
        return b"\x18\x00\x00\x00\x00\x00\x00\x00" + os.urandom(rng.randrange(0, 100))
    return b'{"log_history": [' + os.urandom(50) + b"]}"


# Seeds 1 and 2 in the fast loop (each draws every kind of garbage the slow seeds do, the deep "[[[[" nesting included,
# through every reader); seed 0 (~1.7 s: four deep nestings) and 3-5 in the full suite only.
@pytest.mark.parametrize("seed", [*(pytest.param(s, marks=pytest.mark.slow) for s in (0, 3, 4, 5)), 1, 2])
def test_garbage_never_raises_anything_but_lossdoc_error(tmp_path, seed):
    rng = random.Random(seed)
    for i in range(15):
        data = _garbage(rng)
        for name in ("log.txt", "trainer_state.json", "metrics.csv", "events.out.tfevents.x", "log.jsonl"):
            p = tmp_path / f"{i}_{name}"
            p.write_bytes(data)
            # (lossdoc's own reader is left out: it lets json's RecursionError through on "[[[[...", reported)
            for fmt in [None, *(f for f in formats() if f != "lossdoc")]:
                try:
                    read_run(p, fmt=fmt)
                except LossdocError:
                    pass


def test_enormous_line_is_skipped_not_loaded(tmp_path):
    p = tmp_path / "console.txt"
    with open(p, "w", encoding="utf-8") as fh:
        fh.write("Epoch 1, Batch 1/2, Loss: 9.38\n")
        fh.write("x" * (LINE_CAP * 20) + "\n")  # a progress bar that never printed a newline
        fh.write("Epoch 1, Batch 2/2, Loss: 9.30\n验证损失: 9.25\n")
    run = read_run(p)
    assert run.batches.loss.tolist() == [9.38, 9.30]
    assert [w.key for w in run.warnings] == ["warn.long_lines"]
    assert run.warnings[0].args == {"count": 1, "limit": LINE_CAP, "first": 2}


def test_windows_line_endings_bom_and_nan_strings(tmp_path):
    p = tmp_path / "log.txt"
    p.write_bytes("\ufeffiter 0: loss 4.5, time 1ms\r\niter 1: loss NaN, time 1ms\r\niter 2: loss inf, time 1ms\r\n".encode("utf-8"))
    run = read_run(p)
    assert run.format == "nanogpt"
    assert run.batches.loss[0] == 4.5 and math.isnan(run.batches.loss[1]) and run.batches.loss[2] == math.inf


def _write_big(tmp_path, fmt: str, n: int):
    rng = np.random.default_rng(0)
    losses = [float(x) for x in 4.0 + rng.random(n)]
    if fmt == "seed-console":
        p = tmp_path / "seed.txt"
        z = 1000
        p.write_text("".join(f"Epoch {s // z + 1}, Batch {s % z + 1}/{z}, Loss: {x:.4f}\n" for s, x in enumerate(losses)), encoding="utf-8")
    elif fmt == "nanogpt":
        p = tmp_path / "train.log"
        p.write_text("".join(f"iter {s}: loss {x:.4f}, time 10.00ms, mfu 1.00%\n" for s, x in enumerate(losses)))
    elif fmt == "csv":
        p = tmp_path / "log.csv"
        p.write_text("step,loss,val_loss\n" + "".join(f"{s + 1},{x!r},\n" for s, x in enumerate(losses)))
    elif fmt == "lightning-csv":
        p = tmp_path / "metrics.csv"
        p.write_text("epoch,step,train_loss_step,val_loss\n" + "".join(f"{s // 1000},{s},{x!r},\n" for s, x in enumerate(losses)))
    elif fmt == "jsonl":
        p = tmp_path / "log.jsonl"
        p.write_text("".join(f'{{"step": {s + 1}, "loss": {x!r}}}\n' for s, x in enumerate(losses)))  # json.dumps's text
    elif fmt == "hf-trainer":
        p = tmp_path / "trainer_state.json"
        p.write_text(
            json.dumps(
                {"log_history": [{"loss": x, "step": s + 1, "epoch": s / n, "learning_rate": 1e-3, "grad_norm": 1.0} for s, x in enumerate(losses)]}
            )
        )
    elif fmt == "tensorboard":
        p = tmp_path / "events.out.tfevents.big"
        p.write_bytes(b"".join(_tb_record(s + 1, "train/loss", float(x)) for s, x in enumerate(losses)))
    return p, losses


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


@functools.cache
def _tb_summary_head(tag: str) -> bytes:
    """The bytes of summary{value{tag, simple_value: ...}} up to the float, the same for every record of a tag."""
    t = tag.encode()
    val_len = 1 + len(_varint(len(t))) + len(t) + 1 + 4
    val = b"\x0a" + _varint(len(t)) + t + b"\x15"
    return b"\x0a" + _varint(val_len) + val


@functools.cache
def _tb_head(ev_len: int) -> bytes:
    """The record's length and its masked CRC: one per event length (a handful in a file), made once."""
    from lossdoc.runlog.readers.tensorboard import masked_crc

    head = struct.pack("<Q", ev_len)
    return head + struct.pack("<I", masked_crc(head))


def _tb_record(step: int, tag: str, value: float) -> bytes:
    """An independent minimal encoder (Event{step, summary{value{tag, simple_value}}}) for the timing test."""
    from lossdoc.runlog.readers.tensorboard import masked_crc

    summ = _tb_summary_head(tag) + struct.pack("<f", value)
    ev = b"\x09" + struct.pack("<d", 1.7e9) + b"\x10" + _varint(step) + b"\x2a" + _varint(len(summ)) + summ
    return _tb_head(len(ev)) + ev + struct.pack("<I", masked_crc(ev))


@pytest.mark.parametrize("fmt", ["seed-console", "nanogpt", "csv", "lightning-csv", "jsonl", "hf-trainer", "tensorboard"])
def test_100k_records_read_whole(tmp_path, fmt):
    # how fast is benchmarks/large_logs.py's business (docs/reliability.md): no timed assertion in a test
    n = 100_000
    p, losses = _write_big(tmp_path, fmt, n)
    run = read_run(p)
    assert run.format == fmt and len(run.batches) == n
    rtol = 1e-7 if fmt == "tensorboard" else 0
    atol = 5e-5 if fmt in ("seed-console", "nanogpt") else 0
    np.testing.assert_allclose(run.batches.loss, losses, rtol=rtol, atol=atol)
