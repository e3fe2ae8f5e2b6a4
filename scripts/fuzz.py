"""Fuzzing harness for `lossdoc explain` (issue #18; docs/reliability.md, "Hostile inputs").

The promise: whatever the file, its neighbours (config.json, hparams.yaml) and the flags, `explain`
exits 0 with a verdict, 1 for --fail-on, or 2 with exactly one line on stderr; never a traceback,
never a hang. This script generates inputs from a seeded generator (the same --seed gives the same
cases) and checks every one of them:

* mutated real logs of every format (the fixtures under tests/fixtures and a lossdoc log): byte flips,
  truncation, hostile numbers (NaN, inf, 1e308, -1, 5,000-digit integers), wrong JSON types, bad
  encodings, CRLF, NUL bytes, regex-hostile lines (``Epoch 1`` and thousands of spaces), TFRecord
  lengths and CRCs that lie;
* hostile neighbours: config.json and hparams.yaml with bad YAML tags (``!!int xyz``,
  ``!!timestamp 2001-13-45``), Python tags, deep nesting, huge and negative numbers, binary data, or
  a FIFO, a link to /dev/zero or a folder in their place;
* special files: a FIFO, links to /dev/zero (under every --format), deep folders (up to 1,500
  levels), folders with thousands of entries, hostile file names (newlines, escape characters,
  bytes that are not UTF-8);
* hostile flags: every --format, --vocab-size, --floor, --random, --random-low, --fail-on, the
  column and tag flags, --lang, --plot, --json, --report.

Most cases run in-process through ``lossdoc.cli.run`` (the whole CLI after argv), with a time limit
per case; a share (--cli-share) runs ``python -m lossdoc explain`` in a subprocess. A case fails when
the exit code is not 0, 1 or 2, when stderr holds a traceback or more than one line with exit 2,
when stderr is not empty with exit 0, when --json output is not one JSON document, when lossdoc
reports an unexpected error (its last-resort "this is a bug" line), or when it runs past --timeout.

Usage:
    python scripts/fuzz.py --cases 10000 --seed 1 [--cli-share 0.02] [--timeout 20] [--keep DIR]

The CI-sized run is tests/runlog/test_fuzz_harness.py (a few hundred cases, seed 0).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIX = ROOT / "tests" / "fixtures"
FORMATS = ["lossdoc", "hf-trainer", "tensorboard", "lightning-csv", "nanogpt", "seed-console", "csv", "jsonl", "json", "console"]
VERDICTS = {"broken", "overfitting", "expected-plateau", "converged", "still-learning", "inconclusive"}
HUGE = "9" * 5000  # beyond Python's 4,300-digit int conversion limit

# (name, fixture, where it goes in the case folder, what explain is pointed at)
SEEDS = [
    ("seed_en", "seed_console/seed_en.txt", "console.txt", "file"),
    ("seed_zh", "seed_console/seed_zh.txt", "console.txt", "file"),
    ("seed_gb18030", "seed_console/seed_zh_gb18030.txt", "console.txt", "file"),
    ("seed_utf16", "seed_console/seed_zh_utf16.txt", "console.txt", "file"),
    ("seed_messy", "seed_console/seed_messy.txt", "console.txt", "file"),
    ("nanogpt", "nanogpt/exploding_lr.log", "train.log", "file"),
    ("nanogpt_healthy", "nanogpt/counting_healthy.log", "train.log", "file"),
    ("hf_state", "hf_trainer/exploding_lr/trainer_state.json", "trainer_state.json", "file"),
    ("hf_folder", "hf_trainer/random_plateau/checkpoint-64/trainer_state.json", "out/checkpoint-64/trainer_state.json", "folder"),
    ("lightning", "lightning_csv/memorising_overfit/lightning_logs/version_0/metrics.csv", "lightning_logs/version_0/metrics.csv", "folder"),
    ("lightning_file", "lightning_csv/counting_healthy/lightning_logs/version_0/metrics.csv", "metrics.csv", "file"),
    ("tensorboard", "tensorboard/exploding_lr/events.out.tfevents.1700000000.fixture.0", "tb/events.out.tfevents.1700000000.fuzz.0", "folder"),
    ("tb_keras", "tensorboard/keras_layout/train/events.out.tfevents.1700000000.fixture.0", "events.out.tfevents.1700000000.fuzz.0", "file"),
    ("csv", "generic/counting_healthy.csv", "log.csv", "file"),
    ("keras_csv", "generic/keras_epochs.csv", "history.csv", "file"),
    ("jsonl_custom", "generic/custom_names.jsonl", "log.jsonl", "file"),
]

HOSTILE_TOKENS = [
    b"NaN",
    b"nan",
    b"-nan",
    b"Infinity",
    b"-Infinity",
    b"inf",
    b"-inf",
    b'"NaN"',
    b'"Infinity"',
    b"1e308",
    b"-1e308",
    b"1.8e308",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"4.9e-324",
    b"9" * 400,
    HUGE.encode(),
    b"-" + HUGE.encode(),
    b"0" * 5000 + b"1",
    b"-1",
    b"-0",
    b"0",
    b"-99999",
    b"1e20",
    b"-1e20",
    b"65504",
    b'"x"',
    b'"9.2"',
    b"null",
    b"true",
    b"false",
    b"[]",
    b"{}",
    b"[1,2]",
    b'{"a":1}',
    b'""',
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\n",
    b"\r\n",
    b"\r",
    b",",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\u0000",
    b"\\ud800",
    "损失".encode(),
    "验证".encode("gb18030"),
    b"\xe6\x8d",
    b"\t",
    b" " * 3000,
    b"[" * 3000,
    b"{" * 3000,
    b"Epoch",
    b"Loss:",
    b"iter",
    b"step",
    b"loss",
    b"val_loss",
    b"epoch",
    b"\xc0\x80",
    b"\x1b[31m",
    "\u2028".encode(),
    b"Epoch 1" + b" " * 2000,
    b"Epoch [1" + b" \t" * 1500,
    b"step 1: train loss" + b" " * 3000,
    b"\x85",
    b"\x0c",
    b"\x0b",
]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "gb18030", "latin-1", "utf-8-sig", "cp1252", "utf-32"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

# neighbour files: name -> contents that have broken readers
CONFIG_JSON = [
    b'{"vocab_size": 50257, "model_type": "gpt2", "n_layer": 2}',
    b'{"vocab_size": ' + HUGE.encode() + b"}",
    b'{"vocab_size": 1e400}',
    b'{"vocab_size": -5}',
    b'{"vocab_size": "big"}',
    b'{"vocab_size": true}',
    b"[1, 2]",
    b'{"text_config": {"vocab_size": 1e308}}',
    b'{"resid_pdrop": 1e400}',
    b'{"dropout": "x"}',
    b"[" * 100000,
    b"\x00\x01\x02",
    b'{"vocab_size": 100',
    b"\xff\xfe{\x00}\x00",
    b"",
    b'{"vocab_size": NaN, "hidden_dropout_prob": Infinity}',
]
HPARAMS_YAML = [
    b"vocab_size: 100\n",
    b"vocab_size: !!int xyz\n",
    b"t: !!timestamp 2001-13-45\n",
    b"x: !!float abc\n",
    b"b: !!binary '!!!'\n",
    b"v: !!python/object/apply:os.system ['echo hacked']\n",
    b"a: &a [*a]\n",
    b"vocab_size: " + HUGE.encode() + b"\n",
    b"vocab_size: 1e400\n",
    b"vocab_size: -3\n",
    b"- [" * 5000 + b"\n",
    b"k: [" + b"[" * 3000 + b"\n",
    b"\x00\x01",
    b"{{{\n",
    b"model:\n  vocab_size: .inf\n",
    b"vocab: 0x10\n",
    b"a: !!set {1, 2}\n",
    b"d: !!omap [1, 2]\n",
    b"u: !!str\n",
    b"c: 2001-02-30\n",
    b"x: !<tag:yaml.org,2002:int> '1_000'\n",
    b"x: !!bool maybe\n",
]
FLAG_VALUES = {
    "--vocab-size": ["100", "2", "1", "0", "-1", "50257", "1000000000", "1000000001", "9" * 30, HUGE, "1e3", "x", ""],
    "--floor": ["3.5", "0", "-1", "1e308", "1e-320", "nan", "inf", "-inf", "100", "100.0001", "x", "4.6"],
    "--random-low": ["0", "1", "-1", "99", "9" * 30, "x"],
    "--fail-on": ["broken", "overfitting", "never", "x"],
    "--format": FORMATS + ["bogus", ""],
    "--lang": ["en", "zh", "fr", "ZH", ""],
    "--step-col": ["step", "iter", "nope", "a\nb", "\x1b[31m"],
    "--train-col": ["loss", "train_loss", "nope", "a\nb"],
    "--val-col": ["val_loss", "eval_loss", "nope", "\u2028"],
    "--train-tag": ["train/loss", "loss", "nope", "a\nb"],
    "--val-tag": ["val/loss", "nope"],
    "--size": ["1000x560", "0x0", "99999999x1", "x"],
}


# --------------------------------------------------------------------------- the lossdoc seed


def lossdoc_log() -> bytes:
    recs = [
        {
            "type": "run",
            "schema": "lossdoc.run/1",
            "run_id": "fuzz",
            "vocab_size": 64,
            "batch_tokens": 120,
            "data": {
                "kind": "dummy",
                "token_low": 1,
                "token_high": 64,
                "entropy_floor": 4.143134726391533,
                "val_floor_sample": 4.15,
                "unigram_entropy": 4.1,
                "unigram_xent": 4.2,
            },
            "model": {"d_model": 32, "dropout": 0.0, "init_logit_std": 0.5863019699779287},
            "config": {"epochs": 2},
        },
        {"type": "epoch", "epoch": 0, "step": 0, "train_loss": 4.3169, "val_loss": 4.3518, "val_tokens": 360},
    ]
    losses = [4.33, 4.31, 4.29, 4.30, 4.27, 4.26, 4.28, 4.25, 4.24, 4.22, 4.23, 4.21, 4.20, 4.22, 4.19, 4.18, 4.2, 4.17]
    for i, loss in enumerate(losses, start=1):
        recs.append({"type": "batch", "epoch": 1 + (i > 9), "step": i, "loss": loss, "lr": 0.003, "grad_norm": 0.5 + i / 100, "tokens": 120})
        if i == 9:
            recs.append({"type": "epoch", "epoch": 1, "step": 9, "train_loss": 4.2878, "val_loss": 4.3111, "val_tokens": 360})
            recs.append({"type": "event", "kind": "resumed", "step": 9, "message": "resumed"})
    recs.append({"type": "epoch", "epoch": 2, "step": 18, "train_loss": 4.2067, "val_loss": 4.2868, "val_tokens": 360})
    recs.append({"type": "end", "status": "completed"})
    return "".join(json.dumps(r) + "\n" for r in recs).encode()


def seeds() -> dict[str, tuple[bytes, str, str]]:
    out = {name: ((FIX / src).read_bytes(), dest, target) for name, src, dest, target in SEEDS if (FIX / src).is_file()}
    out["lossdoc"] = (lossdoc_log(), "run/metrics.jsonl", "folder")
    out["lossdoc_file"] = (lossdoc_log(), "metrics.jsonl", "file")
    out["jsonl"] = (
        "".join(
            json.dumps({"step": s, "loss": round(4.6 - 0.01 * s, 4)})
            + "\n"
            + (json.dumps({"step": s, "val_loss": round(4.5 - 0.01 * s, 4)}) + "\n" if s % 20 == 19 else "")
            for s in range(60)
        ).encode(),
        "log.jsonl",
        "file",
    )
    # the formats people's own scripts write (docs/formats.md: json, console, whitespace and bare tables, mixed JSONL)
    losses = [round(4.6 * math.exp(-s / 40) + 1.2, 4) for s in range(60)]
    out["console"] = (
        "".join(
            f"2025-03-02 05:16:{s % 60:02d},348 - INFO - Epoch {1 + s // 20} - Batch loss: {x}\n"
            + (f"Epoch {1 + s // 20} - Average Train Loss: {x}\n" if s % 20 == 19 else "")
            for s, x in enumerate(losses)
        ).encode(),
        "train.log",
        "file",
    )
    out["console_steps"] = (
        "".join(
            f"step {10 * s} | loss {x} | lr 3e-4\n" + (f"step {10 * s} | val_loss {x + 0.1}\n" if s % 15 == 14 else "") for s, x in enumerate(losses)
        ).encode(),
        "out.log",
        "file",
    )
    out["build_nanogpt"] = (
        "".join(f"{s} train {x:.6f}\n" + (f"{s} val {x + 0.05:.4f}\n{s} hella 0.25\n" if s % 20 == 0 else "") for s, x in enumerate(losses)).encode(),
        "log/log.txt",
        "folder",
    )
    out["json_columns"] = (json.dumps({"step": list(range(60)), "train_loss": losses}, indent=1).encode(), "history.json", "file")
    out["json_records"] = (json.dumps([{"iter": s, "loss": x} for s, x in enumerate(losses)]).encode(), "log.json", "file")
    out["whitespace"] = (
        ("step  loss  val_loss\n" + "".join(f"{s}  {x}  {x + 0.1 if s % 20 == 19 else ''}\n" for s, x in enumerate(losses))).encode(),
        "loss.txt",
        "file",
    )
    out["bare"] = ("".join(f"{s} {x}\n" for s, x in enumerate(losses)).encode(), "losses.txt", "file")
    out["jsonl_mixed"] = (
        "".join(
            json.dumps({"step": s, "loss": x})
            + "\n"
            + (json.dumps({"epoch": s // 20 + 1, "step": s, "train_loss": x, "val_loss": x + 0.1}) + "\n" if s % 20 == 19 else "")
            for s, x in enumerate(losses)
        ).encode(),
        "train_log.jsonl",
        "file",
    )
    return out


# --------------------------------------------------------------------------- mutations


def _tfrecord_lie(data: bytes, rng: random.Random) -> bytes:
    """Rewrite one record's length (with a valid length CRC, so the reader believes it) or break a CRC."""
    from lossdoc.runlog.readers.tensorboard import masked_crc

    offsets = []
    i = 0
    while i + 12 <= len(data) and len(offsets) < 200:
        (length,) = struct.unpack_from("<Q", data, i)
        offsets.append(i)
        i += 16 + length
    if not offsets:
        return data
    at = rng.choice(offsets)
    kind = rng.randrange(3)
    if kind == 0:  # a huge length, believable
        length = rng.choice([2**63, 2**40, 2**31, 10**9, 60 * 2**20, len(data) * 2, 0])
        head = struct.pack("<Q", length)
        return data[:at] + head + struct.pack("<I", masked_crc(head)) + data[at + 12 :]
    if kind == 1:  # a broken length CRC
        return data[: at + 8] + b"\x00\x00\x00\x00" + data[at + 12 :]
    return data[: at + 12] + bytes(rng.randrange(256) for _ in range(8)) + data[at + 20 :]  # a garbled payload start


