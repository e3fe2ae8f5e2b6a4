"""Fuzzing `lossdoc explain` (docs/reliability.md): mutated real logs of every format and random
bytes. Whatever the input, the result is a diagnosis (exit 0) or one line on stderr (exit 2),
never a traceback, and memory grows at most in proportion to the file.

Most cases call the explain command's own function (``explain_command``, what the CLI runs after
parsing the flags) so that thousands fit in well under a minute; a share goes through the whole
CLI, ``lossdoc.cli.run``, which also checks the exit code and the one stderr line.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossdoc.cli import run
from lossdoc.cli.explain import explain_command
from lossdoc.errors import LossdocError
from lossdoc.runlog.writer import JsonlLogger

FIX = Path(__file__).resolve().parents[1] / "fixtures"

# (name, where the bytes go inside the case folder, what explain is pointed at: the file or the folder)
SEED_FILES = [
    ("seed_en", "seed_console/seed_en.txt", "console.txt", "file"),
    ("seed_zh", "seed_console/seed_zh.txt", "console.txt", "file"),
    ("seed_gb18030", "seed_console/seed_zh_gb18030.txt", "console.txt", "file"),
    ("seed_utf16", "seed_console/seed_zh_utf16.txt", "console.txt", "file"),
    ("seed_messy", "seed_console/seed_messy.txt", "console.txt", "file"),
    ("nanogpt", "nanogpt/exploding_lr.log", "train.log", "file"),
    ("hf_state", "hf_trainer/exploding_lr/trainer_state.json", "trainer_state.json", "file"),
    ("hf_folder", "hf_trainer/random_plateau/checkpoint-64/trainer_state.json", "checkpoint-64/trainer_state.json", "folder"),
    ("lightning", "lightning_csv/memorising_overfit/lightning_logs/version_0/metrics.csv", "lightning_logs/version_0/metrics.csv", "folder"),
    ("tensorboard", "tensorboard/exploding_lr/events.out.tfevents.1700000000.fixture.0", "events.out.tfevents.1700000000.fuzz.0", "folder"),
    ("tb_keras", "tensorboard/keras_layout/train/events.out.tfevents.1700000000.fixture.0", "events.out.tfevents.1700000000.fuzz.0", "file"),
    ("csv", "generic/counting_healthy.csv", "log.csv", "file"),
    ("keras_csv", "generic/keras_epochs.csv", "history.csv", "file"),
]


def _lossdoc_log() -> bytes:
    """A small lossdoc run.jsonl written by lossdoc's own logger (no training needed)."""
    folder = Path(tempfile.mkdtemp(prefix="lossdoc-fuzz-"))
    log = JsonlLogger(folder / "run.jsonl")
    log.log(
        {
            "type": "run",
            "schema": "lossdoc.run/1",
            "run_id": "fuzz",
            "vocab_size": 64,
            "batch_tokens": 120,
            "data": {"kind": "dummy", "token_low": 1, "token_high": 64, "num_samples": 96, "seq_len": 16, "entropy_floor": 4.143134726391533},
            "model": {"d_model": 32, "num_layers": 1, "num_heads": 2, "dropout": 0.0, "params": 17440, "init_logit_std": 0.5863019699779287},
            "config": {"epochs": 2, "lr": 0.003},
        }
    )
    log.log({"type": "epoch", "epoch": 0, "step": 0, "train_loss": 4.3169, "val_loss": 4.3518, "val_tokens": 360})
    losses = [4.33, 4.31, 4.29, 4.30, 4.27, 4.26, 4.28, 4.25, 4.24, 4.22, 4.23, 4.21, 4.20, 4.22, 4.19, 4.18, 4.2, 4.17]
    for i, loss in enumerate(losses, start=1):
        log.log(
            {
                "type": "batch",
                "epoch": 1 + (i > 9),
                "batch": (i - 1) % 9 + 1,
                "num_batches": 9,
                "step": i,
                "loss": loss,
                "lr": 0.003,
                "grad_norm": 0.5 + i / 100,
                "tokens": 120,
                "elapsed_s": i / 50,
            }
        )
        if i == 9:
            log.log({"type": "epoch", "epoch": 1, "step": 9, "train_loss": 4.2878, "val_loss": 4.3111, "val_tokens": 360, "is_best": True})
            log.log({"type": "event", "kind": "resumed", "step": 9, "message": "resumed"})
    log.log({"type": "epoch", "epoch": 2, "step": 18, "train_loss": 4.2067, "val_loss": 4.2868, "val_tokens": 360})
    log.log({"type": "end", "status": "completed", "epochs_completed": 2, "steps": 18, "skipped_steps": 0})
    log.close()
    data = (folder / "run.jsonl").read_bytes()
    shutil.rmtree(folder)
    return data


