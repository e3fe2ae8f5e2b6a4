"""LossdocCallback with the real transformers Trainer on a tiny GPT-2 (built from a config, never downloaded)."""

import importlib.util
import json
import math

import pytest
import torch
from typer.testing import CliRunner

from lossdoc.cli import app

if importlib.util.find_spec("transformers") is None:
    pytest.skip("transformers is not installed", allow_module_level=True)

# transformers takes seconds of CPU to import: this module imports it when its first test runs, not when each -n
# worker collects it, and its tests (with the other transformers and Lightning ones) run on one worker (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("hf-lightning")
GPT2Config = GPT2LMHeadModel = Trainer = TrainingArguments = LossdocCallback = None  # bound by _transformers, below

V, T = 64, 16


@pytest.fixture(scope="module", autouse=True)
def _transformers():
    global GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments, LossdocCallback
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from lossdoc.integrations.hf import LossdocCallback


class Rows(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        self.x = torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(seed))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        # position 0 is never a target of a causal LM; -100 there makes the Trainer's token count (num_items_in_batch)
        # right whether or not it counts labels after the shift (with transformers 5.24 and GPT-2 it counts before it,
        # and the logged loss comes out (T-1)/T of the true mean: 3.90 instead of ln 64 = 4.16 on random tokens)
        labels = self.x[i].clone()
        labels[0] = -100
        return {"input_ids": self.x[i], "labels": labels}


class FullRows(Rows):
    """labels = input_ids, as DataCollatorForLanguageModeling(mlm=False) makes them: position 0 is a label too."""

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.x[i].clone()}


def _config():
    return GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=V, n_positions=32, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)


def _train(tmp_path, model, cb, *, lr=3e-3, steps=60, nan_filter=True, rows=Rows):
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=steps,
        per_device_train_batch_size=16,
        learning_rate=lr,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=15,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_nan_inf_filter=nan_filter,
        seed=0,
        disable_tqdm=True,
        lr_scheduler_type="constant",
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows(960, 1), eval_dataset=rows(64, 2), callbacks=[cb])
    trainer.train()
    return trainer


