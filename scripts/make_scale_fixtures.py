"""Write the test fixtures of the scale-out framework readers (tests/fixtures/scale/<framework>/) from each
framework's own format strings, for three runs: healthy (still falling), plateau (flat for its second half)
and diverging (a rise, and for Megatron and DeepSpeed an fp16 loss-scale collapse ending in NaN losses: Megatron
counts them as 'number of nan iterations', DeepSpeed's training script prints loss=nan).

Megatron-LM, torchtitan, fairseq, DeepSpeed, OLMo and Composer need CUDA or their own stacks to run, so the
lines are written here with the format strings of the functions named in each writer's docstring (read in
the frameworks' repositories; docs/formats.md quotes real excerpts). Deterministic: the same files each run.

    python scripts/make_scale_fixtures.py            # rewrites tests/fixtures/scale/
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "scale"
V = 50257
STEPS = 2000
EVERY = 20  # log interval
EVAL_EVERY = 200


def curve(kind: str, seed: int) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(batches [(step, loss)], evaluations [(step, loss)]) for healthy | plateau | diverging; losses in nats."""
    rng = random.Random(seed)
    ln_v = math.log(V)

    def level(t: float) -> float:
        if kind == "healthy":
            return 2.2 + (ln_v + 0.1 - 2.2) * (1 + t / 40) ** -0.55
        if kind == "plateau":
            return 4.1 + (ln_v + 0.1 - 4.1) * math.exp(-t / 120)
        base = 2.2 + (ln_v + 0.1 - 2.2) * (1 + t / 40) ** -0.55  # diverging: healthy, then a blow-up
        return base if t < 1200 else base + 0.004 * (t - 1200) + 1e-5 * (t - 1200) ** 2

    batches = [(s, level(s) + rng.gauss(0, 0.04)) for s in range(EVERY, STEPS + 1, EVERY)]
    evals = [(s, level(s) + 0.05 + rng.gauss(0, 0.005)) for s in range(EVAL_EVERY, STEPS + 1, EVAL_EVERY)]
    return batches, evals


