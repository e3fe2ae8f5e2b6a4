"""The readers of training at scale (issue 26): each found with no --format, each fact the log prints kept,
and a verdict per run (healthy -> still-learning, plateau -> converged, diverging -> broken).

The console fixtures (tests/fixtures/scale/<framework>/) are written by scripts/make_scale_fixtures.py from the
frameworks' own format strings; each writer's docstring names the file and function:
  Megatron-LM  megatron/training/training.py training_log, evaluate_and_print_results; arguments.py _print_args
  torchtitan   torchtitan/components/metrics.py MetricsProcessor.log, log_validation; torchtitan/train.py
  litgpt       litgpt/pretrain.py fit (and main's pprint of the hyperparameters)
  fairseq      fairseq/logging/progress_bar.py SimpleProgressBar.log/print, JsonProgressBar.log/print;
               fairseq/criterions/cross_entropy.py reduce_metrics (loss / ln 2)
  DeepSpeed    deepspeed/runtime/engine.py _report_progress (log_dist); runtime/fp16/loss_scaler.py update_scale
  OLMo         olmo/train.py Trainer.log_metrics_to_console
  Composer     composer/loggers/console_logger.py ConsoleLogger._log_to_console
The MLflow and W&B fixtures are written by the real tools (scripts/make_tracker_fixtures.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lossdoc.analysis.diagnose import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run

SCALE = Path(__file__).resolve().parents[2] / "fixtures" / "scale"
CONSOLES = {
    "megatron": "megatron",
    "torchtitan": "torchtitan",
    "litgpt": "litgpt",
    "fairseq": "fairseq",
    "fairseq_json": "fairseq",
    "deepspeed": "deepspeed",
    "olmo": "olmo",
    "composer": "composer",
}
VERDICTS = {"healthy": "still-learning", "plateau": "converged", "diverging": "broken"}


def _mlflow_run(name: str) -> Path:
    for meta in SCALE.glob("mlruns/*/*/meta.yaml"):
        if f"run_name: {name}\n" in meta.read_text(encoding="utf-8"):
            return meta.parent
    raise AssertionError(f"no MLflow run {name}")


def _wandb_run(name: str) -> Path:
    for log in SCALE.glob("wandb_sweep/wandb/*/files/output.log"):
        text = log.read_text(encoding="utf-8")
        final = [ln for ln in text.splitlines() if ln.startswith("iter ")][-1]
        last = float(final.split("loss ")[1].split(",")[0])
        kind = "diverging" if last > 8 else "plateau" if last > 4.0 else "healthy"
        if kind == name:
            return log.parent.parent
    raise AssertionError(f"no W&B run {name}")


@pytest.mark.parametrize("kind", list(VERDICTS))
@pytest.mark.parametrize("folder", list(CONSOLES))
def test_console_verdicts(folder, kind):
    """Found from the text alone; healthy, plateau and diverging runs get their verdicts."""
    run = read_run(SCALE / folder / f"{kind}.log")
    assert run.format == CONSOLES[folder]
    # Megatron's lines of only NaN iterations (skipped, fp16) carry no loss: 19 of the diverging run's 100
    assert len(run.batches) == (81 if (folder, kind) == ("megatron", "diverging") else 100)
    assert len(run.epochs) >= (0 if folder == "deepspeed" else 4)  # DeepSpeed prints no evaluation
    d = diagnose(run)
    assert d.verdict == VERDICTS[kind], [(f.code, f.status) for f in d.findings]
    if kind == "diverging":
        assert "divergence" in {f.code for f in d.findings if f.status == "fail"}


@pytest.mark.parametrize("kind", list(VERDICTS))
def test_mlflow_verdicts(kind):
    run = read_run(_mlflow_run(kind))
    assert run.format == "mlflow" and run.status == "completed"
    assert diagnose(run).verdict == VERDICTS[kind]


@pytest.mark.parametrize("kind", list(VERDICTS))
def test_wandb_verdicts(kind):
    run = read_run(_wandb_run(kind))
    assert run.format == "wandb" and run.config["console_format"] == "nanogpt"
    assert diagnose(run).verdict == VERDICTS[kind]


def test_megatron_facts():
    """V and the padded V from '> padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)', the
    tokens per step from the arguments block (global_batch_size x seq_length), the world size, a start from
    random weights ('will not load any checkpoints and will start from random')."""
    run = read_run(SCALE / "megatron" / "healthy.log")
    assert run.vocab_size == 50257 and run.config["padded_vocab_size"] == 50432
    assert run.batch_tokens == 16 * 512
    assert run.sources["batch_tokens"].where == "where.batch_times_seq"
    assert run.config["world_size"] == 4 and run.config["seq_length"] == 512
    assert run.pretrained is False and run.sources["pretrained"].kind == "log"
    assert run.batches.loss[0] == pytest.approx(float(_first_value(SCALE / "megatron" / "healthy.log", "lm loss: ")))
    note = next(w for w in run.warnings if w.key == "warn.scale_facts")
    assert "padded_vocab_size=50432" in note.args["facts"] and "world_size=4" in note.args["facts"]


def _first_value(path: Path, marker: str) -> str:
    line = next(ln for ln in path.read_text(encoding="utf-8").splitlines() if marker in ln)
    return line.split(marker)[1].split()[0].rstrip(",|")


def test_megatron_fp16_collapse_is_read():
    """Skipped iterations are summed, the lowest loss scale kept, a scale of 1 named; the NaN iterations Megatron
    counts (their losses are not printed) are non-finite-loss events at their iterations, which the analysis fails."""
    run = read_run(SCALE / "megatron" / "diverging.log")
    assert run.config["skipped_steps"] > 0 and run.config["loss_scale_min"] == 1.0
    assert any(w.key == "warn.loss_scale_collapse" for w in run.warnings)
    assert run.config["nan_iterations"] == 19 * 20 and np.isfinite(run.batches.loss).all()
    nan_events = [e.step for e in run.events if e.kind == "nonfinite_loss"]
    assert nan_events[0] == 1640 and len(nan_events) == 19
    d = diagnose(run)
    assert d.verdict == "broken" and d.finding("nonfinite-loss").status == "fail"
    assert d.finding("nonfinite-loss").measured == 1640


def _collapse_log(folder: str) -> str:
    """The healthy fixture with an fp16 loss-scale collapse from step 1500 on, and no NaN loss: the scale halves on
    every overflow down to 1 and every step is skipped, so the weights stop changing. Megatron prints no loss for an
    interval of only skipped iterations (training_log leaves them out of the mean); DeepSpeed's script goes on printing
    the loss of batches the frozen model sees (the level at the collapse, with the batches' noise)."""
    import random
    import re

    rng = random.Random(0)
    out: list[str] = []
    scale, skipped, frozen = 65536.0, 0, None
    for ln in (SCALE / folder / "healthy.log").read_text(encoding="utf-8").splitlines():
        if folder == "megatron" and (m := re.search(r"iteration\s+(\d+)/", ln)) and int(m.group(1)) > 1500:
            scale = max(1.0, scale / 2**4)
            ln = re.sub(r"lm loss: \S+ \| ", "", re.sub(r"grad norm: \S+ \| ", "", ln))
            ln = re.sub(r"loss scale: \S+", f"loss scale: {scale:.1f}", ln).replace("skipped iterations:   0", "skipped iterations:  20")
        elif folder == "deepspeed" and (m := re.search(r"step=(\d+), skipped=0, (.*)loss=(\S+)", ln)):
            if int(m.group(1)) > 1500:
                frozen = frozen if frozen is not None else float(m.group(3))
                for _ in range(20):
                    if scale > 1:
                        out.append(f"[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: {int(scale)}, reducing to {int(scale) // 2}")
                        scale /= 2
                    skipped += 1
                ln = ln[: m.start()] + f"step={m.group(1)}, skipped={skipped}, {m.group(2)}loss={frozen + rng.gauss(0, 0.04):.4f}"
        out.append(ln)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("folder", ["megatron", "deepspeed"])
def test_loss_scale_collapse_alone_is_broken(tmp_path, folder):
    p = tmp_path / "collapse.log"
    p.write_text(_collapse_log(folder), encoding="utf-8")
    run = read_run(p)
    assert run.config["loss_scale_min"] == 1.0 and run.config["skipped_steps"] >= 100
    assert np.isfinite(run.batches.loss).all() and not any(e.kind == "nonfinite_loss" for e in run.events)
    d = diagnose(run)
    assert d.verdict == "broken"
    assert next(f for f in d.findings if f.code == "nonfinite-loss").key == "f.nonfinite.scale_collapse"


def test_a_loss_scale_of_one_with_nothing_skipped_is_bf16_not_a_collapse(tmp_path):
    # Megatron under bf16 prints "loss scale: 1.0" at every iteration and skips nothing: no scaling, not a collapse
    healthy = (SCALE / "megatron" / "healthy.log").read_text(encoding="utf-8")
    import re

    p = tmp_path / "bf16.log"
    p.write_text(re.sub(r"loss scale: \S+", "loss scale: 1.0", healthy), encoding="utf-8")
    run = read_run(p)
    assert run.config["loss_scale_min"] == 1.0 and not run.config.get("skipped_steps")
    assert not any(w.key == "warn.loss_scale_collapse" for w in run.warnings)
    assert diagnose(run).verdict == "still-learning"


def test_megatron_real_lines(tmp_path):
    """Lines as a Megatron-LM run (core 0.12, 2025) printed them, copied from a public training log: a line of only
    skipped iterations has no 'lm loss' and adds no batch; the validation line is read."""
    text = (
        " > padded vocab (size: 50257) with 47 dummy tokens (new size: 50304)\n"
        " [2025-04-13 23:41:12] iteration       10/    1000 | consumed samples:          160 | elapsed time per iteration (ms): 1147.6 | learning rate: 0.000000E+00 | global batch size:    16 | loss scale: 8388608.0 | number of skipped iterations:  10 | number of nan iterations:   0 |\n"
        " [2025-04-13 23:41:20] iteration       20/    1000 | consumed samples:          320 | elapsed time per iteration (ms): 820.7 | learning rate: 4.000000E-05 | global batch size:    16 | lm loss: 1.072453E+01 | loss scale: 131072.0 | grad norm: 3.874 | num zeros: 71.0 | number of skipped iterations:   6 | number of nan iterations:   0 |\n"
        " [2025-04-13 23:41:28] iteration       30/    1000 | consumed samples:          480 | elapsed time per iteration (ms): 821.8 | learning rate: 9.000000E-05 | global batch size:    16 | lm loss: 1.038769E+01 | loss scale: 4096.0 | number of skipped iterations:   5 | number of nan iterations:   0 |\n"
        "-----------------------------------------------------------------------------------------------\n"
        " validation loss at iteration 30 | lm loss value: 8.889540E+00 | lm loss PPL: 7.255679E+03 | \n"
    )
    p = tmp_path / "node0.log"
    p.write_text(text, encoding="utf-8")
    run = read_run(p)
    assert run.format == "megatron"
    assert list(run.batches.step) == [20.0, 30.0]
    assert list(run.batches.loss) == [10.72453, 10.38769]
    assert run.batches.grad_norm[0] == 3.874 and math.isnan(run.batches.grad_norm[1])
    assert run.batches.lr[1] == 9e-5
    assert run.epochs.val_loss[0] == 8.88954 and run.epochs.step[0] == 30
    assert run.config["skipped_steps"] == 21 and run.config["loss_scale_min"] == 4096.0
    assert run.vocab_size == 50257 and run.config["padded_vocab_size"] == 50304
    assert run.config["global_batch_size"] == 16


def test_megatron_finetune_flags(tmp_path):
    """--finetune with --load: a fine-tune, from the arguments block's line."""
    text = (
        "------------------------ arguments ------------------------\n"
        "  finetune ........................................ True\n"
        "  load ............................................ /ckpt/gpt-345m\n"
        "-------------------- end of arguments ---------------------\n"
        " iteration       10/     100 | lm loss: 3.100000E+00 | loss scale: 1.0 |\n"
    )
    p = tmp_path / "ft.log"
    p.write_text(text, encoding="utf-8")
    run = read_run(p)
    assert run.pretrained is True and run.sources["pretrained"].args == (("line", 2),)
    assert not run.resumed


def test_fairseq_base2_to_nats():
    """fairseq logs loss / ln 2 (fairseq/criterions/cross_entropy.py reduce_metrics): the reader multiplies by ln 2
    and says so; V from 'dictionary: N types'; the tokens per step from wpb."""
    path = SCALE / "fairseq" / "healthy.log"
    run = read_run(path)
    logged = float(_first_value(path, "loss=").rstrip(","))
    assert run.batches.loss[0] == pytest.approx(logged * math.log(2))
    assert run.config["loss_base"] == 2.0
    assert any(w.key == "warn.loss_base2" for w in run.warnings)
    assert run.vocab_size == 50264 and run.batch_tokens == 4096
    assert run.config["world_size"] == 8 and run.config["seq_length"] == 512
    assert not np.isnan(run.epochs.train_loss).all()  # the epoch's training mean joins its evaluation
    assert run.batches.loss.max() < math.log(50264) + 0.5  # in nats, the losses sit below ln V as they must


def test_fairseq_prefers_nll_loss(tmp_path):
    """With label smoothing the line's 'loss' is the smoothed loss; 'nll_loss' is the per-token NLL that is read."""
    p = tmp_path / "train.log"
    p.write_text(
        "| epoch 001:    100 / 500 loss=9.500, nll_loss=9.000, ppl=512, wps=1000, wpb=2048, num_updates=100, lr=0.0005\n"
        "| epoch 001 | valid on 'valid' subset | loss 8.600 | nll_loss 8.100 | ppl 274 | num_updates 100\n",
        encoding="utf-8",
    )
    run = read_run(p)
    assert run.format == "fairseq"
    assert run.batches.loss[0] == pytest.approx(9.0 * math.log(2))
    assert run.epochs.val_loss[0] == pytest.approx(8.1 * math.log(2))


def test_fairseq_json_facts():
    run = read_run(SCALE / "fairseq_json" / "healthy.log")
    assert run.vocab_size == 50264 and run.config["loss_base"] == 2.0 and run.batch_tokens == 4096


def test_torchtitan_reads_one_rank():
    """Rank 1's lines (its loss 0.01 higher) are skipped and counted; colour codes are removed."""
    run = read_run(SCALE / "torchtitan" / "healthy.log")
    text = (SCALE / "torchtitan" / "healthy.log").read_text(encoding="utf-8")
    first0 = next(ln for ln in text.splitlines() if ln.startswith("[rank0]") and "loss:" in ln and "validate" not in ln)
    assert run.batches.loss[0] == pytest.approx(float(first0.split("loss: ")[1].split()[0].replace("\x1b[33m", "")))
    w = next(w for w in run.warnings if w.key == "warn.ranks_one_read")
    assert w.args["rank"] == 0 and w.args["count"] == 100 + 10
    assert run.vocab_size == 50257 and run.batch_tokens == 16 * 2048 and run.config["world_size"] == 2


def test_litgpt_steps_and_facts():
    """Four iterations make one optimizer step: their losses are averaged into that step."""
    run = read_run(SCALE / "litgpt" / "healthy.log")
    assert run.batches.step[0] == 20 and len(run.batches) == 100
    assert run.vocab_size == 50254 and run.config["padded_vocab_size"] == 50304
    assert run.batch_tokens == 32 * 512 and run.config["world_size"] == 2
    assert run.pretrained is None  # initial_checkpoint_dir None, no checkpoint_dir: from scratch is not printed


def _litgpt_real(name: str) -> tuple[Path, list[str]]:
    p = SCALE / "litgpt_real" / f"{name}.log"
    return p, p.read_text(encoding="utf-8").splitlines()


def test_litgpt_real_pretrain_is_read():
    """What litgpt 0.5.13's pretrain printed on a CPU (scripts/make_litgpt_fixture.py): its hyperparameters, one
    training line per optimizer step (log_interval x the 4 accumulated micro-batches), an evaluation every 25 steps and
    the final one. Each printed number is where the reader puts it."""
    p, lines = _litgpt_real("healthy")
    run = read_run(p)
    assert run.format == "litgpt"
    train = [ln for ln in lines if "| loss train: " in ln]
    assert len(run.batches) == len(train) == 150
    assert list(run.batches.step) == [float(ln.split(" step ")[1].split()[0]) for ln in train] == [float(s) for s in range(1, 151)]
    assert list(run.batches.loss) == [float(ln.split("loss train: ")[1].split(",")[0]) for ln in train]
    vals = [float(ln.split("val loss ")[1].split(",")[0]) for ln in lines if ": val loss " in ln]
    assert list(run.epochs.step) == [25.0, 50.0, 75.0, 100.0, 125.0, 150.0]  # 'iter 100: val loss' follows step 25
    assert list(run.epochs.val_loss[:5]) == vals[:5]
    final = float(next(ln for ln in lines if ln.startswith("Final evaluation")).split("val loss: ")[1].split()[0])
    assert run.epochs.val_loss[5] == final  # the final evaluation, after the last step, at that step
    assert run.vocab_size == 64 and run.config["padded_vocab_size"] == 64
    assert run.batch_tokens == 16 * 32 and run.config["micro_batch_size"] == 4 and run.config["world_size"] == 1
    assert run.pretrained is None  # initial_checkpoint_dir None: from scratch is not printed as such
    assert diagnose(run).verdict == "still-learning"


def test_litgpt_real_diverging_run_is_broken():
    """litgpt at a constant lr of 30: the loss climbs from 4.3 to over 10^5 nats in 25 steps and litgpt itself stops
    (OverflowError at math.exp(val_loss)); the traceback after the last lines does not stop the reading."""
    p, lines = _litgpt_real("diverging")
    assert lines[-1] == "OverflowError: math range error"
    run = read_run(p)
    assert run.format == "litgpt" and len(run.batches) == 25 and run.batches.loss[-1] > 1e5
    assert list(run.epochs.step) == [25.0] and run.epochs.val_loss[0] > 709  # exp() of it overflows a float
    d = diagnose(run)
    assert d.verdict == "broken" and d.finding("divergence").status == "fail"


def test_litgpt_real_unstable_run_is_read_and_its_spike_found():
    """litgpt at a constant lr of 1: the loss jumps between 3 and 19 nats. Every step is read as printed, and the
    spike check names the largest jump (19.121 at step 11)."""
    p, lines = _litgpt_real("unstable")
    run = read_run(p)
    train = [float(ln.split("loss train: ")[1].split(",")[0]) for ln in lines if "| loss train: " in ln]
    assert len(run.batches) == 150 and list(run.batches.loss) == train
    spikes = diagnose(run).finding("spikes")
    assert spikes.status == "warn" and spikes.measured == max(train) and run.batches.step[int(np.argmax(run.batches.loss))] == 11


def test_litgpt_old_lines_and_finetune(tmp_path):
    p = tmp_path / "lora.log"
    p.write_text(
        "{'checkpoint_dir': PosixPath('checkpoints/EleutherAI/pythia-160m'),\n"
        " 'devices': 1}\n"
        "iter 1 step 0: loss 3.0000, iter time: 100.00ms\n"
        "iter 2 step 1: loss 2.0000, iter time: 100.00ms (optimizer.step)\n"
        "iter 2: val loss 2.5000, val time: 10.00ms\n",
        encoding="utf-8",
    )
    run = read_run(p)
    assert run.format == "litgpt"
    assert list(run.batches.step) == [1.0] and run.batches.loss[0] == 2.5
    assert run.epochs.val_loss[0] == 2.5 and run.epochs.step[0] == 1
    assert run.pretrained is True and run.sources["pretrained"].args == (("line", 1),)


def test_deepspeed_facts_and_overflow():
    run = read_run(SCALE / "deepspeed" / "diverging.log")
    assert run.config["global_batch_size"] == 32 and run.config["grad_accum"] == 2 and run.config["world_size"] == 4
    assert run.batch_tokens == 32 * 1024
    assert run.config["loss_scale_min"] == 1.0 and run.config["skipped_steps"] > 0
    assert any(e.kind == "loss_scale_overflow" for e in run.events)
    assert diagnose(run).finding("nonfinite-loss").status == "fail"


def test_deepspeed_step_line_without_loss_is_refused(tmp_path):
    p = tmp_path / "ds.log"
    p.write_text(
        "[2024-05-01 12:00:00,000] [INFO] [logging.py:96:log_dist] [Rank 0] step=10, skipped=0, lr=[0.0001], mom=[(0.9, 0.999)]\n", encoding="utf-8"
    )
    with pytest.raises(LossdocError) as e:
        read_run(p)
    assert e.value.key == "error.deepspeed_no_lines"


def test_olmo_and_composer_facts():
    olmo = read_run(SCALE / "olmo" / "healthy.log")
    assert olmo.vocab_size == 50280 and olmo.config["padded_vocab_size"] == 50304 and olmo.batch_tokens == 64 * 2048
    assert olmo.config["eval_set"] == "eval/c4_en-validation" and olmo.batches.grad_norm[0] == 1.234
    comp = read_run(SCALE / "composer" / "healthy.log")
    assert comp.vocab_size == 50368 and comp.batch_tokens == 32 * 1024
    assert comp.config["eval_metric"] == "metrics/eval/LanguageCrossEntropy"


def test_mlflow_params_are_facts():
    run = read_run(_mlflow_run("healthy"))
    assert run.vocab_size == 50257 and run.sources["vocab_size"].kind == "file"
    assert run.batch_tokens == 16 * 1024 and run.pretrained is False
    metrics = run.config["metrics"]
    assert metrics == {"train": "train_loss", "val": "val_loss"}


def test_mlflow_metric_file_is_read_as_written(tmp_path):
    """metrics/<key>: '<timestamp> <value> <step>' per line (mlflow/store/tracking/file_store.py); a key with '/'
    is a subfolder; the metrics folder itself resolves to its run."""
    run_dir = tmp_path / "mlruns" / "1" / "abc"
    (run_dir / "metrics" / "train").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_name: x\nstatus: 4\n", encoding="utf-8")
    (run_dir / "metrics" / "train" / "loss").write_text("1700000000000 5.0 1\n1700000000001 4.0 2\n", encoding="utf-8")
    run = read_run(run_dir / "metrics")
    assert list(run.batches.step) == [1.0, 2.0] and list(run.batches.loss) == [5.0, 4.0]
    assert run.status == "failed"


def test_mlflow_without_loss_metric(tmp_path):
    run_dir = tmp_path / "r"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_name: x\n", encoding="utf-8")
    (run_dir / "metrics" / "accuracy").write_text("1 0.5 1\n", encoding="utf-8")
    with pytest.raises(LossdocError) as e:
        read_run(run_dir)
    assert e.value.key == "error.mlflow_no_loss" and "accuracy" in e.value.render("en")


def test_wandb_config_yaml_gives_facts(tmp_path):
    """An online run folder has files/config.yaml in W&B's '<key>: {desc: ..., value: ...}' format
    (wandb/sdk/lib/config_util.py); its V and batch are used when the console does not print them."""
    import shutil

    src = _wandb_run("healthy")
    dst = tmp_path / "wandb" / "run-20240101_120000-abcd1234"
    shutil.copytree(src, dst)
    (dst / "files" / "config.yaml").write_text(
        "_wandb:\n  value:\n    cli_version: 0.17.0\nvocab_size:\n  desc: null\n  value: 50304\ninit_from:\n  desc: null\n  value: gpt2\n",
        encoding="utf-8",
    )
    (dst / "files" / "wandb-summary.json").write_text('{"train/loss": 3.1, "_step": 2000}', encoding="utf-8")
    run = read_run(dst)
    assert run.vocab_size == 50304 and run.sources["vocab_size"].where == "files/config.yaml: vocab_size"
    assert run.pretrained is False  # the console's 'Initializing a new model from scratch' wins over init_from
    assert run.config["summary"]["train/loss"] == 3.1


@pytest.mark.parametrize(
    "text,fmt",
    [
        (" iteration       10/     100 | consumed samples: 10 | loss scale: 1.0 | number of skipped iterations:  10 |\n", "megatron"),
        ("[titan] 2025-01-01 - root - INFO - Training starts at step 1\n", "torchtitan"),
        ("[batch=1/10]:\n\t Train time/batch: 0\n", "composer"),
        ("[step=1/10]\n    train/Perplexity=5\n", "olmo"),
    ],
)
def test_detected_but_no_losses(tmp_path, text, fmt):
    """A log of the framework without a loss line is refused in one line naming what was expected."""
    p = tmp_path / "x.log"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(LossdocError) as e:
        read_run(p)
    assert e.value.key == f"error.{fmt}_no_lines"


def test_olmo_core_header_with_eta(tmp_path):
    """OLMo-core's trainer prints '[step=15000/30000, eta=1 hour, 2 minutes]' (a logging prefix before it, colour
    codes around it) and the metrics on the lines after it."""
    p = tmp_path / "olmo.log"
    p.write_text(
        "[2026-01-01 00:00:00] INFO [olmo.train.trainer:1306, rank=0] [step=15000/30000, eta=1 hour, 2 minutes]\n"
        "    train/CrossEntropyLoss=1.2345\n"
        "\x1b[36m[2026-01-01 00:00:00] INFO [olmo.train.trainer:1306, rank=0] [step=30000/30000, eta=1 minute]\x1b[0m\n"
        "    train/CrossEntropyLoss=1.2001\n",
        encoding="utf-8",
    )
    run = read_run(p)
    assert run.format == "olmo" and list(run.batches.step) == [15000.0, 30000.0] and list(run.batches.loss) == [1.2345, 1.2001]


def test_composer_eval_belongs_to_the_last_training_batch():
    """'[Eval batch=4/4] Eval on eval data:' counts evaluation batches: the evaluation is placed at the training batch before it."""
    run = read_run(SCALE / "composer" / "healthy.log")
    assert list(run.epochs.step[:2]) == [200.0, 400.0]


def test_deepspeed_under_the_hf_trainer_reads_the_trainer_lines(tmp_path):
    """The Hugging Face Trainer with DeepSpeed: DeepSpeed's step lines carry no loss, the Trainer's dicts do. The
    console reader reads those; DeepSpeed's skipped steps are kept."""
    p = tmp_path / "hf_ds.log"
    lines = []
    for s in range(1, 41):
        lines.append(
            f"[2024-05-01 12:00:00,000] [INFO] [logging.py:96:log_dist] [Rank 0] step={s}, skipped={min(s, 3)}, lr=[0.0001], mom=[(0.9, 0.999)]"
        )
        lines.append(f"{{'loss': {5.0 - 0.05 * s:.4f}, 'learning_rate': 0.0001, 'epoch': {s / 40:.2f}}}")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "deepspeed" and run.config["console_format"] == "console"
    assert len(run.batches) == 40 and run.batches.loss[0] == pytest.approx(4.95)
    assert run.config["skipped_steps"] == 3
