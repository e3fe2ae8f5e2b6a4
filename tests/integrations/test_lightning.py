"""LossdocCallback with the real Lightning Trainer on a tiny causal LM (random tokens, CPU, fixed seeds)."""

import importlib.util
import json
import math

import pytest
import torch
from typer.testing import CliRunner

from lossdoc.cli import app

if importlib.util.find_spec("lightning") is None:
    pytest.skip("lightning is not installed", allow_module_level=True)

# Lightning takes seconds of CPU to import: this module imports it when its first test runs, not when each -n worker
# collects it, and its tests (with the other Lightning and transformers ones) run on one worker (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("hf-lightning")
pl = TinyLM = Logged = LossdocCallback = None  # bound by _lightning, below

V, T = 64, 16


@pytest.fixture(scope="module", autouse=True)
def _lightning():
    global pl, TinyLM, Logged, LossdocCallback
    import lightning.pytorch as pl

    from lossdoc.integrations.lightning import LossdocCallback
    from tests.integrations.lightning_models import Logged, TinyLM


def _rows(n, seed):
    return torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(seed))


class Fresh(torch.utils.data.Dataset):
    """Fresh random rows at every access (the global RNG, seeded by seed_everything): no row is seen twice."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.randint(0, V, (T,))


def _fit(tmp_path, module, cb, *, epochs=4, n=640, ckpt_path=None, logger=False, **trainer_kw):
    """A CPU fit of ``module`` with the callback ``cb`` (None: none) and ``logger`` (Lightning's: False, a list)."""
    train = torch.utils.data.DataLoader(Fresh(n), batch_size=16)
    val = torch.utils.data.DataLoader(_rows(128, 2), batch_size=64)
    trainer = pl.Trainer(
        max_epochs=epochs,
        callbacks=[cb] if cb is not None else [],
        **trainer_kw,
        accelerator="cpu",
        devices=1,
        logger=logger,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path / "pl"),
    )
    trainer.fit(module, train, val, ckpt_path=ckpt_path)
    return trainer


def _explain(path):
    res = CliRunner().invoke(app, ["explain", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _records(path):
    return [json.loads(ln) for ln in path.read_text().splitlines()]


def test_random_tokens_give_an_expected_plateau_with_the_right_floor(tmp_path):
    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"))  # vocabulary from hparams
    recs = _records(tmp_path / "run" / "run.jsonl")
    head = recs[0]
    assert head["writer"] == "lossdoc.integrations.lightning" and head["vocab_size"] == V and head["pretrained"] is False
    assert head["batch_tokens"] == 16 * (T - 1) and head["data"]["kind"] == "dummy"
    assert sum(r["type"] == "batch" for r in recs) == 4 * 40  # one record per training batch; no sanity-check evaluation
    assert [r["epoch"] for r in recs if r["type"] == "epoch"] == [1, 2, 3, 4]
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "completed"
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["verdict"] == "expected-plateau", out
    assert math.isclose(out["facts"]["entropy_floor"], math.log(V))
    assert out["facts"]["missing"] == [] and [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []


def test_a_pretrained_hugging_face_model_inside_the_module_is_recorded(tmp_path):
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=V, n_positions=T, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(cfg).save_pretrained(tmp_path / "tiny")

    class Wrapped(TinyLM):
        def __init__(self):
            super().__init__()
            self.lm = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "tiny")

    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, Wrapped(), LossdocCallback(tmp_path / "run", data="random"), epochs=1, n=64)
    head = _records(tmp_path / "run" / "run.jsonl")[0]
    assert head["pretrained"] is True and head["model"]["name_or_path"].endswith("tiny")
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["facts"]["pretrained"] is True and out["facts"]["sources"]["pretrained"]["kind"] == "log"


def test_from_scratch_and_the_explicit_argument(tmp_path):
    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random", pretrained=True, vocab_size=V), epochs=1, n=64)
    assert _records(tmp_path / "run" / "run.jsonl")[0]["pretrained"] is True


def test_an_injected_nan_stops_the_trainer_through_stop_on(tmp_path, capsys):
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="broken")
    trainer = _fit(tmp_path, TinyLM(nan_after=5), cb, epochs=4)
    assert cb.stopped and cb.verdict == "broken"
    assert trainer.global_step == 6
    recs = _records(tmp_path / "run" / "run.jsonl")
    assert sum(r["type"] == "batch" for r in recs) == 6  # the first NaN batch is the last one
    assert [r["kind"] for r in recs if r["type"] == "event"] == ["stopped"]  # once
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "stopped" and recs[-1]["steps"] == 6
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lossdoc")]
    assert err == [cb.stop_line] and "stop_on=broken stopped training at step 6: the verdict is broken" in err[0]
    assert _explain(tmp_path / "run" / "run.jsonl")["verdict"] == "broken"


