import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lossdoc.cli import app, run

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_help_lists_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "train" in result.output


def test_help_and_version_never_import_torch():
    code = (
        "import sys; from lossdoc.cli import run; "
        "assert run(['--help']) == 0; assert run(['--version']) == 0; assert run(['train', '--help']) == 0; "
        "bad = [m for m in ('torch', 'datasets') if m in sys.modules]; assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_python_dash_m_works():
    proc = subprocess.run([sys.executable, "-m", "lossdoc", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("lossdoc ")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "--d-model", "30"], "--d-model '30'"),
        (["train", "--d_model", "30"], "--d-model '30'"),
        (["train", "--vocab-size", "2"], "--vocab-size '2'"),
        (["train", "--seq-len", "1"], "--seq-len '1'"),
        (["train", "--lr", "0"], "--lr '0.0'"),
        (["train", "--val-fraction", "1.5"], "--val-fraction '1.5'"),
        (["train", "--epochs", "abc"], "--epochs"),
        (["train", "--no-such-flag"], "--no-such-flag"),
        (["train", "--config", "/does/not/exist.yaml"], "/does/not/exist.yaml"),
        (["train", "--lang", "fr"], "'fr'"),
        (["train", "--device", "cuda" if not __import__("torch").cuda.is_available() else "tpu"], "device"),
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_2(capsys, args, needle, tmp_path):
    code = run(args + ["--out", str(tmp_path / "r")] if "--no-such-flag" not in args else args)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lossdoc: error: ") and needle in lines[0]
    assert "Traceback" not in captured.err


def test_errors_follow_the_language(capsys, tmp_path):
    assert run(["train", "--d_model", "30", "--lang", "zh", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lossdoc: 错误: ") and "--num-heads" in err and "整除" in err


def test_unknown_yaml_key_via_cli(capsys, tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("epochs: 1\nbogus: 2\n")
    assert run(["train", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert "bogus" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "fixture,fail_on,code",
    [
        ("tensorboard/exploding_lr", "broken", 1),  # the verdict's exit code survives a closed pipe
        ("tensorboard/random_plateau", "broken", 0),  # and a closed pipe alone is not a failure
    ],
)
def test_a_reader_that_goes_away_does_not_change_the_exit_code(fixture, fail_on, code):
    """`lossdoc explain RUN --fail-on broken | head -1`: the reader closes the pipe; explain finishes quietly
    and exits with the verdict's code, not rich's 1 for a broken pipe (which --fail-on could not be told from)."""
    from tests.conftest import ROOT

    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first byte: every write fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "lossdoc", "explain", str(ROOT / "tests" / "fixtures" / fixture), "--fail-on", fail_on],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(w)
    assert proc.returncode == code
    assert proc.stderr == ""


@pytest.mark.parametrize("cmd", ["explain", "compare", "watch"])
def test_shared_options_keep_their_named_placeholders(cmd):
    """The options explain, compare and watch share are Annotated types (cli/options.py): --help still names
    their values as the other options do."""
    text = " ".join(CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": "200"}).output.split())
    for shown in ("--vocab-size, --vocab_size V", "--floor NATS", "--random-low, --random_low ID", "--format FORMAT"):
        assert shown in text, (cmd, shown)


def test_no_arguments_prints_the_help_and_exits_0(capsys):
    assert run([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: lossdoc") and "explain" in out and "train" in out


def test_no_arguments_in_a_subprocess_prints_the_help():
    proc = subprocess.run([sys.executable, "-m", "lossdoc"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Usage: lossdoc" in proc.stdout and "Commands:" in proc.stdout


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("cmd", ["explain", "compare", "watch", "generate", "check", "train", "baseline"])
def test_help_names_its_placeholders_without_python_types(cmd):
    text = _help(cmd)
    for leak in ("{RUN", "{TARGET", "{checkpoint", "<path>", "<str>", "<list[", "<int>", "<float>", "(default "):
        assert leak not in text, (cmd, leak)
    usage = text.splitlines()[0]
    expected = {"explain": "[RUN...]", "compare": "RUN...", "watch": "RUN", "generate": "CHECKPOINT", "check": "TARGET"}.get(cmd)
    assert expected is None or usage.endswith(expected), usage


@pytest.mark.parametrize(
    "cmd, shown",
    [
        ("train", "--backend auto|gloo|nccl"),
        ("train", "--stop_on broken|overfitting|plateau"),
        ("train", "--device auto|cpu|cuda|mps"),
        ("check", "--labels shifted|unshifted"),
        ("check", "--device auto|cpu|cuda|mps"),
        ("explain", "--lang en|zh"),
        ("explain", "--fail-on broken|overfitting|never"),
        ("watch", "--fail-on broken|overfitting|never"),
    ],
)
def test_fixed_choice_options_list_their_choices(cmd, shown):
    assert shown in " ".join(_help(cmd).split())


def test_format_help_lists_every_format_the_readers_know():
    from lossdoc.cli.help_names import LOG_FORMATS
    from lossdoc.runlog.readers import formats

    assert tuple(formats()) == LOG_FORMATS
    text = " ".join(__import__("re").sub(r"-\n\s+", "-", _help("explain")).split())  # lightning-csv may wrap at its hyphen
    assert all(f in text for f in LOG_FORMATS)


def test_root_help_does_not_cut_command_summaries():
    text = _help()
    assert "..." not in text.split("Commands:")[1]
    assert "train/eval mode." in " ".join(text.split())


def test_baseline_seed_has_its_own_help_and_defaults_have_one_style():
    text = " ".join(_help("baseline").split())
    assert "--seed N With --data dummy, zipf or markov: the seed of the generated data" in text
    assert "[default: 3]" in text  # --min-freq, as train writes it
    train = " ".join(_help("train").split())
    assert "Seed for data, initialisation" in train


def test_explain_accepts_the_underscore_spelling_of_vocab_size(capsys):
    fixture = ROOT / "tests" / "fixtures" / "seed_console" / "seed_en.txt"
    assert run(["explain", str(fixture), "--vocab_size", "10000", "--json"]) == 0
    assert '"vocab_size": 10000' in capsys.readouterr().out


@pytest.mark.parametrize(
    "words, expected",
    [
        (["explain", "--lang", ""], {"en", "zh"}),
        (["train", "--device", "c"], {"cpu", "cuda"}),
        (["explain", "--format", "l"], {"lossdoc", "lightning-csv", "litgpt"}),
        (["explain", "--fail-on", "o"], {"overfitting"}),
        (["train", "--data", "w"], {"wikitext2", "wikitext103"}),
        (["check", "--labels", ""], {"shifted", "unshifted"}),
    ],
)
def test_option_values_complete_from_their_choices(words, expected):
    # the app as `lossdoc` runs it (app(prog_name='lossdoc')), in this process; a real `python -m lossdoc` completing
    # a command is tests/cli/test_seed_path.py's test_shell_completion_is_on
    env = {"_LOSSDOC_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["lossdoc", *words]), "COMP_CWORD": str(len(words))}
    result = CliRunner().invoke(app, [], env=env, prog_name="lossdoc")
    assert set(result.stdout.split()) == expected, (result.stdout, result.stderr)