def mutate(data: bytes, rng: random.Random, binary: bool) -> tuple[bytes, list[str]]:
    ops = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(
            ["truncate", "flip", "insert", "number", "delete", "duplicate", "swap_lines", "encode", "crlf", "nul", "tfrecord", "hostile_line"]
        )
        ops.append(kind)
        at = rng.randrange(len(data) + 1) if data else 0
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
        elif kind == "insert":
            data = data[:at] + rng.choice(HOSTILE_TOKENS) + data[at:]
        elif kind == "number":
            found = list(_NUMBER.finditer(data))
            if found:
                m = rng.choice(found)
                data = data[: m.start()] + rng.choice(HOSTILE_TOKENS[:32]) + data[m.end() :]
        elif kind == "delete":
            data = data[:at] + data[at + rng.randint(1, 400) :]
        elif kind == "duplicate":
            n = rng.randint(1, 400)
            data = data[:at] + data[at : at + n] * rng.randint(2, 5) + data[at + n :]
        elif kind == "swap_lines":
            lines = data.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif kind == "encode" and not binary:
            data = data.decode("utf-8", errors="replace").encode(rng.choice(ENCODINGS), errors="replace")
        elif kind == "crlf" and not binary:
            data = data.replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n", b"\x85"]))
        elif kind == "nul":
            data = data[:at] + b"\x00" * rng.randint(1, 8) + data[at:]
        elif kind == "tfrecord" and binary:
            data = _tfrecord_lie(data, rng)
        elif kind == "hostile_line" and not binary:
            line = rng.choice(
                [
                    b"Epoch 1" + b" " * rng.randint(500, 4000),
                    b"Epoch [" + b" " * 3000,
                    b"Epoch 1 ]" + b" ," * 1500,
                    b"step 1: train loss" + b" " * 3000 + b"x",
                    b"iter 1: loss " + b"9" * 6000,
                    b"Epoch " + HUGE.encode() + b", Batch 1/2, Loss: 1",
                    b"Val Loss:" + b" " * 3000,
                    "第".encode() + b" " * 3000,
                    b"x" * 70000,
                    b"9" * 6000 + b"," + b"1" * 6000,
                ]
            )
            data = data[:at] + b"\n" + line + b"\n" + data[at:]
    return data, ops


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    kind: str
    detail: str
    target: str  # relative to the case folder ("" = the folder itself)
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    special: list[tuple[str, str]] = field(default_factory=list)  # (kind, relative path): fifo | devzero | dir | deep:N | many:N | loop


