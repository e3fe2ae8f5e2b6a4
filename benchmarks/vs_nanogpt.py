"""lossdoc's training step against nanoGPT's bare model-and-AdamW step, at the seed's size, in one process.

Usage: python benchmarks/vs_nanogpt.py NANOGPT_DIR [--device cpu|cuda] [--use-amp] [--steps 40] [--compile] [--loop 3]

NANOGPT_DIR is a checkout of https://github.com/karpathy/nanoGPT: its model.py is imported from there and
never copied into this repository. Both models have the same size (V 10000, d_model 256, 2 layers, 4 heads,
d_ff 1024, sequence 64, batch 16, dropout 0.1, biases), AdamW at lr 5e-3 and weight decay 0.01 (nanoGPT's own
``configure_optimizers``: fused on CUDA only), gradient clipping at 1.0, and the same batches. lossdoc's side
is the loop's own ``train_step`` with the loop's own optimizer (``build_optimizer``) and precision; nanoGPT
runs under the same autocast (bf16 on CPU; on CUDA fp16 with a gradient scaler, as lossdoc does).

The steps alternate (lossdoc, nanoGPT, lossdoc, ...) so that a neighbour's load hits both alike; the rates
are medians of the per-step rates, and ``paired ratio`` is the median of the ratios of neighbouring steps.
MFU is model FLOPs (6 x matmul weights + attention, per token) x tokens/s over a matmul peak measured in
the same run at the same precision.

``--loop R`` then compares lossdoc's whole training loop with nanoGPT's bare step, R rounds alternating: a
``lossdoc.train.loop.train`` run at the same size on dummy data (``--num-samples``, one epoch; a fresh model,
its first step included), read as tokens over its training phase (validation excluded, as
benchmarks/train_speed.py reads it), then as many nanoGPT steps on the same kind of batches. Not a test:
numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch

from lossdoc.train.config import TrainConfig
from lossdoc.train.faults import FaultPlan
from lossdoc.train.loop import build_optimizer, compile_model, train_step
from lossdoc.train.model import ModelConfig, TransformerLM

V, C, L, H, T, B, DROPOUT, LR, WD, CLIP = 10000, 256, 2, 4, 64, 16, 0.1, 5e-3, 0.01, 1.0


def import_nanogpt(path: str):
    folder = Path(path).expanduser().resolve()
    if not (folder / "model.py").is_file():
        sys.exit(f"error: {folder} holds no model.py; give the path of a nanoGPT checkout (git clone https://github.com/karpathy/nanoGPT)")
    sys.path.insert(0, str(folder))
    import model as nanogpt  # noqa: PLC0415 (nanoGPT's model.py, from the user's checkout)

    return nanogpt


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t)


def flops_per_token(model: torch.nn.Module) -> float:
    """6 x the weights of every matmul (the LM head included, embeddings not) + 12 x layers x d_model x T (attention)."""
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 6 * weights + 12 * L * C * (T - 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("nanogpt_dir", help="a nanoGPT checkout (its model.py is imported from there)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--use-amp", action="store_true", help="bf16 autocast on CPU, fp16 autocast + gradient scaler on CUDA")
    ap.add_argument("--steps", type=int, default=40, help="measured steps of each model (after 3 warm-up steps)")
    ap.add_argument("--compile", action="store_true", help="lossdoc's --compile (nanoGPT stays a bare eager step)")
    ap.add_argument(
        "--optimizer",
        choices=("loop", "foreach"),
        default="loop",
        help="lossdoc's optimizer: the loop's (fused AdamW) or PyTorch's default foreach AdamW, to measure the lever",
    )
    ap.add_argument("--loop", type=int, default=0, metavar="R", help="also R rounds of lossdoc's whole training loop against nanoGPT's bare step")
    ap.add_argument("--num-samples", type=int, default=800, help="dummy sequences of each --loop run (90%% train, one epoch)")
    args = ap.parse_args()
    nanogpt = import_nanogpt(args.nanogpt_dir)
    device = torch.device(args.device)
    amp_dtype = (torch.float16 if device.type == "cuda" else torch.bfloat16) if args.use_amp else None

    def autocast():
        return torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()

    torch.manual_seed(0)
    data = torch.randint(1, V, (4096, T))
    ours = TransformerLM(ModelConfig(vocab_size=V, max_len=T, d_model=C, num_layers=L, num_heads=H, d_ff=4 * C, dropout=DROPOUT)).to(device)
    if args.optimizer == "loop":
        our_opt = build_optimizer(ours, lr=LR, weight_decay=WD)
    else:
        our_opt = torch.optim.AdamW(ours.parameters(), lr=LR, weight_decay=WD)
    our_scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    step_model, why_not = compile_model(ours, device) if args.compile else (ours, None)
    if why_not:
        print(f"--compile unavailable ({why_not}); lossdoc runs eagerly")
    faults = FaultPlan(None)

    gpt = nanogpt.GPT(nanogpt.GPTConfig(block_size=T, vocab_size=V, n_layer=L, n_head=H, n_embd=C, dropout=DROPOUT, bias=True)).to(device)
    gpt_opt = gpt.configure_optimizers(WD, LR, (0.9, 0.999), device.type)
    gpt_scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)

    def lossdoc_step(rows: torch.Tensor) -> float:
        return train_step(step_model, our_opt, our_scaler, rows, step=1, faults=faults, autocast=autocast, grad_clip=CLIP).loss

    def nanogpt_step(rows: torch.Tensor) -> float:
        x, y = rows[:, :-1].contiguous(), rows[:, 1:].contiguous()
        with autocast():
            _, loss = gpt(x, y)
        gpt_opt.zero_grad(set_to_none=True)
        gpt_scaler.scale(loss).backward()
        gpt_scaler.unscale_(gpt_opt)
        torch.nn.utils.clip_grad_norm_(gpt.parameters(), CLIP)
        gpt_scaler.step(gpt_opt)
        gpt_scaler.update()
        return loss.item()

    steps = {"lossdoc": lossdoc_step, "nanoGPT": nanogpt_step}
    times: dict[str, list[float]] = {k: [] for k in steps}
    g = torch.Generator().manual_seed(1)
    t_first = {}
    for i in range(3 + args.steps):
        rows = data[torch.randint(0, data.shape[0], (B,), generator=g)].to(device)
        for name, fn in steps.items():
            sync(device)
            t = time.perf_counter()
            loss = fn(rows)
            sync(device)
            dt = time.perf_counter() - t
            if i == 0:
                t_first[name] = dt
            if i >= 3:
                times[name].append(dt)
            assert math.isfinite(loss), f"{name}: loss {loss} at step {i}"
    tokens = B * (T - 1)
    rate = {k: tokens / statistics.median(v) for k, v in times.items()}
    paired = statistics.median(b / a for a, b in zip(times["lossdoc"], times["nanoGPT"]))
    peak = matmul_peak(device, amp_dtype or torch.float32)
    fpt = flops_per_token(ours)
    precision = str(amp_dtype).replace("torch.", "") if amp_dtype else "fp32"
    print(
        f"device {device} ({torch.get_num_threads()} threads), precision {precision}, torch {torch.__version__}, "
        f"lossdoc optimizer {type(our_opt).__name__}(fused={our_opt.defaults.get('fused')}), compile {bool(args.compile and not why_not)}"
    )
    print(f"first step (s): lossdoc {t_first['lossdoc']:.2f}, nanoGPT {t_first['nanoGPT']:.2f}")
    for k in steps:
        print(f"{k:8s} {rate[k]:10,.0f} tokens/s   MFU {100 * fpt * rate[k] / peak:5.1f}%   (median of {len(times[k])} steps)")
    print(
        f"ratio lossdoc / nanoGPT: {rate['lossdoc'] / rate['nanoGPT']:.3f} (medians), {paired:.3f} (paired steps); "
        f"matmul peak {peak / 1e12:.3f} TFLOP/s, {fpt / 1e6:.1f} MFLOP per token"
    )
    if args.loop:
        loop_rounds(args, nanogpt_step, data, device)


def loop_rounds(args, nanogpt_step: Callable[[torch.Tensor], float], data: torch.Tensor, device: torch.device) -> None:
    """lossdoc's training loop (training phase) against nanoGPT's bare step, alternating ``args.loop`` rounds."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_speed import loop_run  # noqa: PLC0415 (benchmarks/train_speed.py: runs train() and reads its phase)

    cfg = TrainConfig(
        data="dummy",
        vocab_size=V,
        seq_len=T,
        num_samples=args.num_samples,
        epochs=1,
        d_model=C,
        num_layers=L,
        num_heads=H,
        dropout=DROPOUT,
        batch_size=B,
        lr=LR,
        weight_decay=WD,
        grad_clip=CLIP,
        device=args.device,
        use_amp=args.use_amp,
        compile=args.compile,
    )
    g = torch.Generator().manual_seed(2)
    loop_rates, gpt_rates = [], []
    for r in range(args.loop):
        tokens, phase_s, _ = loop_run(cfg)
        steps = tokens // (B * (T - 1))
        sync(device)
        t = time.perf_counter()
        for _ in range(steps):
            nanogpt_step(data[torch.randint(0, data.shape[0], (B,), generator=g)].to(device))
        sync(device)
        gpt_s = time.perf_counter() - t
        loop_rates.append(tokens / phase_s)
        gpt_rates.append(steps * B * (T - 1) / gpt_s)
        print(f"round {r + 1}: lossdoc loop {loop_rates[-1]:,.0f} tokens/s ({steps} steps), nanoGPT bare step {gpt_rates[-1]:,.0f} tokens/s")
    paired = statistics.median(a / b for a, b in zip(loop_rates, gpt_rates))
    ratio = statistics.median(loop_rates) / statistics.median(gpt_rates)
    print(f"ratio lossdoc loop / nanoGPT bare step: {ratio:.3f} (medians), {paired:.3f} (paired rounds)")


if __name__ == "__main__":
    main()