def test_the_stop_line_is_in_chinese_under_a_chinese_locale(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="broken")
    _fit(tmp_path, TinyLM(nan_after=5), cb, epochs=1)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lossdoc")]
    assert err == [cb.stop_line] and "在第 6 步停止了训练" in err[0] and "训练有问题" in err[0]


def test_accumulated_gradients_log_the_undivided_loss_once_per_optimizer_step(tmp_path):
    """Lightning hands on_train_batch_end the loss / accumulate_grad_batches: on random tokens that was ln(64)/4 = 1.04,
    explained as broken ("init below ln V"). The record is the mean undivided loss of each step's 4 micro-batches."""
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random")
    trainer = _fit(tmp_path, TinyLM(), cb, epochs=4, n=2560, accumulate_grad_batches=4)
    recs = _records(tmp_path / "run" / "run.jsonl")
    batches = [r for r in recs if r["type"] == "batch"]
    assert [r["step"] for r in batches] == list(range(1, trainer.global_step + 1)) and trainer.global_step == 4 * 40
    assert recs[0]["batch_tokens"] == 4 * 16 * (T - 1)
    assert abs(batches[-1]["loss"] - math.log(V)) < 0.1  # not ln(V) / 4
    assert recs[-1]["steps"] == trainer.global_step
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["verdict"] == "expected-plateau", out
    assert [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []


def test_a_second_run_into_the_same_folder_is_refused_before_it_trains(tmp_path):
    from lossdoc.runlog.logger import RunLogExistsError

    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"), epochs=1, n=64)
    before = (tmp_path / "run" / "run.jsonl").read_bytes()
    module = TinyLM()
    with pytest.raises(RunLogExistsError, match="already holds a run log"):
        _fit(tmp_path, module, LossdocCallback(tmp_path / "run", data="random"), epochs=1, n=64)
    assert module.calls == 0 and (tmp_path / "run" / "run.jsonl").read_bytes() == before
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random", overwrite=True), epochs=2, n=64)
    recs = _records(tmp_path / "run" / "run.jsonl")
    assert [r["type"] for r in recs].count("run") == 1 and [r["epoch"] for r in recs if r["type"] == "epoch"] == [1, 2]


def test_a_fit_from_a_checkpoint_resumes_the_log_by_itself(tmp_path):
    pl.seed_everything(0, verbose=False)
    trainer = _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"), epochs=1, n=64)
    ckpt = tmp_path / "one.ckpt"
    trainer.save_checkpoint(ckpt)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"), epochs=2, n=64, ckpt_path=str(ckpt))
    recs = _records(tmp_path / "run" / "run.jsonl")
    assert [r["type"] for r in recs].count("run") == 1 and [r["kind"] for r in recs if r["type"] == "event"] == ["resumed"]
    assert [r["step"] for r in recs if r["type"] == "batch"] == list(range(1, 9))
    assert [r["epoch"] for r in recs if r["type"] == "epoch"] == [1, 2] and recs[-1]["steps"] == 8


def test_evaluations_are_numbered_by_lightnings_epochs(tmp_path):
    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"), epochs=4, n=64, check_val_every_n_epoch=2)
    evals = [r for r in _records(tmp_path / "run" / "run.jsonl") if r["type"] == "epoch"]
    assert [(r["epoch"], r["trainer_epoch"]) for r in evals] == [(2, 1), (4, 3)]  # Lightning's epochs 1 and 3, 1-based
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "twice", data="random"), epochs=2, n=128, val_check_interval=0.5)
    evals = [r for r in _records(tmp_path / "twice" / "run.jsonl") if r["type"] == "epoch"]
    assert [(r["epoch"], r["trainer_epoch"]) for r in evals] == [(1, 0), (2, 0), (3, 1), (4, 1)]


