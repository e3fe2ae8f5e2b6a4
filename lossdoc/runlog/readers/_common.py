"""Helpers the foreign-log readers share: text decoding, numbers, column names, series.

Text logs are read line by line with a length cap, so a multi-GB line (a
progress bar that never printed a newline) costs at most LINE_CAP characters
of memory. Encodings are chosen from the first bytes: a BOM (UTF-8, UTF-16),
else UTF-8 if the head decodes, else GB18030 (Chinese Windows consoles), and
undecodable bytes become U+FFFD rather than an exception.
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.run import BatchSeries, EpochSeries, ReaderWarning, Run

LINE_CAP = 65536  # characters; longer lines are skipped (and counted)
MAX_LOG_BYTES = 2**30  # a log file larger than this (1 GiB) is refused in one line (docs/reliability.md) ...
MAX_STREAM_BYTES = 2**36  # ... except a lossdoc.run/1 log, read a chunk at a time in bounded memory: up to 64 GiB
HEAD = 65536
NAN = math.nan

_FLOAT_RE = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|NAN|inf(?:inity)?|Inf(?:inity)?|INF)"
FLOAT = _FLOAT_RE


def sniff_encoding(raw: bytes) -> str | None:
    """The encoding of a text file from its first bytes, or None when it looks binary."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw:
        return None
    for enc in ("utf-8", "gb18030"):
        for cut in range(4):  # the head may end inside a multi-byte character
            try:
                raw[: len(raw) - cut].decode(enc)
                return enc
            except UnicodeDecodeError:
                continue
    return "utf-8"  # mostly text with some bad bytes: decode with replacement


def decode_head(raw: bytes) -> str:
    """The first bytes of a file as text for the format detectors (binary stays replaced-UTF-8)."""
    enc = sniff_encoding(raw) or "utf-8"
    if enc == "utf-16":
        raw = raw[: len(raw) - (len(raw) % 2)]
    return raw.decode(enc, errors="replace")


# a tqdm update's counter and bracket of times ("10/375 [02:09<1:13:19, 12.05s/it, loss 6.05]"): where a log lost the
# carriage returns between updates, many of them sit on one line, each a record of its own
_TQDM_UPDATE = re.compile(r"\d{1,12}/\d{1,12} \[[^\[\]\n]{0,400}?(?:it/s|s/it|\?it/s)[^\[\]\n]{0,400}?\]")


_LOSS_WORD = re.compile(r"(?i)loss|损失")  # a bar's updates past the line cap are read only where their postfix names a loss


def split_updates(line: str) -> list[str]:
    """A line holding two or more tqdm updates, split after each update's bracket (a progress bar whose carriage returns
    were lost, or a log of its \\r-joined output); any other line, as it is."""
    if line.count("it/s") + line.count("s/it") < 2:
        return [line]
    ends = [m.end() for m in _TQDM_UPDATE.finditer(line)]
    if len(ends) < 2:
        return [line]
    cuts = [0, *ends]
    parts = [line[a:b] for a, b in itertools.pairwise(cuts)] + [line[ends[-1] :]]
    return [p for p in parts if p.strip()]


