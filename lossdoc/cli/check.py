"""`lossdoc check TARGET`: checks that catch a broken pipeline before any training, on the user's own model.

Thin: parse, call lossdoc.check.run_checks, render. torch is imported only
inside the command, so `lossdoc --help` stays light. The target's code runs in
this process (`check` imports the file it is given).
"""

from __future__ import annotations

from typing import Optional

import typer

from lossdoc.cli.options import LangOption, resolve_lang


def register(app: typer.Typer) -> None:
    app.command(
        "check",
        help="Check a model before training: init loss, causality, labels, overfit one batch, gradient flow, input dependence, train/eval mode.",
    )(check_command)


def check_command(
    target: str = typer.Argument(
        ...,
        metavar="TARGET",
        help="path/to/file.py:factory (imported and run in this process), lossdoc:RUN_OR_CHECKPOINT, or hf:PATH (a local Hugging Face causal LM folder).",
    ),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", help="Vocabulary size V. Default: the last dimension of the model's logits."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", help="Tokens per sequence. Default: 32, or the model's context if shorter."),
    batch_size: int = typer.Option(4, "--batch-size", help="Sequences per batch."),
    device: str = typer.Option(
        "cpu", "--device", help="Where the checks run: cpu, cuda, mps or auto (cpu by default: the causality check is exact in fp32)."
    ),
    labels: Optional[str] = typer.Option(
        None,
        "--labels",
        help="How your training code pairs logits with labels: shifted (labels = next tokens) or unshifted (labels = inputs); the labels check trains with it. Default: shifted, or the run's own for lossdoc: targets.",
    ),
    steps: int = typer.Option(200, "--steps", help="At most this many AdamW steps to overfit one batch."),
    lr: float = typer.Option(3e-3, "--lr", help="Learning rate of the overfit check; the labels probes use 10/3 of it."),
    seed: Optional[int] = typer.Option(
        None, "--seed", help="Seed of the ids and of the initialisation. Default: 0, or the run's seed for lossdoc: targets."
    ),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds each training check may run before it stops and reports what it reached."),
    trained: bool = typer.Option(
        False, "--trained", help="lossdoc: targets: load the checkpoint's trained weights instead of a fresh initialisation."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON document (schema lossdoc.check/1)."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of the user's code when loading or a check fails."),
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    from lossdoc.errors import ConfigError, LossdocError
    from lossdoc.render.console import err, out

    if not time_limit > 0:
        raise ConfigError("--time-limit", time_limit, "gt", bound=0)
    from lossdoc.check import run_checks

    try:
        report = run_checks(
            target,
            vocab_size=vocab_size,
            seq_len=seq_len,
            batch_size=batch_size,
            device=device,
            labels=labels,
            steps=steps,
            lr=lr,
            seed=seed,
            time_limit=time_limit,
            trained=trained,
        )
    except LossdocError as exc:
        tb = getattr(exc, "user_traceback", None)
        if debug and tb:
            err.print(tb.rstrip(), markup=False, highlight=False)
        if debug:
            from lossdoc.i18n import catalogs

            if f"{exc.key}.debug" in catalogs()["en"]:  # the traceback is shown: no "(--debug shows the traceback)"
                exc.key = f"{exc.key}.debug"
        raise
    if debug:
        for code, tb in report.tracebacks.items():
            err.print(f"[{code}]\n{tb.rstrip()}", markup=False, highlight=False)
    if as_json:
        from lossdoc.render.check import to_json

        out.print(to_json(report, language), markup=False, highlight=False, soft_wrap=True)
    else:
        from lossdoc.render.check import render_check

        render_check(out, report, language)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