def megatron(kind: str, batches, evals) -> str:
    """NVIDIA/Megatron-LM megatron/training/training.py ``training_log`` and ``evaluate_and_print_results``;
    megatron/training/arguments.py ``_print_args``; megatron/training/tokenizer ``_vocab_size_with_padding``."""
    out = ["------------------------ arguments ------------------------"]
    args = {
        "fp16": "True",
        "global_batch_size": "16",
        "load": "None",
        "micro_batch_size": "4",
        "seq_length": "512",
        "finetune": "False",
        "train_iters": str(STEPS),
        "world_size": "4",
    }
    for k in sorted(args):
        out.append("  {} {} {}".format(k, "." * (48 - len(k)), args[k]))
    out.append("-------------------- end of arguments ---------------------")
    out.append("> building GPT2BPETokenizer tokenizer ...")
    out.append(" > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)")
    out.append("WARNING: could not find the metadata file /ckpt/latest_checkpointed_iteration.txt")
    out.append("    will not load any checkpoints and will start from random")
    ev = dict(evals)
    scale = 65536.0
    nan_from = None
    for i, (s, loss) in enumerate(batches):
        skipped = 0
        if kind == "diverging" and s > 1500:
            skipped = min(EVERY, 2 * (s - 1500) // EVERY)
            scale = max(1.0, scale / 2 ** min(16, skipped))
            if scale == 1.0 and nan_from is None:
                nan_from = s + 3 * EVERY
        # fp16: an iteration whose loss is NaN overflows and is skipped; training_log leaves it out of the mean and
        # counts it in 'number of nan iterations', so a line of only such iterations has no 'lm loss' and no grad norm
        nans = EVERY if nan_from is not None and s >= nan_from else 0
        skipped = max(skipped, nans)
        loss_part = "" if nans == EVERY else f"lm loss: {loss:.6E} | "
        grad_part = "" if nans == EVERY else f"grad norm: {1.0 + 0.3 * math.sin(s):.3f} | "
        line = f" [2025-04-13 23:{41 + i // 60:02d}:{i % 60:02d}] iteration {s:8d}/{STEPS:8d} | consumed samples: {s * 16:12d} | elapsed time per iteration (ms): 820.7 | learning rate: {1e-4 * min(1, s / 100):.6E} | global batch size: {16:5d} | {loss_part}loss scale: {scale:.1f} | {grad_part}number of skipped iterations: {skipped:3d} | number of nan iterations: {nans:3d} |"
        out.append(line)
        if s in ev and (nan_from is None or s < nan_from):
            out.append("-" * 95)
            out.append(f" validation loss at iteration {s} | lm loss value: {ev[s]:.6E} | lm loss PPL: {math.exp(ev[s]):.6E} | ")
            out.append("-" * 95)
    return "\n".join(out) + "\n"


def torchtitan(kind: str, batches, evals) -> str:
    """pytorch/torchtitan torchtitan/components/metrics.py ``MetricsProcessor.log`` (colours as logged) and
    ``log_validation``; torchtitan/train.py ``Trainer.train``; interleaved lines of rank 0 and rank 1."""
    red, green, orange, yellow, blue, cyan, magenta, reset = (
        "\033[31m",
        "\033[32m",
        "\033[33m",
        "\033[33m",
        "\033[34m",
        "\033[36m",
        "\033[35m",
        "\033[39m",
    )
    p = "[titan] 2025-01-01 12:00:00,000 - root - INFO - "
    out = []
    for r in (0, 1):
        out.append(
            f"[rank{r}]:{p}Building llama3 debugmodel with TransformerModelArgs(_enforced='This field is used to enforce all fields have defaults.', dim=256, n_layers=6, n_heads=16, vocab_size={V}, multiple_of=256, max_seq_len=2048, rope_theta=10000)"
        )
        out.append(f"[rank{r}]:{p}Building 1-D device mesh with ['dp_shard'], [2]")
        out.append(
            f"[rank{r}]:{p}Training starts at step 1, with local batch size 8, global batch size 16, gradient accumulation steps 1, sequence length 2048, total steps {STEPS} (warmup 200)"
        )
    ev = dict(evals)
    for s, loss in batches:
        for r in (0, 1):
            lr = loss + (0.01 if r else 0.0)
            out.append(
                f"[rank{r}]:{p}{red}step: {s:2}  {green}loss: {lr:7.4f}  {orange}grad_norm: {1.1:7.4f}  {yellow}memory:  1.23GiB(1.55%)  {blue}tps: {12345:,}  {cyan}tflops: {0.5:,.2f}  {magenta}mfu: {0.05:.2f}%{reset}"
            )
            if s in ev:
                out.append(
                    f"[rank{r}]:{p}{yellow}validate step: {s:2}  {green}loss: {ev[s]:7.4f}  {blue}memory:  1.23GiB(1.55%)  {cyan}tps: {23456:,}{reset}"
                )
    return "\n".join(out) + "\n"


def litgpt(kind: str, batches, evals) -> str:
    """Lightning-AI/litgpt litgpt/pretrain.py ``fit`` (the 'Epoch ... | iter ... step ... | loss train' line, the
    'iter N: val loss' line) and ``main``'s pprint of the hyperparameters; 4 iterations per optimizer step."""
    out = [
        "{'data': {'class_path': 'litgpt.data.TinyStories'},",
        " 'devices': 2,",
        " 'initial_checkpoint_dir': None,",
        " 'model_config': {'block_size': 512, 'n_layer': 6, 'name': 'pythia-14m', 'padded_vocab_size': 50304, 'vocab_size': 50254},",
        " 'train': TrainArgs(save_interval=1000, log_interval=1, global_batch_size=32, micro_batch_size=4, max_tokens=1000000)}",
        "Seed set to 42",
        "Total parameters: 14,067,712",
    ]
    ev = dict(evals)
    for s, loss in batches:
        for k in range(4):
            it = 4 * (s - 1) + k + 1
            mark = " (step)" if k == 3 else ""
            st = s if k == 3 else s - 1
            out.append(
                f"Epoch 1 | iter {it} step {st} | loss train: {loss + 0.02 * (k - 1.5):.3f}, val: n/a | iter time: 123.45 ms{mark} remaining time: 0:10:00"
            )
        if s in ev:
            out.append("Validating ...")
            out.append(f"iter {4 * s}: val loss {ev[s]:.4f}, val time: 1234.56 ms")
    return "\n".join(out) + "\n"


def fairseq(kind: str, batches, evals) -> str:
    """facebookresearch/fairseq fairseq/logging/progress_bar.py ``SimpleProgressBar.log`` / ``print`` and
    fairseq_cli/train.py ``train`` / ``validate`` (hydra-era logging format); losses in bits as
    fairseq/criterions/cross_entropy.py ``reduce_metrics`` logs them (loss_sum / sample_size / ln 2)."""
    b2 = 1 / math.log(2)
    pre = "2021-03-01 12:00:00 | INFO | "
    out = [
        pre
        + "fairseq_cli.train | {'_name': None, 'distributed_training': {'distributed_world_size': 8}, 'task': {'_name': 'language_modeling', 'tokens_per_sample': 512}, 'checkpoint': {'finetune_from_model': None}}",
        pre + "fairseq.tasks.language_modeling | dictionary: 50264 types",
    ]
    ev = dict(evals)
    per_epoch = STEPS // 4
    for s, loss in batches:
        ep = (s - 1) // per_epoch + 1
        out.append(
            pre
            + f"train_inner | epoch {ep:03d}:    {(s - 1) % per_epoch + 1:4d} / {per_epoch} loss={loss * b2:.3f}, ppl={2 ** (loss * b2):.2f}, wps=123456, ups=2.5, wpb=4096, bsz=8, num_updates={s}, lr=0.0005, gnorm=1.234, train_wall=8, gb_free=10.5, wall=100"
        )
        if s % per_epoch == 0:
            out.append(
                pre
                + f"train | epoch {ep:03d} | loss {loss * b2:.3f} | ppl {2 ** (loss * b2):.2f} | wps 123456 | ups 2.5 | wpb 4096 | bsz 8 | num_updates {s} | lr 0.0005 | gnorm 1.234 | train_wall 400 | wall 410"
            )
        if s in ev and s % per_epoch == 0:
            out.append(
                pre
                + f"valid | epoch {ep:03d} | valid on 'valid' subset | loss {ev[s] * b2:.3f} | ppl {2 ** (ev[s] * b2):.2f} | wps 234567 | wpb 4096 | bsz 8 | num_updates {s} | best_loss {ev[s] * b2:.3f}"
            )
    return "\n".join(out) + "\n"


def fairseq_json(kind: str, batches, evals) -> str:
    """fairseq --log-format json under hydra: fairseq/logging/progress_bar.py ``JsonProgressBar.log`` / ``print``
    (``logger.info(json.dumps(stats))`` under ``rename_logger(logger, tag)``, hydra's '[tag][INFO] - ' format)."""
    b2 = 1 / math.log(2)
    out = ["[fairseq.tasks.language_modeling][INFO] - dictionary: 50264 types"]
    per_epoch = STEPS // 4
    ev = dict(evals)
    for s, loss in batches:
        ep = (s - 1) // per_epoch + 1
        out.append(
            "[train_inner][INFO] - "
            + json.dumps(
                {
                    "epoch": ep,
                    "update": round(ep - 1 + ((s - 1) % per_epoch + 1) / per_epoch, 3),
                    "loss": f"{loss * b2:.3f}",
                    "ppl": f"{2 ** (loss * b2):.2f}",
                    "wpb": "4096",
                    "num_updates": str(s),
                    "lr": "0.0005",
                    "gnorm": "1.234",
                }
            )
        )
        if s % per_epoch == 0:
            out.append(
                "[train][INFO] - "
                + json.dumps({"epoch": ep, "train_loss": f"{loss * b2:.3f}", "train_ppl": f"{2 ** (loss * b2):.2f}", "train_num_updates": str(s)})
            )
            if s in ev:
                out.append(
                    "[valid][INFO] - "
                    + json.dumps(
                        {"epoch": ep, "valid_loss": f"{ev[s] * b2:.3f}", "valid_ppl": f"{2 ** (ev[s] * b2):.2f}", "valid_num_updates": str(s)}
                    )
                )
    return "\n".join(out) + "\n"


def deepspeed(kind: str, batches, evals) -> str:
    """microsoft/DeepSpeed deepspeed/runtime/engine.py ``DeepSpeedEngine._report_progress`` via
    deepspeed/utils/logging.py ``log_dist`` (the training script appends ``loss=``), deepspeed/runtime/fp16/
    loss_scaler.py ``DynamicLossScaler.update_scale`` (OVERFLOW lines), deepspeed/runtime/config.py ``print``."""
    pre = "[2024-05-01 12:00:00,000] [INFO] "
    out = [
        pre + "[config.py:1000:print] DeepSpeedEngine configuration:",
        pre + "[config.py:1004:print]   gradient_accumulation_steps .. 2",
        pre + "[config.py:1004:print]   train_batch_size ............. 32",
        pre + "[config.py:1004:print]   train_micro_batch_size_per_gpu  4",
        "args: --seq_length 1024",
    ]
    skipped = 0
    scale = 65536.0
    nan_from = None
    for s, loss in batches:
        if kind == "diverging" and s > 1500:
            for _ in range(4):
                if scale > 1:
                    out.append(
                        pre
                        + f"[loss_scaler.py:183:update_scale] [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: {int(scale)}, reducing to {max(1, int(scale) // 4)}"
                    )
                    scale = max(1.0, scale / 4)
                skipped += 1
            if scale == 1 and nan_from is None:
                nan_from = s + 3 * EVERY
        text = "nan" if nan_from is not None and s >= nan_from else f"{loss:.4f}"
        out.append(pre + f"[logging.py:96:log_dist] [Rank 0] step={s}, skipped={skipped}, lr=[{1e-4:.6e}], mom=[(0.9, 0.999)], loss={text}")
    return "\n".join(out) + "\n"


def olmo(kind: str, batches, evals) -> str:
    """allenai/OLMo olmo/train.py ``Trainer.log_metrics_to_console`` ('[step=N/M]' then one '    name=value' line
    per metric) and the configuration OLMo logs at start."""
    out = [
        "2024-02-01 12:00:00.000\tnode0:0\tolmo.util:100\tINFO\tConfiguration:",
        "  vocab_size: 50280",
        "  embedding_size: 50304",
        "  max_sequence_length: 2048",
        "  global_train_batch_size: 64",
        "  load_path: null",
    ]
    ev = dict(evals)
    for s, loss in batches:
        out.append(f"2024-02-01 12:00:00.000\tnode0:0\tolmo.train:900\tINFO\t[step={s}/{STEPS}]")
        out.append(f"    train/CrossEntropyLoss={loss:.4f}")
        out.append(f"    train/Perplexity={math.exp(loss):,.1f}")
        out.append("    optim/total_grad_norm=1.234")
        if s in ev:
            out.append("2024-02-01 12:00:00.000\tnode0:0\tolmo.train:950\tINFO\t[eval_step=1/1]")
            out.append(f"2024-02-01 12:00:00.000\tnode0:0\tolmo.train:960\tINFO\t[step={s}/{STEPS}]")
            out.append(f"    eval/c4_en-validation/CrossEntropyLoss={ev[s]:.4f}")
            out.append(f"    eval/c4_en-validation/Perplexity={math.exp(ev[s]):.1f}")
    return "\n".join(out) + "\n"


def composer(kind: str, batches, evals) -> str:
    """mosaicml/composer composer/loggers/console_logger.py ``ConsoleLogger.log_to_console`` ('[batch=N/M]:' from
    ``_get_progress_string``, '[Eval batch=i/n] Eval on eval data:' from ``_get_eval_progress_string``, then one
    '\\t {Train |Eval }{name}: {value}' line per metric) and the YAML config llm-foundry's train.py prints."""
    out = ["max_seq_len: 1024", "global_train_batch_size: 32", "model:", "  name: mpt_causal_lm", "  vocab_size: 50368"]
    ev = dict(evals)
    for s, loss in batches:
        out.append(f"[batch={s}/{STEPS}]:")
        out.append(f"\t Train time/batch: {s - 1}")
        out.append(f"\t Train loss/train/total: {loss:.4f}")
        out.append(f"\t Train metrics/train/LanguageCrossEntropy: {loss:.4f}")
        if s in ev:  # log_to_console(..., is_train=False): the eval progress string, not the training batch
            out.append("[Eval batch=4/4] Eval on eval data:")
            out.append(f"\t Eval metrics/eval/LanguageCrossEntropy: {ev[s]:.4f}")
            out.append(f"\t Eval metrics/eval/LanguagePerplexity: {math.exp(ev[s]):.4f}")
    return "\n".join(out) + "\n"


WRITERS: dict[str, tuple[Callable[..., str], str]] = {
    "megatron": (megatron, "train.log"),
    "torchtitan": (torchtitan, "train.log"),
    "litgpt": (litgpt, "pretrain.log"),
    "fairseq": (fairseq, "train.log"),
    "fairseq_json": (fairseq_json, "train.log"),
    "deepspeed": (deepspeed, "train.log"),
    "olmo": (olmo, "train.log"),
    "composer": (composer, "train.log"),
}


def main() -> None:
    for seed, kind in enumerate(("healthy", "plateau", "diverging")):
        batches, evals = curve(kind, seed)
        for name, (writer, _) in WRITERS.items():
            folder = OUT / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{kind}.log").write_text(writer(kind, batches, evals), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
