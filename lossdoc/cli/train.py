"""`lossdoc train`: parse flags, resolve the config, call lossdoc.train.loop.train.

The training flags are not written here: each field of TrainConfig is one flag, with the
field's type, default and docstring as the flag's type, default and help (``train_flags``).
torch is imported only inside the command body, so `lossdoc --help` and the
log-reading commands start without it.
"""

from __future__ import annotations

import inspect
import os
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Optional

import typer

from lossdoc.cli.options import LangOption, resolve_lang
from lossdoc.errors import LossdocError
from lossdoc.train.config import TrainConfig, field_docs, flag_names, value_type


def register(app: typer.Typer) -> None:
    app.command("train", help="Train a small causal Transformer LM and write run.jsonl and checkpoints.")(train_command)


def shown_default(default: Any) -> str | None:
    """The default as ``--help`` and docs/train.md show it; None for a field whose default is worked out (d_ff, vocab_size)."""
    if default is None or default is MISSING or isinstance(default, bool):
        return None
    return str(default)


def train_flags() -> list[inspect.Parameter]:
    """One keyword parameter per TrainConfig field, holding its typer.Option: the field's flag names, type,
    default and docstring. Only the flags given on the command line are used (``given_flags``), so that a
    YAML --config still applies under them and --help shows the real defaults."""
    docs = field_docs()
    params = []
    for f in fields(TrainConfig):
        option = typer.Option(f.default, *flag_names(f), help=docs[f.name].replace("``", ""), show_default=shown_default(f.default) is not None)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[value_type(f)]))
    return params


