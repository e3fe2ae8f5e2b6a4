"""Training throughput of the default model, and its model FLOPs utilisation (MFU).

Not a test: a number for docs. Usage: python benchmarks/throughput.py [--steps 20] [--device cpu]
MFU = (6 x params x tokens/s) / peak, where the peak is a large fp32 matmul measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import torch

from lossdoc.train.model import ModelConfig, TransformerLM


def matmul_peak(device: torch.device, n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=64)
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = TransformerLM(ModelConfig(vocab_size=10000, max_len=args.seq_len)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    x = torch.randint(1, 10000, (args.batch_size, args.seq_len), device=device)
    for i in range(args.steps + 2):
        if i == 2:
            t = time.perf_counter()
        loss = model(x[:, :-1], x[:, 1:])  # the loop's loss: the fused head on a CPU
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    tok_s = args.steps * args.batch_size * (args.seq_len - 1) / (time.perf_counter() - t)
    peak = matmul_peak(device)
    params = model.num_params()
    print(
        f"params {params:,}  tokens/s {tok_s:,.0f}  model TFLOP/s {6 * params * tok_s / 1e12:.4f}  "
        f"matmul peak TFLOP/s {peak / 1e12:.4f}  MFU {100 * 6 * params * tok_s / peak:.1f}%  threads {torch.get_num_threads()}"
    )


if __name__ == "__main__":
    main()