def _explain(path):
    res = CliRunner().invoke(app, ["explain", str(path), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_from_scratch_on_random_tokens_is_an_expected_plateau(tmp_path):
    torch.manual_seed(0)
    cb = LossdocCallback(tmp_path / "run", data="random")
    _train(tmp_path, GPT2LMHeadModel(_config()), cb)
    lines = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    head = lines[0]
    assert head["writer"] == "lossdoc.integrations.hf" and head["pretrained"] is False and head["vocab_size"] == V
    assert head["config"]["logging_nan_inf_filter"] is True and head["config"]["sequences_per_step"] == 16
    assert head["batch_tokens"] == 16 * (T - 1) and head["config"]["include_num_input_tokens_seen"] == "no"
    assert head["model"]["max_positions"] == 32 and head["model"]["dropout"] == 0.0
    assert sum(r["type"] == "batch" for r in lines) == 60 and sum(r["type"] == "epoch" for r in lines) == 4 and lines[-1]["type"] == "end"
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["verdict"] == "expected-plateau", out
    assert math.isclose(out["facts"]["entropy_floor"], math.log(V))
    assert out["facts"]["missing"] == [] and [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []


def test_a_pretrained_start_is_recorded(tmp_path):
    torch.manual_seed(0)
    GPT2LMHeadModel(_config()).save_pretrained(tmp_path / "tiny")
    model = GPT2LMHeadModel.from_pretrained(tmp_path / "tiny")
    cb = LossdocCallback(tmp_path / "run", data="random")
    _train(tmp_path, model, cb, steps=15)
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert out["facts"]["pretrained"] is True
    assert out["facts"]["sources"]["pretrained"]["kind"] == "log"


def test_stop_on_broken_stops_the_trainer_on_nan_says_why_and_ends_stopped(tmp_path, capsys):
    torch.manual_seed(0)
    model = GPT2LMHeadModel(_config())

    def nan_after_5(module, inputs, output):  # the loss turns NaN from the 6th forward pass on
        nan_after_5.calls += 1
        if nan_after_5.calls > 5 and module.training:
            output.loss = output.loss * float("nan")
        return output

    nan_after_5.calls = 0
    model.register_forward_hook(nan_after_5)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="broken")
    trainer = _train(tmp_path, model, cb, steps=60, nan_filter=False)
    assert cb.stopped and cb.verdict == "broken"
    assert trainer.state.global_step < 60
    lines = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    assert lines[-1]["type"] == "end" and lines[-1]["status"] == "stopped" and lines[-1]["steps"] == trainer.state.global_step
    assert [r["kind"] for r in lines if r["type"] == "event"] == ["stopped"]  # written once
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lossdoc:")]
    assert err == [cb.stop_line] and "stop_on=broken stopped training at step 6" in err[0] and "nonfinite" in err[0]
    assert _explain(tmp_path / "run" / "run.jsonl")["verdict"] == "broken"


def test_stop_on_takes_the_same_values_as_the_lightning_callback(tmp_path):
    from lossdoc.integrations import _stop

    for level in _stop.STOP_ON:
        assert LossdocCallback(tmp_path / "run", stop_on=level).stop_on == level
    assert "overfitting" in _stop.STOP_ON
    with pytest.raises(ValueError, match="stop_on must be one of"):
        LossdocCallback(tmp_path / "run", stop_on="plateaux")


def test_without_stop_on_the_nan_run_goes_to_the_end(tmp_path):
    torch.manual_seed(0)
    model = GPT2LMHeadModel(_config())
    model.register_forward_hook(lambda m, i, o: setattr(o, "loss", o.loss * float("nan")) or o if m.training else o)
    cb = LossdocCallback(tmp_path / "run", data="random")
    trainer = _train(tmp_path, model, cb, steps=10, nan_filter=False)
    assert trainer.state.global_step == 10 and not cb.stopped


def test_the_log_validates_against_the_schema(tmp_path):
    pytest.importorskip("jsonschema")
    from tests.conftest import run_schema_validator

    torch.manual_seed(0)
    _train(tmp_path, GPT2LMHeadModel(_config()), LossdocCallback(tmp_path / "run", data="random"), steps=15)
    validator = run_schema_validator()
    for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines():
        validator.validate(json.loads(ln))


def test_tokens_seen_give_the_tokens_per_step(tmp_path):
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=6,
        per_device_train_batch_size=8,
        logging_steps=2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        include_num_input_tokens_seen=True,
        disable_tqdm=True,
    )
    Trainer(model=GPT2LMHeadModel(_config()), args=args, train_dataset=Rows(64, 1), callbacks=[LossdocCallback(tmp_path / "run")]).train()
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    assert recs[0]["data"]["kind"] == "text" and recs[0]["config"]["include_num_input_tokens_seen"] == "all"
    assert [r["tokens"] for r in recs if r["type"] == "batch"] == [8 * T] * 3  # input tokens per step, over logs 2 steps apart


def test_the_end_record_counts_the_global_step_not_the_logs_and_refuses_a_second_run(tmp_path):
    from lossdoc.runlog.logger import RunLogExistsError

    def run(**kw):
        args = TrainingArguments(
            output_dir=str(tmp_path / "out"), max_steps=7, per_device_train_batch_size=8, logging_steps=3, report_to=[], use_cpu=True,
            save_strategy="no", disable_tqdm=True,
        )  # fmt: skip
        trainer = Trainer(model=GPT2LMHeadModel(_config()), args=args, train_dataset=Rows(64, 1), callbacks=[LossdocCallback(tmp_path / "run", **kw)])
        trainer.train()
        return trainer

    torch.manual_seed(0)
    trainer = run()
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs if r["type"] == "batch"] == [3, 6] and trainer.state.global_step == 7
    assert recs[-1]["type"] == "end" and recs[-1]["steps"] == 7 and recs[-1]["status"] == "completed"
    assert all("lr" in r and "grad_norm" in r for r in recs if r["type"] == "batch")  # measured by the Trainer: kept
    with pytest.raises(RunLogExistsError, match="already holds a run log"):
        run()
    run(overwrite=True)
    assert [json.loads(ln)["type"] for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()].count("run") == 1