def test_without_stop_on_the_nan_run_goes_on(tmp_path):
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random")
    trainer = _fit(tmp_path, TinyLM(nan_after=5), cb, epochs=1)
    assert trainer.global_step == 40 and not cb.stopped


def test_only_rank_0_writes(tmp_path):
    class Rank1:
        global_rank = 1

    cb = LossdocCallback(tmp_path / "run", data="random", vocab_size=V)
    cb.on_train_batch_end(Rank1(), TinyLM(), torch.tensor(1.0), _rows(4, 0), 0)
    assert cb.logger is None and not (tmp_path / "run").exists()


def test_the_log_validates_against_the_schema(tmp_path):
    pytest.importorskip("jsonschema")
    from tests.conftest import run_schema_validator

    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "run", data="random"), epochs=1, n=64)
    validator = run_schema_validator()
    for rec in _records(tmp_path / "run" / "run.jsonl"):
        validator.validate(rec)


def test_a_failing_callback_warns_once_and_training_finishes(tmp_path):
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random")
    cb.data = "bogus"  # RunLogger refuses it inside the first batch hook
    with pytest.warns(UserWarning, match="callback failed") as caught:
        trainer = _fit(tmp_path, TinyLM(), cb, epochs=1, n=64)
    assert trainer.global_step == 4
    assert len([w for w in caught if "callback failed" in str(w.message)]) == 1


def test_no_vocabulary_warns_and_writes_nothing(tmp_path):
    class NoVocab(TinyLM):
        def __init__(self):
            super().__init__()
            self.hparams.pop("vocab_size")
            self.hparams_vocab = V

        def _loss(self, x):
            logits = self.head(self.emb(x[:, :-1]))
            return torch.nn.functional.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1))

    pl.seed_everything(0, verbose=False)
    with pytest.warns(UserWarning, match="vocab_size"):
        _fit(tmp_path, NoVocab(), LossdocCallback(tmp_path / "run"), epochs=1, n=64)
    assert not (tmp_path / "run" / "run.jsonl").exists()


def test_a_learning_rate_far_too_high_is_broken(tmp_path):
    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(lr=300.0), LossdocCallback(tmp_path / "run", data="random"), epochs=2, n=320)
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["verdict"] == "broken", [(f["code"], f["status"]) for f in out["findings"]]


# -- stop_on="plateau" ------------------------------------------------------------------------------------------


def test_plateau_stops_a_random_token_fit_once_validation_is_at_its_floor(tmp_path, capsys):
    pl.seed_everything(0, verbose=False)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="plateau")
    trainer = _fit(tmp_path, TinyLM(), cb, epochs=6)  # without stop_on: expected-plateau by 4 x 40 steps (the first test)
    assert cb.stopped and cb.verdict in ("expected-plateau", "converged")  # nothing left to learn
    assert trainer.global_step % 40 == 0 and trainer.global_step < 6 * 40  # at a validation (an epoch end), before the last
    recs = _records(tmp_path / "run" / "run.jsonl")
    evals = [r for r in recs if r["type"] == "epoch"]
    assert len(evals) == trainer.global_step // 40 and [r["kind"] for r in recs if r["type"] == "event"] == ["stopped"]
    assert recs[-1]["status"] == "stopped" and recs[-1]["steps"] == trainer.global_step
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lossdoc")]
    assert err == [cb.stop_line] and f"stop_on=plateau stopped training at step {trainer.global_step}" in err[0]
    assert _explain(tmp_path / "run" / "run.jsonl")["verdict"] == cb.verdict  # explain agrees, reading the same log