SEEDS: dict[str, tuple[bytes, str, str]] = {name: ((FIX / src).read_bytes(), dest, target) for name, src, dest, target in SEED_FILES}
SEEDS["lossdoc"] = (_lossdoc_log(), "run.jsonl", "folder")
SEEDS["jsonl"] = (
    "".join(
        json.dumps({"step": s, "epoch": 1 + s // 20, "loss": round(4.6 - 0.01 * s, 4), "lr": 1e-3})
        + "\n"
        + (json.dumps({"step": s, "epoch": 1 + s // 20, "val_loss": round(4.5 - 0.01 * s, 4)}) + "\n" if s % 20 == 19 else "")
        for s in range(60)
    ).encode(),
    "log.jsonl",
    "file",
)
SEEDS["lossdoc_file"] = (SEEDS["lossdoc"][0], "run.jsonl", "file")

HOSTILE = [
    b"NaN",
    b"nan",
    b"-nan",
    b"Infinity",
    b"-Infinity",
    b"inf",
    b"-inf",
    b'"NaN"',
    b'"Infinity"',
    b'"-Infinity"',
    b"1e308",
    b"-1e308",
    b"1.8e308",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"9" * 400,
    b"-" + b"9" * 40,
    b"-0",
    b"0",
    b"-1",
    b"1e-300",
    b"4.9e-324",
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
    b"   ",
    b"[" * 3000,
    b"Epoch",
    b"Loss:",
    b"iter",
    b"step",
    b"loss",
    b"val_loss",
    b"epoch",
    b"\xc0\x80",
]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "gb18030", "latin-1", "utf-8-sig", "cp1252", "utf-32"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

_op = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(HOSTILE)),
    st.tuples(st.just("number"), st.integers(0, 400), st.sampled_from(HOSTILE)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 400)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 400)),
    st.tuples(st.just("swap_lines"), st.integers(0, 200), st.integers(0, 200)),
    st.tuples(st.just("encode"), st.sampled_from(ENCODINGS)),
)


def mutate(data: bytes, ops) -> bytes:
    for op in ops:
        kind = op[0]
        at = int(op[1] * len(data)) if isinstance(op[1], float) else 0
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([op[2]]) + data[at + 1 :]
        elif kind == "insert":
            data = data[:at] + op[2] + data[at:]
        elif kind == "number":
            found = list(_NUMBER.finditer(data))
            if found:
                m = found[op[1] % len(found)]
                data = data[: m.start()] + op[2] + data[m.end() :]
        elif kind == "delete":
            data = data[:at] + data[at + op[2] :]
        elif kind == "duplicate":
            data = data[:at] + data[at : at + op[2]] * 2 + data[at + op[2] :]
        elif kind == "swap_lines":
            lines = data.split(b"\n")
            i, j = op[1] % len(lines), op[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif kind == "encode":
            data = data.decode("utf-8", errors="replace").encode(op[1], errors="replace")
    return data


@pytest.fixture(scope="module")
def workdir():
    folder = Path(tempfile.mkdtemp(prefix="lossdoc-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


_counter = [0]


def place(workdir: Path, data: bytes, dest: str, target: str) -> Path:
    """Write the case into a fresh folder; return the path explain gets."""
    _counter[0] += 1
    case = workdir / f"case{_counter[0]}"
    (case / dest).parent.mkdir(parents=True, exist_ok=True)
    (case / dest).write_bytes(data)
    return case if target == "folder" else case / dest


OPTIONS = [
    dict(),
    dict(vocab_size=100, random=True),
    dict(vocab_size=2, random=True, random_low=1),
    dict(vocab_size=50000, floor=3.5),
]


def explain_fast(path: Path, *, as_json=True, lang="en", vocab_size=None, floor=None, random=False, random_low=None) -> tuple[int, str, str]:
    """What `lossdoc explain` does after parsing its flags, with run()'s handling of LossdocError."""
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try:
            explain_command(
                run_path=path,
                as_json=as_json,
                fail_on="never",
                vocab_size=vocab_size,
                floor=floor,
                random=random,
                random_low=random_low,
                pretrained=None,
                fmt=None,
                step_col=None,
                train_col=None,
                val_col=None,
                train_tag=None,
                val_tag=None,
                lang=lang,
                plot=False,
                report=None,
                size="1000x560",
            )
            rc = 0
        except LossdocError as exc:
            print(f"lossdoc: error: {exc.render(lang)}", file=se)
            rc = exc.exit_code
    return rc, so.getvalue(), se.getvalue()


def explain_cli(path: Path, *, as_json=True, lang="en", vocab_size=None, floor=None, random=False, random_low=None) -> tuple[int, str, str]:
    args = ["explain", str(path), "--lang", lang]
    args += ["--json"] if as_json else []
    args += ["--vocab-size", str(vocab_size)] if vocab_size is not None else []
    args += ["--floor", str(floor)] if floor is not None else []
    args += ["--random"] if random else []
    args += ["--random-low", str(random_low)] if random_low else []
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = run(args)  # run() itself must not raise
    return rc, so.getvalue(), se.getvalue()


def check(result: tuple[int, str, str], as_json: bool) -> None:
    rc, stdout, stderr = result
    assert rc in (0, 2), (rc, stderr)
    assert "Traceback" not in stdout + stderr
    if rc == 2:
        assert stdout == "", stdout[:300]
        lines = stderr.strip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("lossdoc: "), stderr[:500]
    else:
        assert stderr == "", stderr[:500]
        if as_json:
            doc = json.loads(stdout)  # one JSON document, even with NaN/huge numbers inside
            assert doc["verdict"] in ("broken", "overfitting", "expected-plateau", "converged", "still-learning", "inconclusive")
        else:
            assert "Verdict" in stdout or "结论" in stdout


@pytest.mark.slow  # a large fuzz run
@settings(max_examples=2200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    name=st.sampled_from(sorted(SEEDS)),
    ops=st.lists(_op, min_size=1, max_size=4),
    opt=st.integers(0, 7),
    human=st.integers(0, 9),
    lang=st.sampled_from(["en", "zh"]),
)
def test_mutated_logs_give_a_diagnosis_or_one_line(workdir, name, ops, opt, human, lang):
    data, dest, target = SEEDS[name]
    path = place(workdir, mutate(data, ops), dest, target)
    options = OPTIONS[opt] if opt < len(OPTIONS) else {}  # half the cases without flags
    as_json = human != 0  # one in ten renders the human report
    check(explain_fast(path, as_json=as_json, lang=lang, **options), as_json)


@pytest.mark.slow  # a large fuzz run
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SEEDS)), ops=st.lists(_op, min_size=1, max_size=3), opt=st.integers(0, 3))
def test_mutated_logs_through_the_whole_cli(workdir, name, ops, opt):
    data, dest, target = SEEDS[name]
    path = place(workdir, mutate(data, ops), dest, target)
    check(explain_cli(path, **OPTIONS[opt]), True)


_TOKENS = list("0123456789.-+eE:,;=| \t\n\r{}[]\"'abcdefghijklmnopqrstuvwxyz_/%") + [
    "loss",
    "step",
    "epoch",
    "val",
    "train",
    "iter",
    "Batch",
    "NaN",
    "inf",
    "损失",
    "验证",
]
_TEXTY = st.lists(st.sampled_from(_TOKENS), max_size=400).map("".join)
_NAMES = [
    "log.txt",
    "train.log",
    "trainer_state.json",
    "metrics.csv",
    "log.csv",
    "log.jsonl",
    "run.jsonl",
    "metrics.jsonl",
    "events.out.tfevents.1.x.0",
    "noext",
]


@pytest.mark.slow  # a large fuzz run
@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(st.binary(max_size=3000), _TEXTY.map(lambda s: s.encode("utf-8"))),
    filename=st.sampled_from(_NAMES),
    folder=st.booleans(),
    opt=st.integers(0, 5),
)
def test_random_inputs_give_a_diagnosis_or_one_line(workdir, data, filename, folder, opt):
    path = place(workdir, data, filename, "folder" if folder else "file")
    check(explain_fast(path, **(OPTIONS[opt] if opt < len(OPTIONS) else {})), True)


