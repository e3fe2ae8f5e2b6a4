"""`lossdoc check`: lossdoc's model passes, each model fault fails exactly its check, nanoGPT and HF
models are handled, bad input is one line with exit 2. Real tiny torch models (tests/check/models.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from lossdoc.check import ORDER, run_checks
from lossdoc.cli import app, run
from lossdoc.i18n import t
from lossdoc.render.check import check_dict, render_check

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "check" / "models.py"


def target(name: str) -> str:
    return f"{MODELS}:{name}"


def statuses(report) -> dict[str, str]:
    return {f.code: f.status for f in report.findings}


def failing(report) -> set[str]:
    return {f.code for f in report.findings if f.status == "fail"}


@pytest.fixture(scope="module")
def good():
    return run_checks(target("lossdoc_model"))


def fault_config(tmp_path: Path, fault: str | None) -> Path:
    """configs/faults.yaml (V = 64, one layer, seq_len 16) with an --inject fault, as `train --inject` would record it."""
    text = (ROOT / "configs" / "faults.yaml").read_text()
    p = tmp_path / f"{fault or 'none'}.yaml"
    p.write_text(text + (f"inject: {fault}\n" if fault else ""))
    return p


# ---------------------------------------------------------------- lossdoc's own model


def test_lossdoc_model_passes_every_check(good):
    assert [f.code for f in good.findings] == list(ORDER)
    assert statuses(good) == {code: "pass" for code in ORDER}, [(f.code, f.key, f.args) for f in good.findings]
    assert good.verdict == "pass" and good.exit_code == 0
    init = good.finding("init-loss")
    # the measured std of lossdoc's head at init is sqrt(1/3 + 1/(3 d_model)) = 0.5822 for d_model 32
    assert abs(init.args["sigma"] - 0.5822) < 0.03
    assert init.args["low"] <= init.measured <= init.args["high"]
    assert abs(init.measured - init.reference) < 3 * init.args["se"] + 0.02
    assert good.finding("train-eval").key == "chk.mode.ok"  # dropout 0.1: on in train mode, off in eval mode
    assert good.finding("causality").measured == 0.0  # exact in fp32


@pytest.mark.slow  # the default-size model through all seven checks (~14 s); the tiny model's test is fast
def test_lossdocs_default_model_passes_every_check():
    """The shipped default (configs/default.yaml: V = 10000, d_model 256, two layers, dropout 0.1), as `train` builds it."""
    report = run_checks(f"lossdoc:{ROOT / 'configs' / 'default.yaml'}")
    assert statuses(report) == {code: "pass" for code in ORDER}, [(f.code, f.key, f.args) for f in report.findings]
    init = report.finding("init-loss")
    assert abs(init.args["sigma"] - 0.5785) < 0.02  # docs/floors.md: sqrt(257/768)
    assert abs(init.measured - 9.3776) < 0.05  # the seed's first loss, ln 10000 + 1/6
    assert report.finding("labels").args["k"] == 64  # the labels probes draw from 64 of the 10000 tokens


def test_lossdoc_model_leaves_the_users_model_as_it_was():
    from tests.check import models

    torch.manual_seed(0)
    m = models.lossdoc_model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    from lossdoc.check import checks as C
    from lossdoc.check.adapt import Forward

    fw = Forward(m, 16, None, torch.device("cpu"))
    s = C.Settings(seq_len=16, steps=20)
    C.check_overfit(fw, s)
    C.check_gradient_flow(fw, s)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert all(p.grad is None for p in m.parameters())


@pytest.mark.parametrize(
    "fault, check",
    [
        ("no-causal-mask", "causality"),
        ("large-init-logits", "init-loss"),
        ("unshifted-labels", "labels"),
    ],
)
def test_each_model_fault_fails_exactly_the_check_that_names_it(tmp_path, fault, check):
    report = run_checks(f"lossdoc:{fault_config(tmp_path, fault)}")
    assert failing(report) == {check}, [(f.code, f.status, f.key) for f in report.findings]
    assert report.exit_code == 1
    assert report.seq_len == 16 and report.vocab_size == 64  # the run's own sizes


def test_the_same_config_without_a_fault_passes(tmp_path):
    report = run_checks(f"lossdoc:{fault_config(tmp_path, None)}")
    assert failing(report) == set() and report.verdict == "pass"


def test_a_training_only_fault_is_named_as_out_of_reach(tmp_path):
    report = run_checks(f"lossdoc:{fault_config(tmp_path, 'zero-lr')}")
    assert report.verdict == "pass"
    assert ("chk.note.inject_training", {"fault": "zero-lr"}) in report.notes


def test_no_causal_mask_names_the_first_leaking_position(tmp_path):
    report = run_checks(target("no_causal_mask"))
    f = report.finding("causality")
    assert f.status == "fail" and f.args["position"] == 0  # the first position sees every later token
    assert report.finding("labels").status == "skipped"  # a model that sees the future says nothing about labels
    assert failing(report) == {"causality"}


def test_unshifted_labels_on_a_model_file(good):
    report = run_checks(target("lossdoc_model"), labels="unshifted")
    assert failing(report) == {"labels"}
    f, ok = report.finding("labels"), good.finding("labels")
    assert f.measured < 0.9 * f.reference  # collapses below the floor ln K on random data
    assert ok.measured >= 0.9 * ok.reference  # the standard shift cannot


# ---------------------------------------------------------------- other broken models


def test_a_detached_layer_fails_gradient_flow():
    report = run_checks(target("detached"))
    f = report.finding("gradient-flow")
    assert f.status == "fail" and f.key == "chk.grad.none"
    assert f.args["none_names"] == ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]
    assert "mlp.0.weight" in t(f.key, "en", **{k: v for k, v in f.args.items() if not k.endswith("_names")})
    assert failing(report) == {"gradient-flow"}


def test_a_model_that_ignores_its_input_fails_input_dependence():
    report = run_checks(target("ignores_input"))
    assert report.finding("input-dependence").status == "fail"
    assert report.finding("gradient-flow").args["zero_names"] == ["tok.weight"]  # multiplied by zero: a zero gradient


def test_dropout_left_on_in_eval_mode_fails_train_eval():
    report = run_checks(target("always_dropout"))
    assert report.finding("train-eval").key == "chk.mode.eval_random"
    assert report.finding("causality").key == "chk.skip.random_eval"  # not blamed on causality


def test_nanogpt_style_model_is_called_with_targets():
    report = run_checks(target("nanogpt"))
    assert ("chk.note.last_only", {"kw": "targets"}) in report.notes
    assert report.output == "tuple[0]"
    assert report.verdict == "pass", [(f.code, f.status, f.key, f.args) for f in report.findings]


def test_checks_that_cannot_run_in_train_mode_are_skipped_with_the_reason(capsys):
    report = run_checks(target("train_needs_labels"))
    st = statuses(report)
    assert st["init-loss"] == st["causality"] == "pass"  # eval mode works
    for code in ("labels", "overfit", "gradient-flow", "train-eval"):
        f = report.finding(code)
        assert f.status == "skipped" and f.key == "chk.skip.raised" and "labels are required in training mode" in f.args["detail"], code
    assert report.finding("input-dependence").key == "chk.skip.after_overfit"
    assert report.verdict == "pass" and report.exit_code == 0  # nothing failed; the table says what did not run
    doc = check_dict(report, "zh")
    assert doc["verdict_text"] == "通过：所有运行的检查均通过（7 项中有 5 项无法运行）"
    assert "调用模型时出错" in doc["findings"][4]["message"]  # the reason in the reader's language
    assert run(["check", target("train_needs_labels"), "--debug", "--json"]) == 0
    err = capsys.readouterr().err
    assert "[gradient-flow]" in err and 'raise ValueError("labels are required in training mode")' in err


def test_a_check_that_cannot_run_is_skipped_with_the_reason():
    from lossdoc.check import checks as C
    from lossdoc.check.adapt import Forward
    from tests.check import models

    m = models.lossdoc_model()
    for p in m.parameters():
        p.requires_grad_(False)
    fw = Forward(m, 8, None, torch.device("cpu"))
    s = C.Settings(seq_len=8)
    assert C.check_gradient_flow(fw, s).key == "chk.skip.frozen"
    assert C.check_overfit(fw, s)[0].status == "skipped"


# ---------------------------------------------------------------- Hugging Face


@pytest.mark.xdist_group("hf-lightning")  # where transformers is imported once (tests/integrations/test_hf.py)
def test_tiny_hf_gpt2_passes_through_hf(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64, n_positions=64, bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(cfg).save_pretrained(tmp_path / "gpt2")
    r = CliRunner().invoke(app, ["check", f"hf:{tmp_path / 'gpt2'}", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "pass" and doc["kind"] == "hf"
    assert doc["model"]["vocab_size"] == 64 and doc["model"]["output"].endswith(".logits")
    assert [f["status"] for f in doc["findings"]] == ["pass"] * 7


# ---------------------------------------------------------------- output: table, JSON, exit codes


def test_table_in_english_and_chinese(good):
    from rich.console import Console

    for lang, words in (("en", ["PASS", "1 loss at init", "7 train/eval mode", "ln V + σ²/2"]), ("zh", ["通过", "初始损失", "因果性", "梯度流"])):
        console = Console(record=True, width=160)
        render_check(console, good, lang)
        text = console.export_text()
        for w in words:
            assert w in text, (lang, w)


def test_json_document(good):
    doc = check_dict(good, "zh")
    assert doc["schema"] == "lossdoc.check/1" and doc["verdict"] == "pass" and doc["exit_code"] == 0
    assert [f["code"] for f in doc["findings"]] == list(ORDER)
    assert all(f["message"] and f["message_key"].startswith("chk.") for f in doc["findings"])
    assert doc["findings"][0]["measured"] == good.findings[0].measured


def test_cli_exit_code_is_1_when_a_check_fails():
    r = CliRunner().invoke(app, ["check", target("no_causal_mask"), "--lang", "zh"])
    assert r.exit_code == 1
    assert "失败" in r.output and "因果性" in r.output


def test_check_help_does_not_import_torch():
    code = "import sys; from lossdoc.cli import run; assert run(['check', '--help']) == 0; assert 'torch' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- bad input: one line, exit 2


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("/does/not/exist.py:make", "/does/not/exist.py"),
        (f"{MODELS}:raises", "ValueError: no such layer size: 7"),
        (f"{MODELS}:wrong_shape", "(2, 64, 32)"),
        (f"{MODELS}:not_a_module", "not a torch.nn.Module"),
        (f"{MODELS}:no_such_factory", "no_such_factory"),
        (f"{MODELS}:last_only", "last position only"),
        (f"{MODELS}:needs_mask", "missing 1 required positional argument: 'mask'"),
        ("model.pt", "file.py:factory"),
        ("hf:/does/not/exist", "/does/not/exist"),
        ("lossdoc:/does/not/exist", "/does/not/exist"),
    ],
)
def test_bad_input_is_one_line_with_exit_2(capsys, spec, needle):
    code = run(["check", spec])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lossdoc: error: ") and needle in lines[0]
    assert "Traceback" not in err


def test_debug_shows_the_users_traceback(capsys):
    assert run(["check", f"{MODELS}:raises", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and 'raise ValueError("no such layer size: 7")' in err
    assert err.strip().splitlines()[-1].startswith("lossdoc: error: ")


def test_a_broken_import_is_one_line(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("import torch\nraise RuntimeError('CUDA out of memory')\n")
    assert run(["check", f"{bad}:make"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "RuntimeError: CUDA out of memory" in err


def test_lossdoc_run_folder_and_checkpoint(tmp_path, capsys):
    """A run folder as `train` leaves it (config.yaml, checkpoints/last.pt): fresh init by default, the weights with --trained."""
    from lossdoc.train.checkpoint import save_checkpoint
    from lossdoc.train.config import dump_yaml, resolve_config
    from lossdoc.train.model import ModelConfig, TransformerLM

    cfg = resolve_config(fault_config(tmp_path, "large-init-logits"))
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text(dump_yaml(cfg))
    torch.manual_seed(1)
    trained = TransformerLM(ModelConfig(vocab_size=64, max_len=16, d_model=32, num_layers=1, num_heads=2, d_ff=128, dropout=0.0))
    save_checkpoint({"model": trained.state_dict(), "config": cfg.to_dict()}, run_dir / "checkpoints" / "last.pt")

    fresh = run_checks(f"lossdoc:{run_dir}")
    assert failing(fresh) == {"init-loss"}  # the run's fault, rebuilt
    loaded = run_checks(f"lossdoc:{run_dir}", trained=True)
    assert loaded.finding("init-loss").key == "chk.skip.trained"
    assert failing(loaded) == set()  # these weights were saved without the fault
    also = run_checks(f"lossdoc:{run_dir / 'checkpoints' / 'last.pt'}", trained=True)
    assert also.finding("causality").measured == loaded.finding("causality").measured

    assert run(["check", f"lossdoc:{fault_config(tmp_path, None)}", "--trained"]) == 2
    assert "--trained needs a checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize(
    "wrap, kind",
    [
        (lambda z: {"logits": z, "loss": None}, "dict['logits']"),
        (lambda z: [z, None], "list[0]"),
        (lambda z: type("Out", (), {"logits": z})(), "Out.logits"),
    ],
)
def test_common_output_shapes_are_accepted(wrap, kind):
    from lossdoc.check.adapt import Forward
    from tests.check import models

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = models.lossdoc_model()

        def forward(self, idx):
            return wrap(self.inner(idx))

    fw = Forward(Wrapped(), 8, None, torch.device("cpu"))
    assert fw.output_kind == kind and fw.vocab_size == 64
    assert fw(torch.zeros(3, 8, dtype=torch.long)).shape == (3, 8, 64)


def test_vocab_size_must_match_the_logits(capsys):
    assert run(["check", target("lossdoc_model"), "--vocab-size", "100"]) == 2
    assert "64 classes but --vocab-size is 100" in capsys.readouterr().err


def test_training_checks_stop_at_the_time_limit_and_say_so():
    report = run_checks(target("lossdoc_model"), time_limit=1e-9)
    over = report.finding("overfit")
    assert over.args["timed_out"] and over.args["steps"] == 0 and over.status == "warn"  # out of time is no evidence
    assert report.finding("labels").args["timed_out"]
    assert report.finding("input-dependence").key == "chk.skip.no_overfit"  # nothing learned: no comparison, no false failure
    from lossdoc.render.check import finding_sentence

    assert finding_sentence(over, "en").endswith("Stopped at the time limit (--time-limit).")