def test_plateau_patience_counts_validations(tmp_path):
    pl.seed_everything(0, verbose=False)
    one = LossdocCallback(tmp_path / "one", data="random", stop_on="plateau", patience=1)
    _fit(tmp_path, TinyLM(), one, epochs=6)
    pl.seed_everything(0, verbose=False)
    two = LossdocCallback(tmp_path / "two", data="random", stop_on="plateau", patience=2)
    trainer = _fit(tmp_path, TinyLM(), two, epochs=6)
    # the same fit: patience 2 stops one validation after patience 1, when the plateau verdict held at both
    assert one.stopped and two.stopped and two.plateau.held == 2
    assert trainer.global_step == two.plateau.seen * 40 == (one.plateau.seen + 1) * 40
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        LossdocCallback(tmp_path / "x", stop_on="plateau", patience=0)


# -- LossdocLogger ----------------------------------------------------------------------------------------------


def test_the_logger_beside_csvlogger_with_accumulation_is_an_expected_plateau_with_its_metrics(tmp_path):
    import csv

    from lightning.pytorch.loggers import CSVLogger

    from lossdoc.integrations.lightning import LossdocLogger

    pl.seed_everything(0, verbose=False)
    csv_logger = CSVLogger(tmp_path / "csv", name="", version="")
    lossdoc_logger = LossdocLogger(tmp_path / "run", data="random")
    trainer = _fit(tmp_path, Logged(), None, logger=[csv_logger, lossdoc_logger], n=2560, accumulate_grad_batches=4, log_every_n_steps=1)
    recs = _records(tmp_path / "run" / "run.jsonl")
    batches = [r for r in recs if r["type"] == "batch"]
    assert [r["step"] for r in batches] == list(range(1, trainer.global_step + 1)) and trainer.global_step == 160
    assert abs(batches[-1]["loss"] - math.log(V)) < 0.1  # the undivided loss, as the callback writes it
    # each step's logged gradient norm and accuracy are in its record: Lightning's own metrics.csv says the same
    rows = [r for r in csv.DictReader(open(tmp_path / "csv" / "metrics.csv")) if r.get("grad_norm")]
    by_step = {int(r["step"]) + 1: r for r in rows}  # Lightning logs a step's scalars at the steps before it
    assert len(by_step) == 160
    for r in batches:
        assert math.isclose(r["grad_norm"], float(by_step[r["step"]]["grad_norm"]), rel_tol=1e-6)
        assert math.isclose(r["metrics"]["train_acc"], float(by_step[r["step"]]["train_acc"]), rel_tol=1e-6)
    evals = [r for r in recs if r["type"] == "epoch"]
    assert [r["epoch"] for r in evals] == [1, 2, 3, 4]
    val_rows = [r for r in csv.DictReader(open(tmp_path / "csv" / "metrics.csv")) if r.get("val_ppl")]
    assert [r["metrics"]["val_ppl"] for r in evals] == pytest.approx([float(r["val_ppl"]) for r in val_rows], rel=1e-6)
    assert [r["val_loss"] for r in evals] == pytest.approx([float(r["val_loss"]) for r in val_rows], rel=1e-6)
    assert recs[-1]["status"] == "completed" and recs[-1]["steps"] == 160
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["verdict"] == "expected-plateau", out
    assert out["facts"]["missing"] == [] and [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []


def test_the_logger_writes_the_callbacks_records(tmp_path):
    from lossdoc.integrations.lightning import LossdocLogger

    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), LossdocCallback(tmp_path / "cb", data="random"), epochs=2, n=64)
    pl.seed_everything(0, verbose=False)
    _fit(tmp_path, TinyLM(), None, logger=[LossdocLogger(tmp_path / "lg", data="random")], epochs=2, n=64)
    keep = ("type", "epoch", "step", "loss", "lr", "tokens", "val_loss", "train_loss", "status", "steps", "vocab_size", "batch_tokens")
    strip = lambda path: [{k: r[k] for k in keep if k in r} for r in _records(path / "run.jsonl")]  # noqa: E731
    assert strip(tmp_path / "lg") == strip(tmp_path / "cb")  # no metrics were logged at the steps: the same records


