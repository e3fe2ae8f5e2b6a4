"""The seven checks, one function each; every one returns a Finding (lossdoc.analysis.model).

Status: pass | warn | fail | skipped. ``measured`` and ``reference`` are the two
numbers the check compares; ``args`` fill its sentence (lossdoc.messages.check).
All losses are next-token cross-entropies in nats with the standard shift,
logits[:, :-1] against ids[:, 1:], unless the labels check is told otherwise.
Thresholds are the module constants below; docs/check.md explains each.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lossdoc import floors
from lossdoc.analysis.model import Finding
from lossdoc.check.adapt import Forward
from lossdoc.check.model import CheckFinding

INIT_CHUNKS = 16  # the init loss is averaged over 16 batches of random ids (B x T tokens each)
INIT_MAX_LOGITS = 2**24  # ...of at most this many logits each, so that a large vocabulary stays bounded in memory
CAUSAL_BASES = 2  # base sequences whose tails are changed at every cut
CAUSAL_RTOL = 1e-5  # |delta logit| allowed, relative to the largest |logit| (fp32 rounding; a leak is 1e3x larger)
LABEL_STEPS = 30  # AdamW steps of the labels probe on random data
LABEL_VOCAB = 64  # the labels probes draw ids from this many of the V tokens (all of them when V is smaller)
REPEAT_STEPS = 100  # at most this many steps of the repeated-token probe (it stops once below REPEAT_TARGET)
PROBE_LR_FACTOR = 10 / 3  # the labels probes train at this multiple of --lr (1e-2 by default): they must show within a few steps
LABEL_FLOOR_MARGIN = 0.1  # fail when the random-data loss ends below (1 - this) * ln K
REPEAT_VOCAB = 16  # the repeated-token probe repeats one of this many tokens per row
REPEAT_TARGET = 0.5  # ...and its loss should fall below this share of ln 16: under the ln 16 a model that ignores its input reaches
OVERFIT_PASS = 0.1  # overfit one batch: pass below this share of ln V ...
OVERFIT_WARN = 0.5  # ... warn below this one, fail above
INPUT_GAP = 0.25  # input dependence: zeroed-input loss must exceed the real-input loss by this share of ln V
GRAD_LIST = 6  # parameter names listed in a sentence


@dataclass
class Settings:
    batch_size: int = 4
    seq_len: int = 32
    steps: int = 200  # overfit-one-batch step cap
    lr: float = 3e-3
    labels: str = "shifted"  # shifted | unshifted: how the user's training code pairs logits with labels
    seed: int = 0
    time_limit: float = 60.0  # seconds per training check; it stops early and says so


def shifted_loss(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))


def unshifted_loss(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """The fault: labels equal to the inputs (position t is asked for the token it was given)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids.reshape(-1))


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"shifted": shifted_loss, "unshifted": unshifted_loss}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_ids(b: int, t: int, v: int, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randint(0, v, (b, t), generator=g).to(device)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:GRAD_LIST])
    return shown + (f" (+{len(names) - GRAD_LIST})" if len(names) > GRAD_LIST else "")


# ---------------------------------------------------------------- 1. loss at initialisation