def given_flags(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The TrainConfig flags set on the command line (a flag left at its default must not hide the YAML's value).
    Sources are compared by name: Typer carries its own copy of click's ParameterSource."""
    return {k: v for k, v in values.items() if getattr(ctx.get_parameter_source(k), "name", "DEFAULT") == "COMMANDLINE"}


def train_command(
    ctx: typer.Context,
    *,
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config; flags override it."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this folder from checkpoints/last.pt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run in --out."),
    nproc: Optional[int] = typer.Option(
        None,
        "--nproc",
        min=1,
        help=(
            "Train with N processes on this machine (DDP): lossdoc launches torchrun --nproc-per-node N -m lossdoc train "
            "with the other flags, for convenience. --batch-size is per process; the global batch is N times it. "
            "gloo on the CPU, nccl on CUDA (--backend). See docs/distributed.md."
        ),
    ),
    master_port: Optional[int] = typer.Option(
        None, "--master-port", min=1, max=65535, help="With --nproc: the TCP port of torchrun's rendezvous; default a free port."
    ),
    lang: Optional[str] = LangOption,
    **flags: Any,
) -> None:
    """The command body; ``flags`` holds one value per TrainConfig field."""
    flags = given_flags(ctx, flags)
    language = resolve_lang(lang)
    if nproc is not None:
        _launch(nproc, master_port, flags, config=config, resume=resume, overwrite=overwrite, lang=lang)
        return
    from lossdoc.train.config import resolve_config

    # every usage error before torch is imported (issue 24): a bad value, a YAML typo, a missing resume folder
    cfg = None
    if resume is not None:
        if not resume.is_dir():
            raise LossdocError("error.resume_no_folder", path=str(resume))
        if (resume / "checkpoints" / "last.pt").is_file() and (resume / "config.yaml").is_file():  # as train() will resolve it
            resumed = resolve_config(resume / "config.yaml", **{**{k: v for k, v in flags.items() if v is not None}, "out": str(resume)})
            done = _completed_epochs(resume)
            if done is not None and done >= resumed.epochs:
                raise LossdocError("error.resume_finished", path=str(resume), epochs=done)
    else:
        cfg = resolve_config(config, **flags)
        if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 tokenises; the others wait for it in the process group
            from lossdoc.train.source import prepare_source

            prepare_source(cfg)  # a missing file or an unreachable hub fails before the run folder is made and torch is imported
    from lossdoc.render.console import out as console
    from lossdoc.render.train_console import RichReporter, print_summary
    from lossdoc.train.loop import train

    reporter = RichReporter(console, language)
    if resume is not None or cfg is None:
        result = train(resume=resume, overrides={k: v for k, v in flags.items() if v is not None and k != "out"}, reporter=reporter)
    else:
        result = train(cfg, overwrite=overwrite, reporter=reporter)
    if result.rank != 0:  # a distributed run: rank 0 alone prints
        raise typer.Exit(result.exit_code)
    print_summary(console, result, language)
    from lossdoc.render.data_summary import SAMPLE_TEMPERATURE, print_data_summary, print_sample

    sample_tokens = print_data_summary(console, result, language)
    if sample_tokens:  # text data: show what the trained model writes
        from lossdoc.train.generate import DEFAULT_PROMPT, generate

        g = generate(result.out_dir, DEFAULT_PROMPT, max_new_tokens=sample_tokens, temperature=SAMPLE_TEMPERATURE, seed=0)
        print_sample(console, g.prompt, g.text, sample_tokens, language)
    if result.metrics_path.is_file():
        from lossdoc.analysis import diagnose
        from lossdoc.render.diagnosis import render_diagnosis
        from lossdoc.runlog.readers import read_run

        run = read_run(result.metrics_path)
        diagnosis = diagnose(run)
        if "next.real_data" in diagnosis.next_steps:
            from lossdoc.data.sources import hub_offline

            if hub_offline():  # wikitext2 would not load from here: name the real text that needs no network
                diagnosis.next_steps = ["next.real_data_offline" if k == "next.real_data" else k for k in diagnosis.next_steps]
        render_diagnosis(console, diagnosis, run, language, compact=True)
        from lossdoc.cli.runs import explain_command_for
        from lossdoc.i18n import t

        console.print(t("cli.explain_again", language, command=explain_command_for(result.metrics_path)), markup=False, soft_wrap=True)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _completed_epochs(folder: Path) -> int | None:
    """The epochs a finished run completed (its log's end record says ``completed``), else None."""
    import json

    from lossdoc.runlog.files import log_in

    try:
        with open(log_in(folder), "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 4096))
            last = fh.read().splitlines()[-1]
        end = json.loads(last)
    except (OSError, ValueError, IndexError):
        return None
    if isinstance(end, dict) and end.get("type") == "end" and end.get("status") == "completed" and isinstance(end.get("epochs_completed"), int):
        return int(end["epochs_completed"])
    return None


def _launch(
    nproc: int, master_port: int | None, flags: dict[str, Any], *, config: Path | None, resume: Path | None, overwrite: bool, lang: str | None
) -> None:
    """``--nproc N``: check what can be checked here, then run torchrun with the same flags (less --nproc)."""
    from lossdoc.train.config import resolve_config
    from lossdoc.train.distributed import launch, precheck

    if resume is None:
        precheck(resolve_config(config, **flags), nproc)  # a bad value, backend or world size: one line before any process starts
    argv = [f"--{k.replace('_', '-')}" if v is True else f"--{k.replace('_', '-')}={v}" for k, v in flags.items() if v is not None and v is not False]
    argv += [f"--config={config}"] if config is not None else []
    argv += [f"--resume={resume}"] if resume is not None else []
    argv += ["--overwrite"] if overwrite else []
    argv += [f"--lang={lang}"] if lang is not None else []
    code, error_line = launch(nproc, argv, port=master_port)
    if error_line is not None:
        from lossdoc.render.console import err

        err.print(error_line, markup=False, soft_wrap=True)
    if code:
        raise typer.Exit(code)


# Typer reads the command's options from its signature and type hints: ctx, then the TrainConfig flags
# (in field order, so --help lists them as TrainConfig does), then the command's own options.
_own = [p for p in inspect.signature(train_command).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
_flags = train_flags()
train_command.__signature__ = inspect.Signature([_own[0], *_flags, *_own[1:]])  # type: ignore[attr-defined]
train_command.__annotations__ = {**typing.get_type_hints(train_command), **{p.name: p.annotation for p in _flags}}


def markdown_flag_table() -> str:
    """docs/train.md's flag table, made from TrainConfig (tests/cli/test_train_flags.py keeps the doc in step)."""
    docs = field_docs()
    lines = ["| flag | default | what it sets |", "|---|---|---|"]
    for f in fields(TrainConfig):
        shown = shown_default(f.default)
        default = f"`{shown}`" if shown is not None else ("off" if isinstance(f.default, bool) else "(see text)")
        names = ", ".join(f"`{n}`" for n in flag_names(f))
        lines.append(f"| {names} | {default} | {_markdown(docs[f.name])} |")
    return "\n".join(lines) + "\n"


def _markdown(text: str) -> str:
    """A docstring as a table cell: ``x`` as code, and no '|' or '<...>' that markdown would take for markup."""
    return text.replace("``", "`").replace("|", "\\|").replace("<", "&lt;")