def test_the_logger_never_handed_the_module_warns_and_writes_nothing(tmp_path):
    from lossdoc.integrations.lightning import LossdocLogger

    pl.seed_everything(0, verbose=False)
    with pytest.warns(UserWarning, match="LossdocLogger was never handed the module"):
        _fit(
            tmp_path,
            Logged(),
            None,
            logger=[LossdocLogger(tmp_path / "run", data="random")],
            epochs=1,
            n=64,
            enable_autolog_hparams=False,
            log_every_n_steps=1,
        )
    assert not (tmp_path / "run" / "run.jsonl").exists()


def test_explain_names_the_best_validation_by_lightnings_epoch_as_its_metrics_csv_does(tmp_path):
    """val_check_interval=0.5: four evaluations in two Lightning epochs. lossdoc numbers them 1-4; explain names the
    best one as Lightning's own metrics.csv does (its epoch, from 0, and its step), and the end record counts
    Lightning's epochs, not the evaluations."""
    import csv

    from lightning.pytorch.loggers import CSVLogger

    pl.seed_everything(0, verbose=False)
    csv_logger = CSVLogger(tmp_path / "csv", name="", version="")
    cb = LossdocCallback(tmp_path / "run", data="random")
    trainer = _fit(tmp_path, TinyLM(), cb, epochs=2, n=128, val_check_interval=0.5, logger=[csv_logger])
    rows = [r for r in csv.DictReader(open(tmp_path / "csv" / "metrics.csv")) if r.get("val_loss")]
    assert [int(r["epoch"]) for r in rows] == [0, 0, 1, 1]
    recs = _records(tmp_path / "run" / "run.jsonl")
    evals = [r for r in recs if r["type"] == "epoch"]
    assert [r["val_loss"] for r in evals] == pytest.approx([float(r["val_loss"]) for r in rows], rel=1e-6)
    assert recs[-1]["type"] == "end" and recs[-1]["epochs_completed"] == trainer.current_epoch == 2  # not 4 evaluations

    best_row = min(rows, key=lambda r: float(r["val_loss"]))
    best_eval = min(evals, key=lambda r: r["val_loss"])
    out = _explain(tmp_path / "run" / "run.jsonl")
    floor = next(f for f in out["findings"] if f["code"] == "floor")
    assert floor["args"]["epoch"] == best_eval["epoch"]  # lossdoc's evaluation number, as the analysis gives it ...
    named = floor["evaluations"]["epoch"]  # ... and Lightning's name for it beside it
    assert named["trainer"] == "lightning" and named["trainer_epoch"] == int(best_row["epoch"])
    # the step is Lightning's global_step at that validation; metrics.csv writes the row at the step before it
    assert named["step"] == best_eval["step"] == trainer.global_step // 4 * (evals.index(best_eval) + 1) == int(best_row["step"]) + 1
    said = f"Lightning epoch {int(best_row['epoch'])}, global step {best_eval['step']}"
    assert said in floor["message"] and f"epoch {best_eval['epoch']})" not in floor["message"]
    assert any(said in line for line in out["explanation"])
    zh = CliRunner().invoke(app, ["explain", str(tmp_path / "run" / "run.jsonl"), "--lang", "zh"])
    assert zh.exit_code == 0 and f"Lightning 的 epoch {int(best_row['epoch'])}，全局第 {best_eval['step']} 步" in zh.output