def check_init_loss(fw: Forward, s: Settings, *, trained: bool = False) -> CheckFinding:
    if trained:
        return Finding("init-loss", "skipped", "chk.skip.trained")
    v, device = fw.vocab_size, fw.device
    rows = max(1, min(s.batch_size, INIT_MAX_LOGITS // (s.seq_len * v)))
    g = _gen(s.seed + 1)
    fw.model.eval()
    losses, var_sum, var_n = [], 0.0, 0
    with torch.no_grad():
        for _ in range(INIT_CHUNKS):
            ids = random_ids(rows, s.seq_len, v, g, device)
            z = fw(ids)[:, :-1]
            per_tok = F.cross_entropy(z.reshape(-1, v), ids[:, 1:].reshape(-1), reduction="none")
            losses.append(per_tok.double().cpu())
            var_sum += float(z.double().var(dim=-1, unbiased=False).sum())
            var_n += z.shape[0] * z.shape[1]
    per = torch.cat(losses)
    loss = float(per.mean())
    se = float(per.std()) / math.sqrt(per.numel()) if per.numel() > 1 else 0.0
    sigma = math.sqrt(var_sum / var_n)
    ln_v = math.log(v)
    args = {"loss": loss, "lnv": ln_v, "sigma": sigma, "tokens": per.numel(), "se": se}
    if not math.isfinite(loss) or not math.isfinite(sigma):
        return Finding("init-loss", "fail", "chk.init.nonfinite", args, measured=loss, reference=ln_v)
    expected = floors.expected_init_loss_exact(v, min(sigma, floors.MAX_LOGIT_STD))
    low, high = floors.init_loss_band(v, 0.0)  # the healthy band for logit std up to 1, as in `baseline`
    # the band's allowance assumes ~1200 tokens; over fewer, widen it to three standard errors of a healthy
    # model's mean loss (per-token spread at most the logit std, 1), never by the measured spread of a broken one
    slack = max(0.0, 3.0 / math.sqrt(per.numel()) - floors.INIT_BAND_ALLOWANCE)
    low, high = low - slack, high + slack
    args.update(expected=expected, low=low, high=high)
    if loss > high:
        return Finding("init-loss", "fail", "chk.init.high", args, measured=loss, reference=expected)
    if loss < low:
        return Finding("init-loss", "fail", "chk.init.low", args, measured=loss, reference=expected)
    return Finding("init-loss", "pass", "chk.init.ok", args, measured=loss, reference=expected)


# ---------------------------------------------------------------- 2. causality


def check_causality(fw: Forward, s: Settings) -> CheckFinding:
    v, t, device = fw.vocab_size, s.seq_len, fw.device
    if t < 2:
        return Finding("causality", "skipped", "chk.skip.short", {"t": t})
    g = _gen(s.seed + 2)
    fw.model.eval()
    first_leak: int | None = None
    worst, scale = 0.0, 1.0
    with torch.no_grad():
        probe = random_ids(2, t, v, g, device)
        first, again = fw(probe), fw(probe)
        if not bool(((first - again).abs() <= CAUSAL_RTOL * max(1.0, float(first.abs().max()))).all()):
            return Finding("causality", "skipped", "chk.skip.random_eval")  # changes would be noise; train-eval names the cause
        for _ in range(CAUSAL_BASES):
            base = random_ids(1, t, v, g, device)
            cuts = list(range(1, t))
            for i in range(0, len(cuts), max(1, s.batch_size)):
                chunk = cuts[i : i + max(1, s.batch_size)]
                rows = base.repeat(len(chunk) + 1, 1)  # row 0 stays the original: the same call computes both
                for r, k in enumerate(chunk, start=1):
                    rows[r, k:] = (rows[r, k:] + torch.randint(1, v, (t - k,), generator=g).to(device)) % v
                logits = fw(rows)
                scale = max(scale, float(logits[0].abs().max()))
                for r, k in enumerate(chunk, start=1):
                    diff = (logits[r, :k] - logits[0, :k]).abs().amax(dim=-1)  # (k,) per position before the cut
                    worst = max(worst, float(diff.max()))
                    bad = torch.nonzero(diff > CAUSAL_RTOL * scale)
                    if bad.numel():
                        p = int(bad[0])
                        first_leak = p if first_leak is None else min(first_leak, p)
    tol = CAUSAL_RTOL * scale
    args = {"diff": worst, "tol": tol, "t": t}
    if first_leak is not None:
        args["position"] = first_leak
        return Finding("causality", "fail", "chk.causal.leak", args, measured=worst, reference=tol)
    return Finding("causality", "pass", "chk.causal.ok", args, measured=worst, reference=tol)


# ---------------------------------------------------------------- training helpers


def _train(
    model: nn.Module, fw: Forward, batches: Callable[[int], torch.Tensor], loss_fn, s: Settings, max_steps: int, deadline: float | None = None
) -> tuple[int, list[float], bool]:
    """AdamW steps on ``batches(step)``; returns (steps done, losses, stopped by the time limit)."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=s.lr, weight_decay=0.0)
    losses: list[float] = []
    for step in range(max_steps):
        if deadline is not None and time.monotonic() > deadline:
            return step, losses, True
        ids = batches(step)
        loss = loss_fn(fw(ids), ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        losses.append(value)
        if not math.isfinite(value):
            return step + 1, losses, False
    return max_steps, losses, False


def _eval_loss(fw: Forward, ids: torch.Tensor, loss_fn=shifted_loss, inputs: torch.Tensor | None = None) -> float:
    fw.model.eval()
    with torch.no_grad():
        return float(loss_fn(fw(ids if inputs is None else inputs), ids))


def _copy(fw: Forward) -> Forward:
    """A Forward over a deep copy of the model, so that training checks leave the user's model as it was."""
    twin = copy.copy(fw)
    twin.model = copy.deepcopy(fw.model)
    return twin


def _trainable(fw: Forward) -> bool:
    return any(p.requires_grad for p in fw.model.parameters())


# ---------------------------------------------------------------- 3. labels


def check_labels(fw: Forward, s: Settings, *, causal_failed: bool = False) -> CheckFinding:
    if causal_failed:
        return Finding("labels", "skipped", "chk.skip.not_causal")
    if not _trainable(fw):
        return Finding("labels", "skipped", "chk.skip.frozen")
    v, t, b, device = fw.vocab_size, s.seq_len, s.batch_size, fw.device
    loss_fn = LOSSES[s.labels]
    deadline = time.monotonic() + s.time_limit / 2
    probe = dataclasses.replace(s, lr=s.lr * PROBE_LR_FACTOR)
    g = _gen(s.seed + 3)
    k = min(v, LABEL_VOCAB)  # ids drawn from K of the V tokens: their floor is ln K, and copying shows within a few steps for any V
    subset = torch.randperm(v, generator=g)[:k].to(device)
    ln_k = math.log(k)

    def random_batch(_: int, rows: int = b) -> torch.Tensor:  # a fresh batch every step: nothing to memorise
        return subset[torch.randint(0, k, (rows, t), generator=g).to(device)]

    k_rep = min(k, REPEAT_VOCAB)

    def repeat_batch(_: int) -> torch.Tensor:  # one token repeated along each row: the next token is the current one
        return subset[torch.randint(0, k_rep, (b, 1), generator=g).to(device)].repeat(1, t)

    torch.manual_seed(s.seed + 3)
    twin = _copy(fw)
    steps_r, _, timed_out = _train(twin.model, twin, random_batch, loss_fn, probe, LABEL_STEPS, deadline=deadline)
    random_loss = _eval_loss(twin, random_batch(0, 4 * b), loss_fn)
    del twin

    torch.manual_seed(s.seed + 4)
    twin = _copy(fw)
    held_rep = repeat_batch(0)
    repeat_start = _eval_loss(twin, held_rep, loss_fn)
    steps_p, repeat_loss = 0, repeat_start
    twin.model.train()
    opt = torch.optim.AdamW([p for p in twin.model.parameters() if p.requires_grad], lr=probe.lr, weight_decay=0.0)
    deadline = time.monotonic() + s.time_limit / 2
    while steps_p < REPEAT_STEPS:
        if time.monotonic() > deadline:
            timed_out = True
            break
        ids = repeat_batch(steps_p)
        loss = loss_fn(twin(ids), ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps_p += 1
        if steps_p % 10 == 0 or not math.isfinite(float(loss.detach())):
            repeat_loss = _eval_loss(twin, held_rep, loss_fn)
            twin.model.train()
            if not repeat_loss > REPEAT_TARGET * math.log(k_rep):  # reached, or not finite
                break
    repeat_loss = _eval_loss(twin, held_rep, loss_fn)
    del twin

    floor_limit = (1.0 - LABEL_FLOOR_MARGIN) * ln_k
    args = {
        "random_loss": random_loss,
        "k": k,
        "floor": ln_k,
        "limit": floor_limit,
        "steps": steps_r,
        "repeat_start": repeat_start,
        "repeat_loss": repeat_loss,
        "repeat_steps": steps_p,
        "labels": s.labels,
        "lr": probe.lr,
        "k_rep": k_rep,
        "target": REPEAT_TARGET * math.log(k_rep),
        "timed_out": timed_out,
    }
    if not math.isfinite(random_loss):
        return Finding("labels", "fail", "chk.labels.nonfinite", args, measured=random_loss, reference=ln_k)
    if random_loss < floor_limit:
        return Finding("labels", "fail", "chk.labels.copy", args, measured=random_loss, reference=ln_k)
    if not repeat_loss < REPEAT_TARGET * math.log(k_rep):
        return Finding("labels", "warn", "chk.labels.repeat_slow", args, measured=random_loss, reference=ln_k)
    return Finding("labels", "pass", "chk.labels.ok", args, measured=random_loss, reference=ln_k)


# ---------------------------------------------------------------- 4. overfit one batch (and 6. input dependence)


def check_overfit(fw: Forward, s: Settings) -> tuple[CheckFinding, Forward | None, torch.Tensor | None]:
    """Returns the finding and the trained copy with its batch, for the input-dependence check."""
    if not _trainable(fw):
        return Finding("overfit", "skipped", "chk.skip.frozen"), None, None
    v, ln_v = fw.vocab_size, math.log(fw.vocab_size)
    g = _gen(s.seed + 5)
    batch = random_ids(s.batch_size, s.seq_len, v, g, fw.device)
    torch.manual_seed(s.seed + 5)
    twin = _copy(fw)
    start = _eval_loss(twin, batch)
    target = OVERFIT_PASS * ln_v
    deadline = time.monotonic() + s.time_limit
    twin.model.train()
    opt = torch.optim.AdamW([p for p in twin.model.parameters() if p.requires_grad], lr=s.lr, weight_decay=0.0)
    done, timed_out, final = 0, False, start
    while done < s.steps:
        if time.monotonic() > deadline:
            timed_out = True
            break
        loss = shifted_loss(twin(batch), batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done += 1
        value = float(loss.detach())
        if not math.isfinite(value):
            break
        if value <= target or done % 10 == 0:  # the eval-mode loss decides (dropout off)
            final = _eval_loss(twin, batch)
            twin.model.train()
            if final <= target:
                break
    final = _eval_loss(twin, batch)
    args = {
        "start": start,
        "final": final,
        "steps": done,
        "lr": s.lr,
        "lnv": ln_v,
        "target": target,
        "warn_at": OVERFIT_WARN * ln_v,
        "tokens": batch.shape[0] * (batch.shape[1] - 1),
        "timed_out": timed_out,
    }
    if not math.isfinite(final):
        return Finding("overfit", "fail", "chk.overfit.nonfinite", args, measured=final, reference=target), None, None
    if final <= target:
        return Finding("overfit", "pass", "chk.overfit.ok", args, measured=final, reference=target), twin, batch
    if final <= OVERFIT_WARN * ln_v:
        return Finding("overfit", "warn", "chk.overfit.slow", args, measured=final, reference=target), twin, batch
    if timed_out:  # out of time is no evidence of a broken model; too little learned to compare inputs with
        return Finding("overfit", "warn", "chk.overfit.slow", args, measured=final, reference=target), None, None
    return Finding("overfit", "fail", "chk.overfit.stuck", args, measured=final, reference=target), None, None


def check_input_dependence(trained: Forward | None, batch: torch.Tensor | None, overfit: CheckFinding) -> CheckFinding:
    if overfit.status == "skipped":
        return Finding("input-dependence", "skipped", "chk.skip.frozen" if overfit.key == "chk.skip.frozen" else "chk.skip.after_overfit")
    if trained is None or batch is None:
        return Finding("input-dependence", "skipped", "chk.skip.no_overfit")
    ln_v = math.log(trained.vocab_size)
    real = _eval_loss(trained, batch)
    zeroed = _eval_loss(trained, batch, inputs=torch.zeros_like(batch))
    gap = zeroed - real
    args = {"real": real, "zeroed": zeroed, "gap": gap, "min_gap": INPUT_GAP * ln_v, "lnv": ln_v}
    if not (gap >= INPUT_GAP * ln_v):
        return Finding("input-dependence", "fail", "chk.input.ignored", args, measured=real, reference=zeroed)
    return Finding("input-dependence", "pass", "chk.input.ok", args, measured=real, reference=zeroed)


# ---------------------------------------------------------------- 5. gradient flow


def check_gradient_flow(fw: Forward, s: Settings) -> CheckFinding:
    model = fw.model
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        return Finding("gradient-flow", "skipped", "chk.skip.frozen")
    g = _gen(s.seed + 6)
    ids = random_ids(s.batch_size, s.seq_len, fw.vocab_size, g, fw.device)
    saved = [p.grad for _, p in named]
    for _, p in named:
        p.grad = None
    torch.manual_seed(s.seed + 6)
    model.train()
    try:
        shifted_loss(fw(ids), ids).backward()
        none = [n for n, p in named if p.grad is None]
        nonfinite = [n for n, p in named if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
        zero = [n for n, p in named if p.grad is not None and n not in nonfinite and not bool(p.grad.any())]
    finally:
        for (_, p), old in zip(named, saved):
            p.grad = old
        model.eval()
    args = {
        "total": len(named),
        "none_count": len(none),
        "zero_count": len(zero),
        "nonfinite_count": len(nonfinite),
        "none": _names(none),
        "zero": _names(zero),
        "nonfinite": _names(nonfinite),
        "none_names": none,
        "zero_names": zero,
        "nonfinite_names": nonfinite,
    }
    bad = len(none) + len(zero) + len(nonfinite)
    if nonfinite:
        return Finding("gradient-flow", "fail", "chk.grad.nonfinite", args, measured=float(bad), reference=0.0)
    if none:
        return Finding("gradient-flow", "fail", "chk.grad.none", args, measured=float(bad), reference=0.0)
    if zero:
        return Finding("gradient-flow", "fail", "chk.grad.zero", args, measured=float(bad), reference=0.0)
    return Finding("gradient-flow", "pass", "chk.grad.ok", args, measured=0.0, reference=0.0)


# ---------------------------------------------------------------- 7. train/eval mode


def _dropouts(model: nn.Module) -> list[str]:
    return [n or "(model)" for n, m in model.named_modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]


def check_train_eval(fw: Forward, s: Settings) -> CheckFinding:
    model = fw.model
    g = _gen(s.seed + 7)
    ids = random_ids(s.batch_size, s.seq_len, fw.vocab_size, g, fw.device)
    diffs = {}
    was_training = model.training
    try:
        with torch.no_grad():
            for mode in ("eval", "train"):
                model.train(mode == "train")
                torch.manual_seed(s.seed + 70)
                a = fw(ids)
                torch.manual_seed(s.seed + 71)
                b = fw(ids)
                diffs[mode] = float((a - b).abs().max())
                scale = max(1.0, float(a.abs().max()))
    finally:
        model.train(was_training)
    drops = _dropouts(model)
    tol = CAUSAL_RTOL * scale
    args = {"eval_diff": diffs["eval"], "train_diff": diffs["train"], "dropouts": len(drops), "names": _names(drops)}
    if not diffs["eval"] <= tol:
        return Finding("train-eval", "fail", "chk.mode.eval_random", args, measured=diffs["eval"], reference=0.0)
    if diffs["train"] > tol:
        return Finding("train-eval", "pass", "chk.mode.ok", args, measured=diffs["train"], reference=0.0)
    if drops:
        return Finding("train-eval", "fail", "chk.mode.train_off", args, measured=diffs["train"], reference=0.0)
    return Finding("train-eval", "pass", "chk.mode.no_dropout", args, measured=diffs["train"], reference=0.0)