class TextLines:
    """Iterate (line number, line) over a text log; lines are split on \\n, \\r\\n and \\r.

    Lines longer than LINE_CAP are skipped; ``long_lines`` holds their numbers.
    """

    def __init__(self, path: Path, cap: int = LINE_CAP) -> None:
        self.path = path
        self.cap = cap
        self.long_lines: list[int] = []
        try:
            with open(path, "rb") as fh:
                raw = fh.read(HEAD)
        except OSError as exc:
            raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
        enc = sniff_encoding(raw)
        if enc is None:
            raise LossdocError("error.log_binary", path=str(path))
        self.encoding = enc
        self.empty = not raw.strip()

    def __iter__(self) -> Iterator[tuple[int, str]]:
        try:
            fh = open(self.path, "rb")
        except OSError as exc:
            raise LossdocError("error.log_unreadable", path=str(self.path), detail=exc.strerror or str(exc)) from None
        with io.TextIOWrapper(fh, encoding=self.encoding, errors="replace", newline=None) as text:
            lineno = 0
            while True:
                line = text.readline(self.cap + 1)
                if not line:
                    return
                lineno += 1
                if len(line) > self.cap and not line.endswith("\n"):
                    if len(split_updates(line)) > 1 and _LOSS_WORD.search(line):
                        # a progress bar's updates with their carriage returns lost: one update at a time, however long
                        # the line (each chunk's last, unfinished update goes on into the next)
                        yield from self._updates(lineno, line, text)
                        continue
                    self.long_lines.append(lineno)
                    while True:  # drop the rest of this line, a chunk at a time
                        rest = text.readline(self.cap)
                        if not rest or rest.endswith("\n"):
                            break
                    continue
                if "\x00" in line:
                    raise LossdocError("error.log_binary", path=str(self.path))
                for part in split_updates(line.rstrip("\n")):
                    yield lineno, part

    def _updates(self, lineno: int, chunk: str, text: io.TextIOWrapper) -> Iterator[tuple[int, str]]:
        """The tqdm updates of a line longer than the cap, read a chunk at a time: every complete update of a chunk is
        yielded, the rest carried into the next chunk; a carry that grows past the cap with no update in it is dropped."""
        carry = chunk
        while True:
            parts = split_updates(carry.rstrip("\n")) if carry.count("it/s") + carry.count("s/it") else [carry.rstrip("\n")]
            done = carry.endswith("\n")
            if done:
                for part in parts:
                    yield lineno, part
                return
            *complete, carry = parts if len(parts) > 1 else ["", carry]
            for part in complete:
                if part:
                    yield lineno, part
            if len(carry) > self.cap:
                carry = ""  # no update in a cap's worth: not a progress bar's output any more
            more = text.readline(self.cap)
            if not more:
                if carry.strip():
                    yield lineno, carry
                return
            carry += more

    def warn_long(self, run: Run) -> None:
        if self.long_lines:
            run.warnings.append(ReaderWarning("warn.long_lines", {"count": len(self.long_lines), "limit": self.cap, "first": self.long_lines[0]}))


def as_float(value: int | float) -> float:
    """float(value), except that an int beyond the float range becomes +-inf instead of raising."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


HUGE_INT = 10**400  # stands for any integer with more digits: far beyond the float range either way


def to_int(text: str) -> int:
    """int(text) for the digits a regex matched, safe for any length: Python refuses to convert more than
    4,300 digits (ValueError), and such a number is beyond the float range anyway, so it becomes HUGE_INT."""
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    digits = s.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 400:
        return sign * HUGE_INT
    return sign * int(digits)


def to_float(value: Any) -> float | None:
    """A number from a log value: numbers as they are, numeric strings (nan, inf too) parsed; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return as_float(value)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            low = s.lower()
            if low in ("nan", "-nan", "+nan"):
                return NAN
            if low in ("infinity", "+infinity", "inf"):
                return math.inf
            if low in ("-infinity", "-inf"):
                return -math.inf
            if _THOUSANDS.match(s):  # "1,234.5": a comma between every three digits is a thousands separator
                return float(s.replace(",", ""))
            return None
    return None


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


# Chinese keys, read as their English names before the line is cut into pairs (full-width punctuation too):
# "第 3 轮" -> "epoch 3", "第 120 步" -> "step 120", "第 7/250 批次" -> "batch 7/250", 训练损失 -> "train loss",
# 验证损失 -> "val loss", 平均损失 -> "avg loss", 损失 -> "loss", 学习率 -> "lr", 轮次/步数/批次 before a number.
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_ZH_PUNCT = str.maketrans({"：": ":", "，": ", ", "；": "; ", "（": " (", "）": ") ", "｜": "|", "　": " ", "／": "/", "＝": "="})
_ZH_ORDINAL = re.compile(
    r"第[ \t]{0,3}(\d{1,12})[ \t]{0,3}(?:/[ \t]{0,3}(\d{1,12})[ \t]{0,3})?(?:个[ \t]{0,3})?(轮次|轮|步|批次|批|次迭代|迭代|epoch|step|batch)"
)
_ZH_ORDINAL_NAME = {"轮次": "epoch", "轮": "epoch", "步": "step", "批次": "batch", "批": "batch", "次迭代": "iter", "迭代": "iter"}
_ZH_NAMES = [  # longest first
    ("平均训练损失", "avg train loss"),
    ("平均验证损失", "avg val loss"),
    ("最佳验证损失", "best val loss"),
    ("验证集损失", "val loss"),
    ("训练集损失", "train loss"),
    ("测试集损失", "test loss"),
    ("训练损失", "train loss"),
    ("验证损失", "val loss"),
    ("校验损失", "val loss"),
    ("评估损失", "eval loss"),
    ("测试损失", "test loss"),
    ("平均损失", "avg loss"),
    ("损失值", "loss"),
    ("损失", "loss"),
    ("学习率", "lr"),
    ("梯度范数", "grad norm"),
    ("迭代次数", "iter"),
    ("迭代", "iter"),
    ("轮次", "epoch"),
    ("轮数", "epoch"),
    ("轮", "epoch"),
    ("步数", "step"),
    ("步", "step"),
    ("批次", "batch"),
]
_ZH_NAME = re.compile("|".join(re.escape(k) for k, _ in _ZH_NAMES))
_ZH_NAME_MAP = dict(_ZH_NAMES)