def _flags(rng: random.Random, as_json: bool) -> list[str]:
    args: list[str] = []
    if as_json:
        args.append("--json")
    for flag in rng.sample(sorted(FLAG_VALUES), rng.choice([0, 0, 0, 1, 1, 2, 3])):
        args += [flag, rng.choice(FLAG_VALUES[flag])]
    if rng.random() < 0.15:
        args.append("--random")
        if "--vocab-size" not in args:
            args += ["--vocab-size", rng.choice(["64", "100", "50257"])]
    if rng.random() < 0.05 and not as_json:
        args.append("--plot")
    return args


def make_case(rng: random.Random, seed_logs: dict[str, tuple[bytes, str, str]]) -> Case:
    roll = rng.random()
    as_json = rng.random() < 0.8
    if roll < 0.62:  # a mutated log
        name = rng.choice(sorted(seed_logs))
        data, dest, target = seed_logs[name]
        binary = "tb" in name or "tensorboard" in name
        data, ops = mutate(data, rng, binary)
        files = {dest: data}
        args = _flags(rng, as_json)
        if rng.random() < 0.2:  # a hostile neighbour too
            nb = "config.json" if name.startswith("hf") else "hparams.yaml"
            where = str(Path(dest).parent / nb)
            files[where] = rng.choice(CONFIG_JSON if nb == "config.json" else HPARAMS_YAML)
        return Case("mutated", f"{name} {'+'.join(ops)}", dest if target == "file" else dest.split("/")[0], args, files)
    if roll < 0.72:  # hostile neighbours around a good log
        choice = rng.randrange(4)
        if choice == 0:
            data, dest, _ = seed_logs["hf_folder"]
            files = {dest: data}
            nb = rng.choice(["out/config.json", "out/checkpoint-64/config.json"])
            content = rng.choice(CONFIG_JSON)
            special = [(rng.choice(["fifo", "devzero", "dir"]), nb)] if rng.random() < 0.25 else []
            if not special:
                files[nb] = content
            return Case("neighbour", f"config.json {content[:40]!r} {special}", "out", _flags(rng, as_json), files, special)
        if choice == 1:
            data, dest, _ = seed_logs["lightning"]
            nb = str(Path(dest).parent / "hparams.yaml")
        elif choice == 2:
            data, dest, _ = seed_logs["tensorboard"]
            nb = str(Path(dest).parent / "hparams.yaml")
        else:
            data, dest, _ = seed_logs["lightning_file"]
            nb = "hparams.yaml"
        files = {dest: data}
        content = rng.choice(HPARAMS_YAML)
        special = [(rng.choice(["fifo", "devzero", "dir"]), nb)] if rng.random() < 0.25 else []
        if not special:
            files[nb] = content
        target = dest if choice == 3 else dest.split("/")[0]
        return Case("neighbour", f"hparams.yaml {content[:40]!r} {special}", target, _flags(rng, as_json), files, special)
    if roll < 0.82:  # special files and folders
        choice = rng.randrange(8)
        if choice == 0:
            return Case("special", "fifo", "log.txt", _flags(rng, as_json), special=[("fifo", "log.txt")])
        if choice == 1:
            fmt = rng.choice(FORMATS + [None])
            return Case(
                "special",
                f"devzero --format {fmt}",
                "zero.log",
                (["--format", fmt] if fmt else []) + _flags(rng, as_json),
                special=[("devzero", "zero.log")],
            )
        if choice == 2:
            fmt = rng.choice(FORMATS + [None])
            name = rng.choice(["metrics.jsonl", "trainer_state.json", "metrics.csv", "events.out.tfevents.1.x.0"])
            return Case(
                "special",
                f"devzero in a folder as {name} --format {fmt}",
                "d",
                (["--format", fmt] if fmt else []) + _flags(rng, as_json),
                special=[("devzero", f"d/{name}")],
            )
        if choice == 3:
            depth = rng.choice([40, 300, 1000, 1500])
            data, _, _ = seed_logs["tensorboard"]
            files = {"deep/events.out.tfevents.1.top.0": data} if rng.random() < 0.5 else {}
            return Case("special", f"deep folder {depth}", "deep", _flags(rng, as_json), files, special=[(f"deep:{depth}", "deep")])
        if choice == 4:
            n = rng.choice([500, 3000])
            return Case("special", f"folder with {n} entries", "many", _flags(rng, as_json), special=[(f"many:{n}", "many")])
        if choice == 5:
            return Case("special", "symlink loop", "loop", _flags(rng, as_json), special=[("loop", "loop")])
        if choice == 6:
            fmt = rng.choice(FORMATS)
            return Case(
                "special", f"a folder forced as --format {fmt}", "empty", ["--format", fmt] + _flags(rng, as_json), special=[("dir", "empty")]
            )
        data, dest, target = seed_logs["lossdoc"]
        return Case("special", "metrics.jsonl is a fifo in a folder", "run", _flags(rng, as_json), special=[("fifo", "run/metrics.jsonl")])
    if roll < 0.9:  # hostile file names
        name = rng.choice(
            [
                "a\nb.txt",
                "a\rb.log",
                "\x1b[31mred.log",
                "tab\tname.csv",
                "line\u2028sep.log",
                "-dash.log",
                " space.log",
                "a" * 240 + ".log",
                "bad\udcff\udcfe.log",
                "nul.log",
                "中文.log",
                "x\x7f.log",
            ]
        )
        key = rng.choice(["seed_en", "nanogpt", "csv", "lossdoc_file", "hf_state", "jsonl"])
        data, _, _ = seed_logs[key]
        if rng.random() < 0.5:
            data, _ = mutate(data, rng, False)
        target = name if not name.startswith("-") else "./" + name
        return Case("filename", f"{name!r} ({key})", target, _flags(rng, as_json), {name: data})
    if roll < 0.96:  # random bytes or log-like text under a name a reader looks for
        name = rng.choice(
            [
                "log.txt",
                "train.log",
                "trainer_state.json",
                "metrics.csv",
                "log.csv",
                "log.jsonl",
                "metrics.jsonl",
                "events.out.tfevents.1.x.0",
                "noext",
            ]
        )
        if rng.random() < 0.5:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000)))
        else:
            toks = [
                "0",
                "1",
                "9",
                ".",
                "-",
                "+",
                "e",
                ":",
                ",",
                " ",
                "\t",
                "\n",
                "{",
                "}",
                "[",
                "]",
                '"',
                "loss",
                "step",
                "epoch",
                "val",
                "train",
                "iter",
                "Batch",
                "Epoch",
                "NaN",
                "inf",
                "损失",
                "验证",
                "Loss:",
                "val_loss",
                "=",
                "/",
            ]
            data = "".join(rng.choice(toks) for _ in range(rng.randint(0, 600))).encode()
        return Case("random", f"{len(data)} bytes as {name}", name, _flags(rng, as_json), {name: data})
    # hostile flags on a good log
    name = rng.choice(sorted(seed_logs))
    data, dest, target = seed_logs[name]
    args = ["--json"] if as_json else []
    for flag in rng.sample(sorted(FLAG_VALUES), rng.randint(1, 5)):
        args += [flag, rng.choice(FLAG_VALUES[flag])]
    if rng.random() < 0.3:
        args += ["--random"]
    if rng.random() < 0.2:
        args += ["--report", rng.choice(["out.html", "out.txt", "nodir/out.html"])]
    return Case("flags", " ".join(args)[:80], dest if target == "file" else dest.split("/")[0], args, {dest: data})


