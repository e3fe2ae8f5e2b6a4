"""lossdoc.RunLogger in a plain PyTorch loop: the log explain reads back, its schema, a failed write."""

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import lossdoc
import lossdoc.runlog.readers
import lossdoc.runlog.readers.lossdoc_jsonl
from lossdoc.cli import app
from lossdoc.runlog.logger import RunLogExistsError, RunLoggerWarning
from tests.conftest import run_schema_validator

ROOT = Path(__file__).resolve().parents[2]
V, T = 64, 16


class TinyLM(torch.nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.emb = torch.nn.Embedding(V, d)
        self.pos = torch.nn.Embedding(T, d)
        layer = torch.nn.TransformerEncoderLayer(d, 2, 64, dropout=0.0, batch_first=True)
        self.body = torch.nn.TransformerEncoder(layer, 1)
        self.head = torch.nn.Linear(d, V)

    def forward(self, x):
        mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        h = self.emb(x) + self.pos(torch.arange(x.shape[1]))
        return self.head(self.body(h, mask=mask, is_causal=True))


def _train(run_dir, make_batch, *, data, steps=150, eval_every=30, lr=3e-3):
    torch.manual_seed(0)
    model = TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    val = make_batch(64, torch.Generator().manual_seed(99))
    gen = torch.Generator().manual_seed(1)
    with lossdoc.RunLogger(run_dir, vocab_size=V, data=data, seq_len=T, dropout=0.0, batch_size=16) as log:
        for step in range(1, steps + 1):
            x = make_batch(16, gen)
            loss = loss_fn(model(x[:, :-1]).reshape(-1, V), x[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            g = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            log.batch(step, loss.item(), tokens=x[:, 1:].numel(), lr=opt.param_groups[0]["lr"], grad_norm=g.item())
            if step % eval_every == 0:
                with torch.no_grad():
                    vl = loss_fn(model(val[:, :-1]).reshape(-1, V), val[:, 1:].reshape(-1)).item()
                log.eval(step, vl, tokens=val[:, 1:].numel())
    return log


def _random(n, gen):
    return torch.randint(0, V, (n, T), generator=gen)


def _counting(n, gen):
    start = torch.randint(0, V, (n, 1), generator=gen)
    return (start + torch.arange(T)) % V


def _explain(path):
    res = CliRunner().invoke(app, ["explain", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_random_tokens_plateau_at_ln_v_without_flags(tmp_path):
    log = _train(tmp_path / "rand", _random, data="random")
    assert not log.failed
    out = _explain(tmp_path / "rand" / "run.jsonl")
    assert out["verdict"] == "expected-plateau", out
    assert math.isclose(out["facts"]["entropy_floor"], math.log(V), rel_tol=1e-9)
    facts = out["facts"]
    assert facts["missing"] == [] and facts["unchecked"] == [], facts  # no fact left for a flag to supply
    assert [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []
    assert facts["pretrained"] is False and facts["header"]["dropout"] == 0.0 and facts["header"]["batch_tokens"] == 16 * (T - 1)


def test_counting_text_is_healthy(tmp_path):
    _train(tmp_path / "count", _counting, data="text")
    out = _explain(tmp_path / "count" / "run.jsonl")
    assert out["verdict"] in ("still-learning", "converged"), out


def test_log_validates_against_the_schema(tmp_path):
    pytest.importorskip("jsonschema")
    _train(tmp_path / "s", _random, data="random", steps=20, eval_every=10)
    validator = run_schema_validator()
    lines = (tmp_path / "s" / "run.jsonl").read_text().splitlines()
    kinds = [json.loads(ln)["type"] for ln in lines]
    assert kinds[0] == "run" and kinds[-1] == "end" and kinds.count("batch") == 20 and kinds.count("epoch") == 2
    for ln in lines:
        validator.validate(json.loads(ln))
    head = json.loads(lines[0])
    assert head["data"]["kind"] == "dummy" and head["data"]["token_low"] == 0 and head["batch_tokens"] == 16 * (T - 1)
    assert head["pretrained"] is False and head["model"]["dropout"] == 0.0


def test_non_finite_losses_are_encoded(tmp_path):
    with lossdoc.RunLogger(tmp_path, vocab_size=V, data="random") as log:
        log.batch(1, float("nan"), tokens=10)
        log.batch(2, torch.tensor(float("inf")), tokens=10)
    recs = [json.loads(ln) for ln in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in recs if r["type"] == "batch"] == ["NaN", "Infinity"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_run_dir_under_dev_full_warns_once_and_the_loop_goes_on():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = _train("/dev/full/run", _random, data="random", steps=5, eval_every=2)  # not a folder: mkdir fails
    assert log.failed and log._steps == 5  # every step ran
    assert len([w for w in caught if "run log" in str(w.message)]) == 1


def test_a_symlinked_log_is_refused_with_one_warning(tmp_path):
    (tmp_path / "run").mkdir()
    os.symlink("/dev/null", tmp_path / "run" / "run.jsonl")  # the writer never follows a link (O_NOFOLLOW)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = _train(tmp_path / "run", _random, data="random", steps=5, eval_every=2)
    assert log.failed and len([w for w in caught if "run log" in str(w.message)]) == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_disk_full_write_warns_once(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = lossdoc.RunLogger(tmp_path, vocab_size=V, data="random")
        log._log._fh.close()
        log._log._fh = open("/dev/full", "a", encoding="utf-8")  # disk full mid-run: the next flush fails with ENOSPC
        for step in range(1, 6):
            log.batch(step, 4.0, tokens=10)
        log.close()
    assert log.failed and "No space left" in str(next(w.message for w in caught if "run log" in str(w.message)))
    assert len([w for w in caught if "run log" in str(w.message)]) == 1


def test_read_only_run_dir_warns_once(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores permissions")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            log = _train(d, _random, data="random", steps=4, eval_every=2)
    finally:
        d.chmod(0o700)
    assert log.failed and len([w for w in caught if "run log" in str(w.message)]) == 1


def test_import_lossdoc_runlogger_does_not_import_torch():
    code = "import sys, lossdoc; lossdoc.RunLogger; bad = [m for m in ('torch', 'rich', 'typer') if m in sys.modules]; print(bad)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


def _logged(run_dir, first, last, **kw):
    with lossdoc.RunLogger(run_dir, vocab_size=V, data="random", seq_len=T, batch_size=2, **kw) as log:
        for step in range(first, last + 1):
            log.batch(step, 4.0 + step / 100)
        log.eval(last, 4.1)


def test_a_second_logger_on_the_same_folder_is_refused_with_one_line(tmp_path):
    _logged(tmp_path, 1, 4)
    before = (tmp_path / "run.jsonl").read_bytes()
    with pytest.raises(RunLogExistsError) as exc:
        _logged(tmp_path, 1, 4)
    assert isinstance(exc.value, FileExistsError)
    msg = str(exc.value)
    assert "\n" not in msg and "already holds a run log" in msg and "overwrite=True" in msg and "resume=True" in msg
    assert (tmp_path / "run.jsonl").read_bytes() == before  # nothing was appended


def test_resume_true_continues_the_log_and_steps_going_backwards_warn(tmp_path):
    _logged(tmp_path, 1, 4)
    with pytest.warns(RunLoggerWarning, match="step 3 was logged after step 4") as caught:
        _logged(tmp_path, 3, 6, resume=True)  # the second run resumes from step 2 (steps 3-4 again)
    assert len([w for w in caught if "went backwards" in str(w.message)]) == 1
    recs = [json.loads(ln) for ln in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["type"] for r in recs].count("run") == 1
    assert [r["kind"] for r in recs if r["type"] == "event"] == ["resumed"]
    assert [r["epoch"] for r in recs if r["type"] == "epoch"] == [1, 2]
    assert recs[-1]["type"] == "end" and recs[-1]["steps"] == 6
    run = lossdoc.runlog.readers.read_run(tmp_path / "run.jsonl")
    assert list(run.batches.step) == [1, 2, 3, 4, 5, 6] and len(run.epochs) == 2


def test_a_resume_that_goes_on_from_the_last_step_does_not_warn(tmp_path):
    _logged(tmp_path, 1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RunLoggerWarning)
        _logged(tmp_path, 5, 8, resume=True)


def test_overwrite_true_replaces_the_log(tmp_path):
    _logged(tmp_path, 1, 4)
    _logged(tmp_path, 1, 3, overwrite=True)
    recs = [json.loads(ln) for ln in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["type"] for r in recs].count("run") == 1 and not any(r["type"] == "event" for r in recs)
    assert [r["step"] for r in recs if r["type"] == "batch"] == [1, 2, 3]
    with pytest.raises(ValueError, match="exclude each other"):
        lossdoc.RunLogger(tmp_path, vocab_size=V, resume=True, overwrite=True)


def test_resume_true_on_an_empty_folder_starts_a_log(tmp_path):
    _logged(tmp_path / "new", 1, 2, resume=True)
    recs = [json.loads(ln) for ln in (tmp_path / "new" / "run.jsonl").read_text().splitlines()]
    assert recs[0]["type"] == "run" and not any(r["type"] == "event" for r in recs)


def test_not_measured_is_left_out_and_a_measured_nan_is_kept(tmp_path):
    with lossdoc.RunLogger(tmp_path, vocab_size=V, data="random", seq_len=T, batch_size=2) as log:
        log.batch(1, 4.2)  # no lr, no gradient norm: not measured
        log.batch(2, 4.1, lr=1e-3, grad_norm=float("nan"))  # a real NaN gradient norm
        log.batch(3, 4.0, lr=1e-3, grad_norm=torch.tensor(0.5))
    text = (tmp_path / "run.jsonl").read_text()
    recs = [json.loads(ln) for ln in text.splitlines()]
    batches = [r for r in recs if r["type"] == "batch"]
    assert "lr" not in batches[0] and "grad_norm" not in batches[0]
    assert batches[1]["grad_norm"] == "NaN" and batches[2]["grad_norm"] == 0.5 and batches[1]["lr"] == 1e-3
    assert text.count('"NaN"') == 1
    for fast in (True, False):  # both reader paths read an absent field as not measured (NaN in the columns)
        run = lossdoc.runlog.readers.lossdoc_jsonl.read(tmp_path / "run.jsonl", fast=fast)
        assert list(run.batches.step) == [1, 2, 3] and list(run.batches.loss) == [4.2, 4.1, 4.0]
        assert math.isnan(run.batches.grad_norm[0]) and math.isnan(run.batches.lr[0]) and run.batches.grad_norm[2] == 0.5
    out = CliRunner().invoke(app, ["explain", str(tmp_path / "run.jsonl"), "--json"])
    assert out.exit_code == 0, out.output


def test_extra_scalars_are_kept_in_the_records_metrics_and_read_as_before(tmp_path):
    pytest.importorskip("jsonschema")
    with lossdoc.RunLogger(tmp_path, vocab_size=V, data="random", seq_len=T, batch_size=2) as log:
        log.batch(1, 4.2, lr=1e-3, accuracy=torch.tensor(0.25), perplexity=66.7)
        log.batch(2, 4.1, lr=1e-3, accuracy=float("nan"), note="not a number")  # a measured NaN stays; a string is no scalar
        log.batch(3, 4.0)
        log.eval(3, 4.05, tokens=100, val_accuracy=0.3)
    recs = [json.loads(ln) for ln in (tmp_path / "run.jsonl").read_text().splitlines()]
    batches = [r for r in recs if r["type"] == "batch"]
    assert batches[0]["metrics"] == {"accuracy": 0.25, "perplexity": 66.7} and batches[0]["loss"] == 4.2
    assert batches[1]["metrics"] == {"accuracy": "NaN"} and "metrics" not in batches[2]
    (ev,) = [r for r in recs if r["type"] == "epoch"]
    assert ev["metrics"] == {"val_accuracy": 0.3} and ev["val_loss"] == 4.05
    validator = run_schema_validator()
    for rec in recs:
        validator.validate(rec)
    for fast in (True, False):  # the readers read the losses as they would without the extra scalars
        run = lossdoc.runlog.readers.lossdoc_jsonl.read(tmp_path / "run.jsonl", fast=fast)
        assert list(run.batches.loss) == [4.2, 4.1, 4.0] and list(run.epochs.val_loss) == [4.05]