def zh_to_en(line: str) -> str:
    """A console line with its Chinese keys and full-width punctuation read as the English ones (else unchanged)."""
    if not _CJK.search(line):
        return line
    line = line.translate(_ZH_PUNCT)

    def ordinal(m: re.Match[str]) -> str:
        name = _ZH_ORDINAL_NAME.get(m.group(3), m.group(3).lower())
        return f" {name} {m.group(1)}" + (f"/{m.group(2)} " if m.group(2) else " ")

    line = _ZH_ORDINAL.sub(ordinal, line)
    return _ZH_NAME.sub(lambda m: f" {_ZH_NAME_MAP[m.group(0)]} ", line)


# Keys in other languages than English and Chinese, as whole words (any case): the loss, its phases and the counters
# people print ("pas 20 | pierdere 3.01 | -> validare 0.55", "Época 3 - Pérdida: 2.1", "Schritt 100, Verlust 3.2").
# A word here is read as the English name before the line is cut into pairs (``to_en``).
_FOREIGN_NAMES = {
    "loss": ("pérdida", "perdida", "perte", "verlust", "perda", "pierdere", "pierderea", "perdita", "verlies",
             "kayıp", "kayip", "потеря", "потери", "лосс", "損失", "손실", "mất mát"),
    "epoch": ("época", "epoca", "époque", "epoque", "epoche", "epocă", "epoka", "эпоха", "エポック", "에폭", "에포크"),
    "step": ("paso", "pas", "étape", "etape", "schritt", "passo", "krok", "adım", "шаг", "ステップ", "스텝"),
    "val": ("validación", "validacion", "validierung", "validação", "validacao", "validare", "validazione", "walidacja",
            "doğrulama", "валидация", "検証", "검증"),
    "train": ("entrenamiento", "entraînement", "entrainement", "treino", "treinamento", "antrenare", "addestramento",
              "trening", "eğitim", "обучение", "学習", "訓練", "학습", "훈련"),
}  # fmt: skip
_FOREIGN_MAP = {w: en for en, words in _FOREIGN_NAMES.items() for w in words}
_FOREIGN = re.compile(r"(?<!\w)(" + "|".join(sorted((re.escape(w) for w in _FOREIGN_MAP), key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def to_en(line: str) -> str:
    """A console line or a column name with its keys in another language read as the English ones: Chinese
    (``zh_to_en``), and the words of _FOREIGN_NAMES (else unchanged)."""
    if _FOREIGN.search(line):
        line = _FOREIGN.sub(lambda m: _FOREIGN_MAP.get(m.group(0).lower(), m.group(0)), line)
    return zh_to_en(line)


@functools.lru_cache(maxsize=4096)
def norm_name(name: str) -> str:
    """Column or tag names compared loosely: case, '/', '-', '.', ' ' and '_' do not matter. A W&B
    export's "<run name> - train/loss" is read as "train/loss"; Chinese names as the English ones
    (训练损失 is train_loss, 轮次 is epoch: ``zh_to_en``). Memoised: a reader compares the same few names many times
    (a 100,000-character header name ran the translation's patterns dozens of times a read)."""
    if " - " in name:
        name = name.rsplit(" - ", 1)[1]
    name = to_en(name)
    return re.sub(r"[\s/\-.:_]+", "_", name.strip().lower()).strip("_")


# Names tried in this order when no --train-col/--val-col (or tag) is given.
TRAIN_NAMES = [
    "train_loss_step",
    "train_loss",
    "loss_train",
    "training_loss",
    "train_epoch_loss",
    "train_lm_loss",
    "trainer_loss",
    "loss_step",
    "loss",
    "train_batch_loss",
    "batch_loss",
    "epoch_loss",
    "train_losses",  # loss histories kept as JSON: {"train": [...], "val": [...]}
    "training_losses",
    "losses",
    "train",
]
VAL_NAMES = [
    "val_loss",
    "val_loss_epoch",
    "loss_val",
    "validation_loss",
    "loss_validation",
    "valid_loss",
    "loss_valid",
    "eval_loss",
    "loss_eval",
    "dev_loss",
    "test_loss",
    "validation_epoch_loss",
    "val_epoch_loss",
    "val_losses",
    "valid_losses",
    "eval_losses",
    "validation_losses",
    "test_losses",
    "val",
    "valid",
    "validation",
    "eval",
]
STEP_NAMES = [
    "step",
    "global_step",
    "iter",
    "iteration",
    "iter_num",
    "steps",
    "train_step",
    "trainer_global_step",
    "current_steps",
    "_step",
    "trainer/global_step",
]
EPOCH_NAMES = ["epoch", "epochs"]


_LOSS_VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "heldout"}
NOT_A_LOSS = {"scale", "scaler", "weight", "coef", "coeff", "factor", "type", "fn", "function", "name", "mask",
              "num", "n", "count", "tokens", "token", "std", "var", "best", "min", "lowest", "minimum", "max"}  # fmt: skip


def loss_kind(name: str) -> str | None:
    """What a column name that is not one of TRAIN_NAMES or VAL_NAMES says, by its words: "val" when "loss" is one of
    them beside val, valid, eval, dev or test ("mean_val_loss"), "train" for any other loss ("avg_loss", "running
    loss"), None when no word is "loss" or the name is about a loss rather than one ("loss_scale", "loss_weight")."""
    words = [w for w in re.split(r"[^a-z0-9]+", to_en(name).lower()) if w]
    if "loss" not in words or any(w in NOT_A_LOSS for w in words):
        return None
    return "val" if any(w in _LOSS_VAL_WORDS for w in words) else "train"


# the measures a loss is named by when the word "loss" is not there (train_loss beside val_mse), in the order tried
LOSS_MEASURES = ("mse", "mae", "nll", "ce", "bce", "xent", "crossentropy", "cross_entropy", "huber", "l1", "l2", "cost")
# the error, as Theano- and Lasagne-era loops name the loss they minimise ("train_err", "valid_errs"): a training
# column of that name is read when nothing else names a loss, and a validation one only beside it (beside a training
# loss, "val_error" is as likely a classification's error rate)
ERROR_MEASURES = ("err", "errs", "error", "errors")
# the words that may stand beside a measure in a training loss's name: they say which loss it is, not what else
MEASURE_NEUTRAL = frozenset(
    {
        "train",
        "training",
        "raw",
        "mean",
        "avg",
        "average",
        "total",
        "batch",
        "step",
        "epoch",
        "loss",
        "running",
        "smoothed",
        "ema",
        "lm",
        "token",
        "tok",
    }
)


def train_by_measure(names: Iterable[str]) -> str | None:
    """A training loss named by its measure alone, where no column is named as a loss ("ce_raw" beside "kl_audio_raw"
    and a weighted "total"; "nll", "train_mse"): one of the words of its name is one of LOSS_MEASURES, none is a
    validation word or one of NOT_A_LOSS. The first by LOSS_MEASURES' order, else None."""
    found: dict[str, str] = {}
    for n in names:
        # the other words only say which loss it is (train, raw, mean ...): "ce_acc", "l1_norm", "l2_reg" are not losses
        rest = "_".join(w for w in norm_name(n).split("_") if w not in MEASURE_NEUTRAL)
        if rest in LOSS_MEASURES or rest in ERROR_MEASURES:
            found.setdefault(rest, n)
    return next((found[m] for m in LOSS_MEASURES + ERROR_MEASURES if m in found), None)


def val_by_measure(names: Iterable[str], train: str | None = None) -> str | None:
    """A validation column named by its measure rather than "loss" ("val_mse", "valid_nll", "eval_ce"): read as the
    validation loss only where no column is named as one (the caller's fallback). A root of a measure ("val_rmse") is
    on another scale than the training loss it would be compared with, and is not taken. One of ERROR_MEASURES only
    when the training column (train) is named by one too. The first by LOSS_MEASURES' order, else None."""
    train_measure = "_".join(w for w in norm_name(train).split("_") if w not in MEASURE_NEUTRAL) if train else None
    accepted = LOSS_MEASURES + (ERROR_MEASURES if train_measure in ERROR_MEASURES else ())
    names = list(names)
    # a training column named by the same measure ("mae" beside "val_mae", Keras' metric beside its loss): the
    # validation column pairs with that metric, not with the training loss
    paired = {w for n in names for w in [norm_name(n).removeprefix("train_")] if w in LOSS_MEASURES}
    found: dict[str, str] = {}
    for n in names:
        norm = norm_name(n)
        words = norm.split("_")
        if not any(w in _LOSS_VAL_WORDS for w in words) or any(w in NOT_A_LOSS for w in words):
            continue
        rest = "_".join(w for w in words if w not in _LOSS_VAL_WORDS)
        if rest in accepted and rest not in paired:
            found.setdefault(rest, n)
    return next((found[m] for m in accepted if m in found), None)


# the validation accuracy's names, in the order tried (read for one finding: an accuracy that never changes)
VAL_ACC_NAMES = [
    "val_accuracy",
    "val_acc",
    "valid_acc",
    "valid_accuracy",
    "validation_accuracy",
    "validation_acc",
    "eval_accuracy",
    "eval_acc",
    "val_accu",
    "valid_accu",
    "dev_acc",
    "dev_accuracy",
]


def accuracy_series(values: list[float | None], evaluations: int) -> list[float]:
    """The validation accuracy at each evaluation where every evaluation has a finite one, else [] (one missing is no
    series to judge: which evaluation it belongs to is no longer certain)."""
    if not values or len(values) != evaluations or any(v is None or not math.isfinite(v) for v in values):
        return []
    return [float(v) for v in values]  # type: ignore[arg-type]


def pick(names: Iterable[str], wanted: list[str]) -> str | None:
    """The first of ``wanted`` (in order) that names one of ``names``, loosely compared."""
    by_norm: dict[str, str] = {}
    for n in names:
        if n.lower().endswith(("__min", "__max", "__step")):  # W&B export: the range of a smoothed column
            continue
        by_norm.setdefault(norm_name(n), n)
    for w in wanted:
        if w in by_norm:
            return by_norm[w]
    # nested records flattened by their container's name ("metrics/loss", "logs/eval_loss" from {"metrics": {...}}):
    # the name inside the container
    inner: dict[str, str] = {}
    for norm, n in by_norm.items():
        head, _, rest = norm.partition("_")
        if head in CONTAINER_NAMES and rest:
            inner.setdefault(rest, n)
        elif "/" in n:
            # a path into a JSON document whose container is named for what it holds ("training_history/train_loss",
            # "train_metrics/loss", "val_metrics/loss"): its last word one of CONTAINER_NAMES; a leaf inside a split's
            # container is that split's ("val_metrics/loss" is val_loss, "test_stats/loss" test_loss)
            container, _, leaf = n.rpartition("/")
            words = norm_name(container).split("_")
            if words[-1] in CONTAINER_NAMES and norm_name(leaf):
                split = next((w for w in words if w in _SPLIT_WORDS), None)
                key = norm_name(leaf) if split is None else f"{split}_{norm_name(leaf)}"
                if key not in inner or ({"train", "training"} & set(words) and split is None):
                    inner[key] = n  # (a training container's leaf before another's: "train_metrics" over "ema_metrics")
    for w in wanted:
        if w in inner and w not in by_norm:
            return inner[w]
    return None


# the words that name a split other than training (a container "val_history" holds validation figures)
_SPLIT_WORDS = frozenset({"val", "valid", "validation", "eval", "evaluation", "dev", "test", "testing", "holdout"})
# the names of objects that only hold a record's values (a JSON row {"epoch": 3, "metrics": {"loss": ...}})
CONTAINER_NAMES = frozenset({"metrics", "metric", "logs", "log", "stats", "scalars", "values", "results", "history", "data"})


def find_exact(names: Iterable[str], wanted: str) -> str | None:
    """A user-given column name: exact first, then loosely compared."""
    names = list(names)
    if wanted in names:
        return wanted
    return pick(names, [norm_name(wanted)])


def batch_series(rows: dict[int, tuple[float, float, float, float, float]]) -> BatchSeries:
    """{step: (epoch, loss, lr, grad_norm, tokens)} -> BatchSeries sorted by step.

    Steps that are not finite as floats (a hostile or corrupt log) are dropped: every step is a number.
    Built with numpy from the dict's views (no list of tuples: a 100 MB log has millions of rows)."""
    n = len(rows)
    if not n:
        return BatchSeries.empty()
    steps = np.fromiter((as_float(k) for k in rows), dtype=np.float64, count=n)
    cols = np.fromiter(itertools.chain.from_iterable(rows.values()), dtype=np.float64, count=5 * n).reshape(n, 5)
    ok = np.isfinite(steps)
    if not ok.all():
        steps, cols = steps[ok], cols[ok]
    if steps.size > 1 and not np.all(steps[1:] > steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, cols = steps[order], cols[order]
    if not steps.size:
        return BatchSeries.empty()
    return BatchSeries(steps, cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].copy(), cols[:, 3].copy(), cols[:, 4].copy())


def batch_columns(step: Any, epoch: Any, loss: Any, lr: Any, grad_norm: Any, tokens: Any = None) -> tuple[BatchSeries, int]:
    """Batch columns in log order (float buffers: array('d'), numpy arrays; ``tokens`` None: all NaN) -> (the
    BatchSeries, how many rows repeated a step already logged). What ``batch_series`` gives for a dict keyed by
    step filled in the same order: for a step logged twice the last row wins, at the place of the first; steps
    that are not finite are dropped; sorted by step. No Python object per row."""
    s = np.frombuffer(step, dtype=np.float64) if not isinstance(step, np.ndarray) else step
    n = s.size
    if not n:
        return BatchSeries.empty(), 0
    cols = [np.frombuffer(c, dtype=np.float64) if not isinstance(c, np.ndarray) else c for c in (epoch, loss, lr, grad_norm)]
    cols.append(np.full(n, NAN) if tokens is None else np.frombuffer(tokens, dtype=np.float64) if not isinstance(tokens, np.ndarray) else tokens)
    order = np.argsort(s, kind="stable")
    ss = s[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # the row logged last for each step
    dup = n - int(np.count_nonzero(last))
    keep = order[last]
    steps = ss[last]
    ok = np.isfinite(steps)
    keep, steps = keep[ok], steps[ok]
    if not steps.size:
        return BatchSeries.empty(), dup
    return BatchSeries(steps.copy(), *(c[keep] for c in cols)), dup


def epoch_series(rows: list[tuple[float, float, float, float, float]]) -> EpochSeries:
    """[(epoch, step, train_loss, val_loss, val_tokens)] in log order -> EpochSeries (stable-sorted by step)."""
    if not rows:
        return EpochSeries.empty()
    a = np.array([[as_float(x) for x in r] for r in rows], dtype=np.float64).reshape(-1, 5)
    a[:, :2] = np.where(np.isfinite(a[:, :2]), a[:, :2], NAN)  # an infinite epoch or step is no position
    key = np.where(np.isnan(a[:, 1]), np.inf, a[:, 1])
    order = np.argsort(key, kind="stable")
    a = a[order]
    return EpochSeries(a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy(), a[:, 4].copy())


def finish(run: Run, path: Path, empty_key: str, **args: Any) -> Run:
    """Refuse a run with no loss value at all; otherwise return it."""
    has_batch = len(run.batches) > 0
    has_epoch = len(run.epochs) > 0 and bool(np.any(~np.isnan(run.epochs.val_loss) | ~np.isnan(run.epochs.train_loss)))
    if not has_batch and not has_epoch:
        raise LossdocError(empty_key, path=str(path), **args)
    return run


MAX_VOCAB = 10**9  # a larger "vocabulary size" in a log is corruption, not a vocabulary


def vocab_from(value: Any) -> int | None:
    """A vocabulary size from a config value: an int in [2, MAX_VOCAB], else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 2 <= value <= MAX_VOCAB:
        return value
    if isinstance(value, float) and value.is_integer() and 2 <= value <= MAX_VOCAB:
        return int(value)
    return None


def file_size_ok(path: Path, limit: int, key: str) -> None:
    """Refuse a single-document file (JSON) larger than ``limit`` bytes before loading it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    if size > limit:
        raise LossdocError(key, path=str(path), size_mb=size // 2**20, limit_mb=limit // 2**20)