def test_an_unwritable_run_dir_warns_once_and_training_finishes(tmp_path):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="run log") as caught:
        trainer = _train(tmp_path, GPT2LMHeadModel(_config()), LossdocCallback("/dev/full/run", data="random", stop_on="broken"), steps=8)
    assert trainer.state.global_step == 8
    assert len([w for w in caught if "run log" in str(w.message)]) == 1


def test_a_failing_callback_warns_once_and_training_finishes(tmp_path):
    torch.manual_seed(0)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="broken")
    cb.data = "bogus"  # a state the header cannot be built from: RunLogger raises inside on_train_begin
    with pytest.warns(UserWarning, match="callback failed") as caught:
        trainer = _train(tmp_path, GPT2LMHeadModel(_config()), cb, steps=6)
    assert trainer.state.global_step == 6
    assert len([w for w in caught if "callback failed" in str(w.message)]) == 1
    assert not (tmp_path / "run" / "run.jsonl").exists()


def test_the_trainer_token_count_mismatch_is_recorded_and_corrected(tmp_path):
    """Labels with position 0: the Trainer logs (T-1)/T of the true mean (transformers 5.24, GPT-2 from a config). The
    header records the factor; explain divides by it. Checked against the model's own mean loss on the eval rows."""
    torch.manual_seed(0)
    model = GPT2LMHeadModel(_config())
    _train(tmp_path, model, LossdocCallback(tmp_path / "run", data="random"), rows=FullRows)
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    scale = recs[0]["loss_scale"]
    assert scale["logged_over_true"] == (T - 1) / T and scale["label_tokens"] == T and scale["targets"] == T - 1
    model.eval()
    with torch.no_grad():
        x = FullRows(64, 2).x
        true = model(input_ids=x, labels=x).loss.item()  # the model's own mean over the T-1 shifted targets of each row
    logged = [r["val_loss"] for r in recs if r["type"] == "epoch"][-1]
    assert math.isclose(logged, true * (T - 1) / T, rel_tol=1e-4)  # the mismatch is real
    out = _explain(tmp_path / "run" / "run.jsonl")
    assert math.isclose(out["facts"]["final_val_loss"], true, rel_tol=1e-4)  # and corrected
    assert out["verdict"] == "expected-plateau", out
    assert out["facts"]["header"]["loss_scale"] == (T - 1) / T and out["facts"]["sources"]["loss_scale"]["kind"] == "log"
    assert [f["code"] for f in out["findings"] if f["status"] in ("warn", "fail")] == []


def test_no_correction_when_position_0_is_not_a_label(tmp_path):
    torch.manual_seed(0)
    _train(tmp_path, GPT2LMHeadModel(_config()), LossdocCallback(tmp_path / "run", data="random"), steps=4)
    head = json.loads((tmp_path / "run" / "run.jsonl").read_text().splitlines()[0])
    assert "loss_scale" not in head