# --------------------------------------------------------------------------- running


def _deep(path: Path, depth: int) -> None:
    cur = str(path)
    os.makedirs(cur, exist_ok=True)
    for _ in range(depth):
        cur = os.path.join(cur, "d")
        try:
            os.mkdir(cur)
        except OSError:  # the path got too long for the system: as deep as it goes
            break


def place(case: Case, folder: Path) -> Path:
    for rel, data in case.files.items():
        p = folder / rel  # a name with lone surrogates becomes those raw bytes (os.fsencode)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for kind, rel in case.special:
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "devzero":
            os.symlink("/dev/zero", p)
        elif kind == "dir":
            p.mkdir(exist_ok=True)
        elif kind == "loop":
            p.mkdir(exist_ok=True)
            os.symlink(".", p / "self")
            os.symlink(str(p), p / "abs")
        elif kind.startswith("deep:"):
            _deep(p, int(kind.split(":")[1]))
            if rng_tail := case.files.get("deep/events.out.tfevents.1.top.0"):
                bottom = p
                while (bottom / "d").is_dir():
                    bottom = bottom / "d"
                (bottom / "events.out.tfevents.1.bottom.0").write_bytes(rng_tail)
        elif kind.startswith("many:"):
            p.mkdir(exist_ok=True)
            for i in range(int(kind.split(":")[1])):
                (p / f"f{i}.txt").write_bytes(b"x")
    return folder / case.target if case.target else folder


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so that the CLI's last-resort handler cannot swallow it."""


