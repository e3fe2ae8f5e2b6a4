"""Start-up (issue 15, goal 4): `lossdoc --help` and `lossdoc baseline --vocab-size` import neither torch nor
pydantic, and the plain-value converter (lossdoc/cli/coercion.py) gives Typer's own values and messages."""

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer import core
from typer._coercion import build_runtime_param

import lossdoc.cli  # noqa: F401  (installs the converter)

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import io, sys, contextlib; from lossdoc.cli import run\n"
    "with contextlib.redirect_stdout(io.StringIO()): code = run(sys.argv[1:])\n"
    "print(code, *[m for m in ('torch', 'pydantic', 'numpy', 'lossdoc.train.loop') if m in sys.modules])"
)


@pytest.mark.parametrize(
    "argv, absent",
    [
        (["--help"], {"torch", "pydantic", "numpy"}),
        (["baseline", "--vocab-size", "10000"], {"torch", "pydantic"}),
        (["baseline", "--vocab-size", "64", "--loss", "3.5", "--init-logit-std", "0.5"], {"torch", "pydantic"}),
    ],
)
def test_startup_imports(argv, absent):
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    assert out[0] == "0"
    assert not absent & set(out[1:]), out


def _param(annotation, default, *decls):
    def cmd(x: annotation = typer.Option(default, *decls)) -> None:  # noqa: B008
        pass

    app = typer.Typer()
    app.command()(cmd)
    command = typer.main.get_command(app)
    return next(p for p in command.params if p.name == "x")


@pytest.mark.parametrize(
    "annotation, value",
    [
        (int, "12"),
        (int, "-3"),
        (int, "0"),
        (int, "007"),
        (int, " 5"),
        (int, "1_000"),
        (int, "abc"),
        (int, "1.5"),
        (float, "0.5"),
        (float, "-2"),
        (float, "1e-3"),
        (float, "nan"),
        (float, "x"),
        (str, "text"),
        (str, ""),
        (Path, "some/dir"),
        (Path, ""),
        # lists (explain's and compare's RUN...): every value plain, or Typer's adapter for the whole list
        (list[Path], ("run.jsonl", "some/dir", "tests")),
        (list[Path], ("run.jsonl", "")),
        (list[Path], ()),
        (list[Path], "run.jsonl"),
        (list[str], ("a", "")),
        (list[int], ("1", "-3")),
        (list[int], ("1", "1.5")),
        (list[float], ("0.5", "nan")),
    ],
)
def test_plain_values_are_typers_values(annotation, value):
    param = _param(annotation, None, "--x")
    assert param._runtime_param is None
    fast = param.get_runtime_param()
    assert type(fast).__name__ == "PlainRuntimeParam"
    typers = build_runtime_param(param.type_descriptor)

    def outcome(rp):
        try:
            return "ok", rp.coerce(value, param=param, ctx=None)
        except Exception as exc:  # noqa: BLE001 - the message is what must match
            return type(exc).__name__, str(exc)

    assert repr(outcome(fast)) == repr(outcome(typers))  # repr: nan equals nan, and types show


def test_the_converter_is_installed_once():
    from lossdoc.cli.coercion import install

    assert install() is True
    assert getattr(core._TyperParameter.get_runtime_param, "_lossdoc", False)
