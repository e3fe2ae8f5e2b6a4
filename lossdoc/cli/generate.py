"""`lossdoc generate`: sample text from a trained checkpoint with the run's tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import LangOption, resolve_lang


def register(app: typer.Typer) -> None:
    app.command("generate", help="Sample text from a trained checkpoint (a .pt file or a run folder), to see what a loss reads like.")(
        generate_command
    )


def generate_command(
    checkpoint: Path = typer.Argument(
        ..., metavar="CHECKPOINT", help="A checkpoint .pt file, or a run folder (its checkpoints/best.pt, else last.pt)."
    ),
    prompt: Optional[str] = typer.Option(
        None, "--prompt", help="Text to continue; token ids separated by spaces for synthetic data. Default: 'The'."
    ),
    max_new_tokens: int = typer.Option(200, "--max-new-tokens", "--max_new_tokens", help="Tokens to generate."),
    temperature: float = typer.Option(1.0, "--temperature", help="Softmax temperature; 0 takes the most likely token."),
    top_k: int = typer.Option(0, "--top-k", "--top_k", help="Sample among the k most likely tokens only; 0 = all."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the sampling."),
    lang: Optional[str] = LangOption,
) -> None:
    resolve_lang(lang)
    from lossdoc.errors import ConfigError

    if max_new_tokens < 1:
        raise ConfigError("--max-new-tokens", max_new_tokens, "ge", bound=1)
    if not temperature >= 0:
        raise ConfigError("--temperature", temperature, "ge", bound=0)
    if top_k < 0:
        raise ConfigError("--top-k", top_k, "ge", bound=0)
    if checkpoint.is_file() and checkpoint.suffix.lower() != ".pt":  # runs/x/config.yaml, run.jsonl: one clear line
        from lossdoc.errors import LossdocError

        raise LossdocError("error.generate_not_checkpoint", path=str(checkpoint))
    from lossdoc.render.console import out
    from lossdoc.train.generate import generate

    result = generate(checkpoint, prompt, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k or None, seed=seed)
    out.print(result.text, markup=False, highlight=False, soft_wrap=True)