def _alarm(signum, frame):  # noqa: ARG001
    raise _Timeout()


def run_in_process(args: list[str], timeout: float) -> tuple[int | None, str, str, float]:
    from lossdoc.cli import run

    so, se = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    t = time.perf_counter()
    rc: int | None
    try:
        with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
            rc = run(["explain", *args])
    except _Timeout:
        rc = None
    except BaseException as exc:  # noqa: BLE001 - anything that escapes run() breaks the contract
        rc = -1
        se.write(f"ESCAPED {type(exc).__name__}: {exc}\nTraceback (escaped)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return rc, so.getvalue(), se.getvalue(), time.perf_counter() - t


def run_subprocess(args: list[str], timeout: float, cwd: Path) -> tuple[int | None, str, str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")
    env.pop("LOSSDOC_DEBUG", None)
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "lossdoc", "explain", *args], capture_output=True, timeout=timeout, cwd=cwd, env=env)
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"), time.perf_counter() - t
    except subprocess.TimeoutExpired:
        return None, "", "", time.perf_counter() - t


def judge(rc: int | None, out: str, err: str, args: list[str]) -> str | None:
    """None when the case kept the contract, else what broke."""
    if rc is None:
        return "timeout"
    if "Traceback" in out + err:
        return "traceback"
    if rc not in (0, 1, 2):
        return f"exit code {rc}"
    if rc == 2:
        lines = err.rstrip("\n").split("\n")
        if len(lines) != 1 or not lines[0].startswith("lossdoc: "):
            return f"{len(lines)} stderr lines"
        if "this is a bug in lossdoc" in err or "这是 lossdoc 的缺陷" in err:
            return "unexpected error"
        return None
    if err.strip():
        return "stderr with exit 0"
    if "--json" in args and "--plot" not in args:
        try:
            doc = json.loads(out)
        except ValueError:
            return "not one JSON document"
        if doc.get("verdict") not in VERDICTS:
            return "no verdict"
    return None