# --------------------------------------------------------------------------- enormous inputs, bounded memory

BIG = 4 * 1024 * 1024


def _big_cases() -> list[tuple[str, bytes, str, str]]:
    cases = []
    for name in ("seed_en", "nanogpt", "csv", "jsonl", "lossdoc", "hf_state", "lightning"):
        data, dest, target = SEEDS[name]
        mid = data.find(b"\n", len(data) // 2) + 1
        cases.append((f"{name}-line", data[:mid] + b"9" * BIG + b"\n" + data[mid:], dest, target))
    data, dest, target = SEEDS["lossdoc"]
    cases.append(("lossdoc-string", data + b'{"type":"event","kind":"x","step":1,"message":"' + b"x" * BIG + b'"}\n', dest, target))
    cases.append(("lossdoc-nesting", data + b"[" * BIG + b"\n", dest, target))
    cases.append(("one-line", b"Epoch 1, Batch 1/2, Loss: 9.3 " * (BIG // 30), "console.txt", "file"))
    cases.append(("no-newline-binary", bytes(range(1, 256)) * (BIG // 255), "log.txt", "file"))
    return cases


@pytest.mark.parametrize("name, data, dest, target", _big_cases(), ids=lambda v: v if isinstance(v, str) and "/" not in v and "." not in v else "")
def test_enormous_lines_are_handled_in_bounded_memory(workdir, name, data, dest, target):
    path = place(workdir, data, dest, target)
    tracemalloc.start()
    try:
        result = explain_fast(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check(result, True)
    assert peak < 12 * len(data) + 32 * 2**20, f"peak {peak / 2**20:.0f} MiB for a {len(data) / 2**20:.0f} MiB file"


def test_seeds_themselves_explain_with_a_verdict(workdir):
    # the mutations start from inputs that work: each seed gives a diagnosis
    for name, (data, dest, target) in SEEDS.items():
        rc, out, err = explain_fast(place(workdir, data, dest, target))
        assert rc == 0, (name, err)
        assert json.loads(out)["verdict"]


# --------------------------------------------------------------------------- regressions found by fuzzing

HUGE = "9" * 400  # an integer far beyond the float range
_LOSSDOC_HEADER = SEEDS["lossdoc"][0].split(b"\n")[0].decode()
REGRESSIONS = {
    # lightning: a NaN / infinite epoch on an evaluation row; a step of 1e308 (int(1e308) + 1 is not a float key)
    "lightning-nonfinite-epoch": (
        "epoch,step,train_loss,val_loss\n0,0,4.6,\n0,1,4.5,\nNaN,2,,4.4\ninf,3,,4.3\n0,1e308,4.2,\n1,5,4.1,\n1,6,,4.0\n",
        "lightning_logs/version_0/metrics.csv",
        "folder",
    ),
    # lossdoc: an infinite step, a step and an epoch beyond the float range, an absurd vocabulary size
    "lossdoc-huge-numbers": (
        "\n".join(
            [
                _LOSSDOC_HEADER.replace('"vocab_size":64', f'"vocab_size":{HUGE}'),
                '{"type":"batch","epoch":1,"step":1e400,"loss":4.3}',
                f'{{"type":"batch","epoch":1,"step":{HUGE},"loss":4.2}}',
                '{"type":"batch","epoch":1,"step":1,"loss":4.3}',
                '{"type":"batch","epoch":1,"step":2,"loss":4.2}',
                f'{{"type":"epoch","epoch":{HUGE},"step":2,"train_loss":4.2,"val_loss":4.1}}',
                '{"type":"epoch","epoch":1,"step":2,"train_loss":4.2,"val_loss":4.1}',
            ]
        )
        + "\n",
        "run.jsonl",
        "file",
    ),
    # HF Trainer: steps of -1e400 (-inf in JSON) and beyond the float range; an infinite epoch on an evaluation
    "hf-nonfinite-step": (
        json.dumps(
            {
                "log_history": [
                    {"step": 1, "loss": 4.6, "epoch": 0.1},
                    {"step": 2, "loss": 4.5, "epoch": 0.2},
                    {"step": 3, "eval_loss": 4.4, "epoch": 1.0},
                    {"step": 4, "eval_loss": 4.3, "epoch": 2.0},
                    {"step": 5, "eval_loss": 4.2, "epoch": 3.0},
                ]
            }
        )
        .replace('"epoch": 3.0', '"epoch": Infinity')
        .replace('"step": 1,', '"step": -1e400,')
        .replace('"step": 2,', f'"step": {HUGE},'),
        "trainer_state.json",
        "file",
    ),
    # the seed's console and nanoGPT: epoch and iteration numbers beyond the float range
    "seed-huge-epoch": (
        f"Epoch 1, Batch 1/2, Loss: 9.3\nEpoch {HUGE}, Batch 1/2, Loss: 9.2\nEpoch {HUGE}, Batch 2/2, Loss: 9.1\n验证损失: 9.0\n",
        "console.txt",
        "file",
    ),
    "nanogpt-huge-iter": (
        f"iter 0: loss 4.5, time 1ms\niter {HUGE}: loss 4.4, time 1ms\nstep {HUGE}: train loss 4.3, val loss 4.2\n",
        "train.log",
        "file",
    ),
    # evaluations at epochs +-1.7e308: the trend's span overflows to inf
    "csv-huge-epochs": ("epoch,loss,val_loss\n1,4.6,4.5\n2,4.5,4.4\n1.7e308,4.4,4.3\n-1.7e308,4.3,4.2\n", "history.csv", "file"),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
@pytest.mark.parametrize("opt", range(len(OPTIONS)))
def test_regressions_found_by_fuzzing(workdir, case, opt, recwarn):
    text, dest, target = REGRESSIONS[case]
    path = place(workdir, text.encode("utf-8"), dest, target)
    check(explain_fast(path, **OPTIONS[opt]), True)
    check(explain_fast(path, as_json=False, lang="zh", **OPTIONS[opt]), False)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no numpy overflow noise either


def test_a_vocab_size_flag_beyond_any_vocabulary_is_one_line(workdir):
    path = place(workdir, SEEDS["nanogpt"][0], "train.log", "file")
    rc, out, err = explain_cli(path, vocab_size=10**30)
    check((rc, out, err), True)
    assert rc == 2 and "--vocab-size" in err


def test_numbers_beyond_the_float_range_are_read_not_raised():
    from lossdoc.runlog.readers._common import batch_series, epoch_series, to_float

    assert to_float(10**400) == float("inf") and to_float(-(10**400)) == float("-inf")
    b = batch_series({10**400: (1.0, 4.0, 0.0, 0.0, 0.0), int(1e308) + 1: (1.0, 4.1, 0.0, 0.0, 0.0), 3: (1.0, 4.2, 0.0, 0.0, 0.0)})
    assert b.step.tolist() == [3.0, 1e308] and b.loss.tolist() == [4.2, 4.1]  # the unrepresentable step is dropped
    e = epoch_series([(10**400, 5, 4.0, 4.1, 0.0), (1.0, float("inf"), 4.0, 4.2, 0.0)])
    assert e.val_loss.tolist() == [4.1, 4.2] and all(x != x for x in e.epoch[:1]) and e.step[0] == 5 and e.step[1] != e.step[1]
