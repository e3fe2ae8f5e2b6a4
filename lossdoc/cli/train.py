"""`lossdoc train`: parse flags, resolve the config, call lossdoc.train.loop.train.

torch is imported only inside the command body, so `lossdoc --help` and the
log-reading commands start without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import (
    LangOption,
    CacheDirOption,
    MarkovSuccessorsOption,
    MinFreqOption,
    SeqLenOption,
    TextColumnOption,
    TokenizerOption,
    ValFileOption,
    ValFractionOption,
    ZipfExponentOption,
)
from lossdoc.i18n import resolve_lang


def register(app: typer.Typer) -> None:
    app.command("train", help="Train a small causal Transformer LM and write run.jsonl and checkpoints.")(train_command)


def train_command(
    data: Optional[str] = typer.Option(None, "--data", "--dataset", help="Data source: dummy (uniform random tokens in [1, V), like the seed), zipf, markov, pydoc, wikitext2, wikitext103, hf:NAME[:CONFIG], or a .txt file/folder."),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", "--vocab_size", help="Vocabulary size V: an integer >= 2, >= 3 for dummy data (default 10000; 64 for markov)."),
    seq_len: Optional[int] = SeqLenOption,
    num_samples: Optional[int] = typer.Option(None, "--num-samples", "--num_samples", help="Dummy sequences in all (default 2000)."),
    val_fraction: Optional[float] = ValFractionOption,
    d_model: Optional[int] = typer.Option(None, "--d-model", "--d_model", help="Model width (default 256)."),
    num_layers: Optional[int] = typer.Option(None, "--num-layers", "--num_layers", help="Transformer blocks (default 2)."),
    num_heads: Optional[int] = typer.Option(None, "--num-heads", "--num_heads", help="Attention heads (default 4)."),
    d_ff: Optional[int] = typer.Option(None, "--d-ff", "--d_ff", help="MLP width (default 4 x d_model)."),
    dropout: Optional[float] = typer.Option(None, "--dropout", help="Dropout (default 0.1)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "--batch_size", help="Sequences per step (default 16)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Passes over the training split (default 2)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="AdamW learning rate (default 5e-3)."),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", "--weight_decay", help="AdamW weight decay (default 0.01)."),
    grad_clip: Optional[float] = typer.Option(None, "--grad-clip", "--grad_clip", help="Clip the gradient norm; 0 disables (default 1.0)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default 42)."),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda or mps (default auto)."),
    use_amp: Optional[bool] = typer.Option(None, "--use-amp", "--use_amp", help="Mixed precision (bf16 on CPU, fp16 + scaler on CUDA)."),
    out: Optional[str] = typer.Option(None, "--out", help="Output folder (default runs/<run id>)."),
    inject: Optional[str] = typer.Option(None, "--inject", help="Break the run on purpose to see what explain says: no-causal-mask, unshifted-labels, zero-lr, exploding-lr, large-init-logits, val-leak, nan-loss."),
    on_nonfinite: Optional[str] = typer.Option(None, "--on-nonfinite", help="On a NaN/Inf loss: stop (default) or skip the update."),
    tokenizer: Optional[str] = TokenizerOption,
    min_freq: Optional[int] = MinFreqOption,
    val_file: Optional[str] = ValFileOption,
    text_column: Optional[str] = TextColumnOption,
    zipf_exponent: Optional[float] = ZipfExponentOption,
    markov_successors: Optional[int] = MarkovSuccessorsOption,
    cache_dir: Optional[str] = CacheDirOption,
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config; flags override it."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this folder from checkpoints/last.pt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run in --out."),
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    flags = dict(
        data=data, vocab_size=vocab_size, seq_len=seq_len, num_samples=num_samples, val_fraction=val_fraction,
        d_model=d_model, num_layers=num_layers, num_heads=num_heads, d_ff=d_ff, dropout=dropout,
        batch_size=batch_size, epochs=epochs, lr=lr, weight_decay=weight_decay, grad_clip=grad_clip, seed=seed,
        device=device, use_amp=use_amp, out=out, inject=inject, on_nonfinite=on_nonfinite,
        tokenizer=tokenizer, min_freq=min_freq, val_file=val_file, text_column=text_column,
        zipf_exponent=zipf_exponent, markov_successors=markov_successors, cache_dir=cache_dir,
    )
    from lossdoc.render.console import out as console
    from lossdoc.render.train_console import RichReporter, print_summary
    from lossdoc.train.config import resolve_config
    from lossdoc.train.loop import train

    reporter = RichReporter(console, language)
    if resume is not None:
        result = train(resume=resume, overrides={k: v for k, v in flags.items() if v is not None and k != "out"}, reporter=reporter)
    else:
        cfg = resolve_config(config, **flags)
        from lossdoc.train.data import prepare_source

        prepare_source(cfg)  # a missing file or an unreachable hub fails before the run folder is made
        result = train(cfg, overwrite=overwrite, reporter=reporter)
    print_summary(console, result, language)
    from lossdoc.render.data_summary import print_data_summary

    print_data_summary(console, result, language)
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
