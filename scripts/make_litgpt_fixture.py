"""Write tests/fixtures/scale/litgpt_real/*.log with litgpt itself: ``litgpt.pretrain.setup`` (litgpt 0.5.13) trains
a tiny GPT on a CPU, and what it prints (its hyperparameters, the 'Epoch ... | iter ... step ... | loss train' lines,
'iter N: val loss', 'Final evaluation') is the fixture. Three runs of (up to) 150 optimizer steps of 4 micro-batches on the same learnable sequence: healthy (lr 3e-3),
unstable (lr 1 held constant: min_lr = lr) and diverging (lr 30 held constant). The diverging run ends as litgpt ends
it: its validation loss passes 709 nats and ``math.exp(val_loss)`` (the perplexity it logs) raises OverflowError;
the fixture is what a console captured with ``2>&1`` shows, the lines printed and then the traceback.

litgpt is not a dependency of lossdoc. It installs without replacing the CPU torch when its own dependencies are
left out (they are the installed torch, lightning, safetensors, tokenizers, tqdm, psutil and huggingface-hub, plus
jsonargparse with docstring-parser and typeshed-client, which are not installed otherwise):

    pip install --no-deps --target /tmp/litgpt_t litgpt==0.5.13 "jsonargparse[signatures]>=4.37,<=4.41" \
        docstring-parser typeshed-client
    PYTHONPATH=/tmp/litgpt_t python scripts/make_litgpt_fixture.py [healthy] [diverging]

Each run takes about 50 s of CPU (2 minutes on the shared 2-core machine, mostly litgpt's and lightning's imports and
the first steps).

Data: litgpt's data modules (TextFiles, TinyStories) need litdata and a tokenizer; a DataModule of its own here
gives token ids directly (a repeating sequence with noise, V = 64). ``torch.compile``, which pretrain calls, is
turned off with TORCHDYNAMO_DISABLE=1 (compiling needs minutes on a CPU and changes nothing that is printed).
Timings differ from run to run; the losses are seeded.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import traceback
from pathlib import Path

os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

import torch  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

# name -> (lr, min_lr of litgpt's cosine schedule)
RUNS = {"healthy": (3e-3, 3e-4), "unstable": (1.0, 1.0), "diverging": (30.0, 30.0)}
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "scale" / "litgpt_real"
V = 64
BLOCK = 32


class _Tokens(Dataset):
    """Rows of BLOCK + 1 token ids: a fixed sequence of period 16 read from a random offset, 10% of ids random."""

    def __init__(self, n: int, seed: int) -> None:
        base = torch.randint(0, V, (16,), generator=torch.Generator().manual_seed(0))  # one sequence for train and val
        g = torch.Generator().manual_seed(seed)
        offsets = torch.randint(0, 16, (n,), generator=g)
        idx = (offsets[:, None] + torch.arange(BLOCK + 1)[None, :]) % 16
        rows = base[idx]
        noise = torch.rand(rows.shape, generator=g) < 0.1
        self.rows = torch.where(noise, torch.randint(0, V, rows.shape, generator=g), rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.rows[i]


def _data_module():
    from litgpt.data import DataModule

    class Synthetic(DataModule):
        def connect(self, tokenizer=None, batch_size: int = 1, max_seq_length: int | None = None, **_) -> None:
            self.batch_size = batch_size

        def train_dataloader(self) -> DataLoader:
            return DataLoader(_Tokens(4096, 0), batch_size=self.batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))

        def val_dataloader(self) -> DataLoader:
            return DataLoader(_Tokens(64, 1), batch_size=self.batch_size)

    return Synthetic()


def pretrain(lr: float, min_lr: float, out_dir: Path) -> str:
    from litgpt.args import EvalArgs, TrainArgs
    from litgpt.config import Config
    from litgpt.pretrain import setup

    config = Config(name="tiny", block_size=BLOCK, vocab_size=V, padded_vocab_size=V, n_layer=2, n_head=2, n_embd=32, bias=True)
    train = TrainArgs(
        save_interval=None,
        log_interval=1,
        global_batch_size=16,
        micro_batch_size=4,  # 4 iterations (micro-batches) make one optimizer step
        max_tokens=16 * BLOCK * 150,  # 150 optimizer steps
        lr_warmup_steps=10,
        max_norm=1.0,
        min_lr=min_lr,
        tie_embeddings=False,
    )
    buf = io.StringIO()
    argv, sys.argv = sys.argv, ["litgpt", "tiny"]  # the final checkpoint saves the hyperparameters parsed from the command line
    try:
        with contextlib.redirect_stdout(buf):
            setup(
                model_name="tiny",
                model_config=config,
                out_dir=out_dir,
                precision="32-true",
                data=_data_module(),
                train=train,
                eval=EvalArgs(interval=25, max_iters=4),
                optimizer={"class_path": "torch.optim.AdamW", "init_args": {"lr": lr, "weight_decay": 0.0}},
                devices=1,
                logger_name="csv",
                seed=42,
            )
    except OverflowError:  # litgpt's own end of a run whose loss blew up (see the docstring)
        buf.write(traceback.format_exc())
    finally:
        sys.argv = argv
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    import litgpt

    print(f"litgpt {getattr(litgpt, '__version__', '?')} from {litgpt.__file__}, torch {torch.__version__}", file=sys.stderr)
    wanted = sys.argv[1:] or list(RUNS)
    for name in wanted:
        lr, min_lr = RUNS[name]
        with tempfile.TemporaryDirectory() as tmp:
            text = pretrain(lr, min_lr, Path(tmp) / "out")
        (OUT / f"{name}.log").write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}.log ({text.count(chr(10))} lines)", file=sys.stderr)


if __name__ == "__main__":
    main()