def _cleanup(folder: Path) -> None:
    subprocess.run(["rm", "-rf", "--", str(folder)], check=False)


def run_cases(
    cases: int,
    seed: int,
    *,
    cli_share: float = 0.02,
    timeout: float = 20.0,
    keep: Path | None = None,
    verbose: bool = False,
    only: set[int] | None = None,
) -> dict:
    """Generate and run ``cases`` cases; returns a summary dict (failures listed with their cases)."""
    rng = random.Random(seed)
    seed_logs = seeds()
    base = Path(tempfile.mkdtemp(prefix="lossdoc-fuzz-"))
    failures: list[dict] = []
    kinds: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    slow: list[tuple[float, str, int]] = []
    n_cli = 0
    cwd = os.getcwd()
    t0 = time.perf_counter()
    try:
        for i in range(cases):
            case = make_case(rng, seed_logs)
            through_cli = rng.random() < cli_share
            if only is not None and i not in only:
                continue
            folder = base / f"c{i}"
            folder.mkdir()
            try:
                target = place(case, folder)
            except OSError as exc:
                kinds["skipped (could not create)"] += 1
                if verbose:
                    print(f"case {i}: could not create: {exc}", file=sys.stderr)
                _cleanup(folder)
                continue
            args = [str(target), *case.args]
            size = sum(len(v) for v in case.files.values())
            os.chdir(folder)
            try:
                if through_cli:
                    n_cli += 1
                    rc, out, err, dt = run_subprocess(args, timeout + 10, folder)
                else:
                    rc, out, err, dt = run_in_process(args, timeout)
            finally:
                os.chdir(cwd)
            kinds[case.kind] += 1
            codes[str(rc)] += 1
            if size <= 10_240 and not case.special:
                slow.append((dt, f"{case.kind}: {case.detail}", i))
            problem = judge(rc, out, err, args)
            if problem:
                failures.append(
                    {
                        "case": i,
                        "kind": case.kind,
                        "detail": case.detail,
                        "args": case.args,
                        "target": case.target,
                        "problem": problem,
                        "rc": rc,
                        "stderr": err[-2000:],
                        "cli": through_cli,
                    }
                )
                if keep is not None:
                    dest = keep / f"case{i}"
                    _cleanup(dest)
                    shutil.copytree(folder, dest, symlinks=True, ignore_dangling_symlinks=True) if not case.special else dest.mkdir(parents=True)
                    (dest / "case.json").write_text(json.dumps(failures[-1], indent=1, ensure_ascii=True))
                if verbose:
                    print(f"FAIL case {i} [{case.kind}] {case.detail}: {problem}\n  {err.strip()[:300]}", file=sys.stderr)
            _cleanup(folder)
    finally:
        _cleanup(base)
    slow.sort(reverse=True)
    return {
        "cases": sum(kinds.values()),
        "seed": seed,
        "through_cli": n_cli,
        "failures": failures,
        "kinds": dict(kinds),
        "exit_codes": dict(codes),
        "seconds": round(time.perf_counter() - t0, 1),
        "slowest_small": [(round(d, 2), what, i) for d, what, i in slow[:5]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description="Fuzz `lossdoc explain` (see the module docstring).")
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli-share", type=float, default=0.02, help="share of cases run through `python -m lossdoc` in a subprocess")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per case before it counts as a hang")
    ap.add_argument("--keep", type=Path, default=None, help="copy failing cases here")
    ap.add_argument(
        "--only",
        type=lambda s: {int(x) for x in s.split(",")},
        default=None,
        help="run only these case numbers (comma-separated) of the same --seed: to reproduce a failure",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    summary = run_cases(args.cases, args.seed, cli_share=args.cli_share, timeout=args.timeout, keep=args.keep, verbose=args.verbose, only=args.only)
    problems = Counter(f["problem"] for f in summary["failures"])
    print(
        f"{summary['cases']} cases (seed {summary['seed']}, {summary['through_cli']} through the CLI in a subprocess) "
        f"in {summary['seconds']} s: {len(summary['failures'])} failures {dict(problems)}"
    )
    print(f"  kinds: {summary['kinds']}")
    print(f"  exit codes: {summary['exit_codes']}")
    print(f"  slowest inputs of at most 10 KB: {summary['slowest_small']}")
    for f in summary["failures"][:30]:
        print(f"  FAIL case {f['case']} [{f['kind']}] {f['detail']} {f['args']}: {f['problem']}: {f['stderr'].strip()[:200]}")
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
