"""The scaling estimate of docs/distributed.md, on paper: ring all-reduce bytes against the step's FLOPs.

    python scripts/ddp_scaling.py            # print the table
    python scripts/ddp_scaling.py --write    # put it into docs/distributed.md

For the seed's default model (lossdoc train's defaults: V 10000, d_model 256, 2 layers, seq_len 64) and a
per-GPU batch of 16 sequences (weak scaling: the global batch grows with N). Everything below is an assumption
written down, not a measurement: tests/train/test_distributed.py checks that the doc holds this table and
recomputes two cells by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PARAMS = 6_726_416  # TransformerLM(TrainConfig().model_config()).num_params(): the seed's model
GRAD_BYTES = 4  # DDP all-reduces the fp32 gradients (also under AMP: the parameters stay fp32)
PER_GPU_BATCH = 16  # sequences per GPU per step (TrainConfig.batch_size)
TOKENS_PER_SEQ = 63  # seq_len 64 predicts 63 next tokens
FLOP_PER_TOKEN = 6 * PARAMS  # forward + backward, the convention of benchmarks/throughput.py
SUSTAINED_FLOPS = 100e12  # an assumed 100 TFLOP/s per GPU (about 10% of an H100's dense bf16 peak)
LINKS = {  # bus bandwidth NCCL reaches per GPU, GB/s (assumed, typical)
    "NVLink 360 GB/s": 360e9,
    "PCIe 4.0 25 GB/s": 25e9,
    "InfiniBand NDR 50 GB/s": 50e9,
    "100 GbE 12.5 GB/s": 12.5e9,
}
HOP_LATENCY_S = 10e-6  # per ring step; a ring all-reduce takes 2(N-1) steps
GPUS = (1, 2, 4, 8, 16, 32, 64)
START, END = "<!-- scaling table: made by scripts/ddp_scaling.py -->\n", "<!-- end of scaling table -->\n"


def allreduce_bytes(n: int) -> float:
    """Bytes each GPU sends (and receives) per step in a ring all-reduce of the gradients: 2(N-1)/N x gradient bytes."""
    return 2 * (n - 1) / n * PARAMS * GRAD_BYTES


def comm_seconds(n: int, bandwidth: float) -> float:
    return allreduce_bytes(n) / bandwidth + 2 * (n - 1) * HOP_LATENCY_S


def compute_seconds() -> float:
    return FLOP_PER_TOKEN * PER_GPU_BATCH * TOKENS_PER_SEQ / SUSTAINED_FLOPS


def table() -> str:
    names = list(LINKS)
    head = (
        "| GPUs | all-reduce MB per GPU per step | "
        + " | ".join(f"ms on {k}" for k in names)
        + " | efficiency, NVLink (N ≤ 8) or InfiniBand (N > 8) |"
    )
    lines = [head, "|" + "---|" * (len(names) + 3)]
    t_comp = compute_seconds()
    for n in GPUS:
        cells = [f"{comm_seconds(n, LINKS[k]) * 1e3:.3f}" for k in names]
        link = LINKS["NVLink 360 GB/s"] if n <= 8 else LINKS["InfiniBand NDR 50 GB/s"]
        eff = t_comp / (t_comp + comm_seconds(n, link))
        lines.append(f"| {n} | {allreduce_bytes(n) / 1e6:.1f} | " + " | ".join(cells) + f" | {eff:.0%} |")
    return "\n".join(lines) + "\n"


def replace_table(doc: str, text: str) -> str:
    head, rest = doc.split(START, 1)
    return head + START + text + rest[rest.index(END) :]


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        path = ROOT / "docs" / "distributed.md"
        path.write_text(replace_table(path.read_text(encoding="utf-8"), table()), encoding="utf-8")
    else:
        print(f"compute per GPU per step: {compute_seconds() * 1e3:.3f} ms ({FLOP_PER_TOKEN * PER_GPU_BATCH * TOKENS_PER_SEQ:.3e} FLOP)")
        sys.stdout.write(table())
