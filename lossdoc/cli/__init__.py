"""The `lossdoc` command line: thin Typer commands over the library.

``main()`` is the console-script entry point. It runs the Typer app in
non-standalone mode so that every known error (LossdocError, a bad flag)
becomes one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING

import typer
from typer.exceptions import Abort, Exit, TyperException

from lossdoc import __version__
from lossdoc.cli.coercion import install as _plain_values
from lossdoc.cli.options import resolve_lang
from lossdoc.errors import LossdocError, last_input, one_line
from lossdoc.i18n import detect_lang, t

if TYPE_CHECKING:
    from typer._click import Command  # Typer's own copy of click (typer.main.get_command's type)

_plain_values()  # plain flag values without pydantic (lossdoc/cli/coercion.py)

app = typer.Typer(
    name="lossdoc",
    help="Is my loss curve OK? Loss floors, baselines and verdicts for language-model training runs.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    # Plain (click) help: rich markup would eat "[report]" in help texts, put <bool>/<str> placeholders after
    # flags and cut long option names at narrow widths. Plain help wraps at the terminal's width instead.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lossdoc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Is my loss curve OK? Loss floors, baselines and verdicts for language-model training runs."""
    from lossdoc.render import console

    console.refresh()


# The commands, in the order --help lists them (imported after ``app`` exists; each registers itself).
from lossdoc.cli import baseline as _baseline  # noqa: E402
from lossdoc.cli import check as _check  # noqa: E402
from lossdoc.cli import compare as _compare  # noqa: E402
from lossdoc.cli import explain as _explain  # noqa: E402
from lossdoc.cli import generate as _generate  # noqa: E402
from lossdoc.cli import train as _train  # noqa: E402
from lossdoc.cli import watch as _watch  # noqa: E402
from lossdoc.cli.help_names import install as _plain_arguments  # noqa: E402
from lossdoc.cli.help_names import name_placeholders  # noqa: E402

for _command in (_train, _explain, _baseline, _generate, _compare, _check, _watch):
    _command.register(app)
name_placeholders(app)
_plain_arguments()


def _lang_from_argv(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        value = a.split("=", 1)[1] if a.startswith("--lang=") else argv[i + 1] if a == "--lang" and i + 1 < len(argv) else None
        if value is not None:
            try:
                return resolve_lang(value)
            except LossdocError:
                return detect_lang()
    return detect_lang()


# The click command Typer builds from ``app`` (its parameters read from every command's signature: 7-8 ms of CPU), made
# once a process rather than once a run() call (a process that calls run() many times: the tests, a notebook). Typer
# reads one environment variable while it builds it (whether --show-completion detects the shell or is told it), so
# the command is kept per value of that variable.
_COMMANDS: dict[str | None, Command] = {}


def _click_command() -> Command:
    key = os.environ.get("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION")
    command = _COMMANDS.get(key)
    if command is None:
        command = _COMMANDS[key] = typer.main.get_command(app)
    return command


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (what main() exits with).

    The contract (docs/reliability.md): exit 0 with the command's output, 1 for --fail-on, 130 for Ctrl-C,
    or exit 2 with exactly one line on stderr, never a traceback. Anything unexpected is caught here, the
    one place, and named in one line with the input being read; LOSSDOC_DEBUG=1 lets it raise instead."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from_argv(args)
    debug = bool(os.environ.get("LOSSDOC_DEBUG"))
    command = _click_command()
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.simplefilter("ignore")  # numpy and library warnings are not the user's business
            rv = command.main(args=args, prog_name="lossdoc", standalone_mode=False)
    except LossdocError as exc:
        _error_line(f"lossdoc: {t('error.prefix', lang)}: {exc.render(lang)}")
        return exc.exit_code
    except TyperException as exc:  # bad flags and values, as Typer's parser reports them
        if type(exc).__name__ == "NoArgsIsHelpError":  # `lossdoc` alone, `lossdoc explain`-less groups: the help
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                typer.echo(ctx.get_help())
            return 0
        from lossdoc.cli.usage_errors import usage_message

        _error_line(f"lossdoc: {t('error.prefix', lang)}: {usage_message(exc, lang, args)}")
        return 2
    except Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # Typer's --show-completion / --install-completion end with sys.exit
        return exc.code if isinstance(exc.code, int) else 0
    except (Abort, KeyboardInterrupt):
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort of the contract
        if debug:
            raise
        _error_line(f"lossdoc: {t('error.prefix', lang)}: {_unexpected(exc, lang)}")
        return 2
    return rv if isinstance(rv, int) else 0


def _unexpected(exc: BaseException, lang: str) -> str:
    if isinstance(exc, UnicodeEncodeError):  # a terminal that cannot show the report (PYTHONIOENCODING=ascii, LANG=C)
        return t("error.output_encoding", lang, encoding=exc.encoding)
    path = last_input()
    if isinstance(exc, MemoryError) and path is not None:
        return t("error.out_of_memory", lang, path=one_line(path))
    detail = str(exc)
    detail = detail if len(detail) <= 200 else detail[:200] + "…"
    kind = type(exc).__name__
    if path is None:
        return t("error.internal_nopath", lang, kind=kind, detail=one_line(detail))
    return t("error.internal", lang, kind=kind, path=one_line(path), detail=one_line(detail))


def _error_line(line: str) -> None:
    """Print one line on stderr, whatever stderr's encoding (characters it cannot show are escaped)."""
    line = one_line(line)
    try:
        from lossdoc.render.console import err

        err.print(line, markup=False)
    except Exception:  # noqa: BLE001 - an ASCII-only stderr, a closed one: write what can be written
        try:
            enc = getattr(sys.stderr, "encoding", None) or "ascii"
            sys.stderr.write(line.encode(enc, errors="backslashreplace").decode(enc, errors="replace") + "\n")
        except Exception:  # noqa: BLE001
            pass


def main() -> None:
    sys.exit(run())