def test_resume_from_checkpoint_continues_the_log_by_itself(tmp_path):
    """The Trainer restores state.global_step before on_train_begin: the callback passes resume=True itself."""

    def run(steps, resume=None):
        args = TrainingArguments(
            output_dir=str(tmp_path / "out"), max_steps=steps, per_device_train_batch_size=8, logging_steps=1, report_to=[], use_cpu=True,
            save_strategy="steps", save_steps=5, disable_tqdm=True, lr_scheduler_type="constant",
        )  # fmt: skip
        torch.manual_seed(0)
        cb = LossdocCallback(tmp_path / "run", data="random")
        Trainer(model=GPT2LMHeadModel(_config()), args=args, train_dataset=Rows(160, 1), callbacks=[cb]).train(resume_from_checkpoint=resume)

    run(5)
    run(8, resume=str(tmp_path / "out" / "checkpoint-5"))
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    assert [r["type"] for r in recs].count("run") == 1 and [r["kind"] for r in recs if r["type"] == "event"] == ["resumed"]
    assert [r["step"] for r in recs if r["type"] == "batch"] == list(range(1, 9)) and recs[-1]["steps"] == 8


def test_stop_on_plateau_stops_a_random_token_run_at_an_evaluation_and_says_why(tmp_path, capsys):
    torch.manual_seed(0)
    cb = LossdocCallback(tmp_path / "run", data="random", stop_on="plateau")
    trainer = _train(tmp_path, GPT2LMHeadModel(_config()), cb)  # without stop_on: 60 steps, expected-plateau (the first test)
    step = trainer.state.global_step
    assert cb.stopped and cb.verdict in ("expected-plateau", "converged") and step in (15, 30, 45)  # at an evaluation
    lines = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    assert sum(r["type"] == "epoch" for r in lines) == step // 15 and [r["kind"] for r in lines if r["type"] == "event"] == ["stopped"]
    assert lines[-1]["status"] == "stopped" and lines[-1]["steps"] == step
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lossdoc:")]
    assert err == [cb.stop_line] and f"stop_on=plateau stopped training at step {step}" in err[0]
    assert _explain(tmp_path / "run" / "run.jsonl")["verdict"] == cb.verdict
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        LossdocCallback(tmp_path / "x", stop_on="plateau", patience=0)


def test_explain_names_an_evaluation_by_the_trainers_epoch_as_its_log_history_does(tmp_path):
    """eval_steps inside an epoch: four evaluations in two epochs, at the Trainer's epochs 0.5, 1, 1.5, 2. explain
    names the best one by the Trainer's own epoch and global step (as trainer_state.json's log_history), and the end
    record counts the Trainer's epochs, not the evaluations."""
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=16, learning_rate=3e-3, logging_steps=1,
        eval_strategy="steps", eval_steps=2, report_to=[], use_cpu=True, save_strategy="no", seed=0, disable_tqdm=True,
    )  # fmt: skip
    cb = LossdocCallback(tmp_path / "run", data="random")
    trainer = Trainer(model=GPT2LMHeadModel(_config()), args=args, train_dataset=Rows(64, 1), eval_dataset=Rows(64, 2), callbacks=[cb])
    trainer.train()
    history = [h for h in trainer.state.log_history if "eval_loss" in h]
    assert [h["epoch"] for h in history] == [0.5, 1.0, 1.5, 2.0]
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "run.jsonl").read_text().splitlines()]
    evals = [r for r in recs if r["type"] == "epoch"]
    assert [(r["epoch"], r["trainer_epoch"], r["step"]) for r in evals] == [(i + 1, h["epoch"], h["step"]) for i, h in enumerate(history)]
    assert recs[-1]["type"] == "end" and recs[-1]["epochs_completed"] == 2  # the Trainer's epochs, not 4 evaluations

    best = min(history, key=lambda h: h["eval_loss"])
    out = _explain(tmp_path / "run" / "run.jsonl")
    floor = next(f for f in out["findings"] if f["code"] == "floor")
    named = floor["evaluations"]["epoch"]
    assert named == {"evaluation": history.index(best) + 1, "trainer": "transformers", "trainer_epoch": best["epoch"], "step": best["step"]}
    epoch = f"{best['epoch']:g}"
    assert f"Trainer epoch {epoch}, global step {best['step']}" in floor["message"]
