"""The training configuration: one typed, validated dataclass.

Values come from three layers, later ones winning: the field defaults below,
a YAML file (``--config``), and command-line flags. ``__post_init__`` checks
every value and names the flag when one is wrong. No torch import here.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossdoc.errors import ConfigError, LossdocError
from lossdoc.train.faults import FAULTS, FaultPlan
from lossdoc.train.stop_on import PLATEAU_PATIENCE, STOP_ON

if TYPE_CHECKING:
    from lossdoc.train.model import ModelConfig

DEVICES = ("auto", "cpu", "cuda", "mps")
ON_NONFINITE = ("stop", "skip")
BACKENDS = ("auto", "gloo", "nccl")  # lossdoc.train.distributed.BACKENDS
DEFAULT_VOCAB = 10000  # the seed's V
MARKOV_DEFAULT_VOCAB = 64  # markov data's own default (configs/markov.yaml); at most MARKOV_MAX_VOCAB
# A source's own defaults, for the settings neither a flag nor the YAML gives (resolve_config: lossdoc train and
# lossdoc baseline). markov: the run that reaches its exact floor, configs/markov.yaml's values. The shared
# defaults (d_model 256, lr 5e-3, batch 16, 1800 rows) are tuned for dummy data, whose only lesson is a flat
# output; on the chain they stall 6-9% above the floor however many rows or steps they get (docs/data.md).
SOURCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "markov": {
        "vocab_size": MARKOV_DEFAULT_VOCAB,
        "num_samples": 4000,
        "d_model": 64,
        "num_layers": 1,
        "num_heads": 2,
        "dropout": 0.0,
        "batch_size": 32,
        "epochs": 4,
        "lr": 3e-3,
    },
}
MIN_VOCAB = 2  # the one rule for V, everywhere (baseline.check_vocab_size too): one token leaves nothing to predict


@dataclass
class TrainConfig:
    """Everything that defines a training run, and the one place each setting is written.

    Field names are the YAML keys. Each field is also a ``lossdoc train`` flag (lossdoc.cli.train
    makes them): ``--d-model`` and the seed's ``--d_model``, plus any ``aliases`` in the field's
    metadata; the field's type, default and docstring are the flag's type, default and help.
    docs/train.md's flag table is made from them too (``python scripts/flag_table.py --write``)."""

    data: str = field(default="dummy", metadata={"aliases": ("--dataset",)})  # --dataset: the seed's spelling
    """Data source. ``dummy``: uniformly random token ids in [1, vocab_size), as the seed's script makes them.
    Also zipf, markov (synthetic, exact floors; markov brings its own defaults for the settings not given: V 64,
    4000 rows, d_model 64, 1 layer, 2 heads, no dropout, batch 32, 4 epochs, lr 3e-3), pydoc (Python's docs, offline English), wikitext2, wikitext103,
    hf:NAME[:CONFIG], or a .txt file or folder; see docs/data.md."""
    vocab_size: int | None = None
    """Vocabulary size V of the model (and of dummy, zipf and markov data). Default 10000 (the seed's), and
    64 for markov data (its exact floor needs the dense V x V transition matrix, so markov allows at most 2048).
    One rule for every command: V is an integer >= 2 (one token leaves nothing to predict); dummy data needs
    V >= 3 because its ids come from [1, V), the seed's randint(1, V)."""
    seq_len: int = 64
    """Tokens per sequence; the model sees seq_len - 1 inputs and predicts seq_len - 1 next tokens."""
    num_samples: int = 2000
    """Number of dummy sequences in all; the validation split takes val_fraction of them."""
    val_fraction: float = 0.1
    """Share of sequences held out for validation, strictly between 0 and 1."""
    d_model: int = 256
    """Width of the residual stream."""
    num_layers: int = 2
    """Number of Transformer blocks."""
    num_heads: int = 4
    """Attention heads per block; must divide d_model."""
    d_ff: int | None = None
    """Hidden width of each MLP; default 4 * d_model."""
    dropout: float = 0.1
    """Dropout on embeddings, attention and MLP outputs during training, in [0, 1)."""
    batch_size: int = 16
    """Sequences per optimizer step."""
    epochs: int = 2
    """Passes over the training split."""
    lr: float = 5e-3
    """AdamW learning rate (constant). High for a Transformer, on purpose: on random tokens the only thing to
    learn is a flat output, and 5e-3 reaches the floor inside the default one-minute run (docs/train.md)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    grad_clip: float = 1.0
    """Clip the total gradient L2 norm to this value; 0 disables clipping."""
    seed: int = 42
    """Seed for data, initialisation, shuffling and dropout."""
    device: str = "auto"
    """auto (CUDA, then MPS, then CPU), cpu, cuda or mps."""
    backend: str = "auto"
    """torch.distributed backend of a multi-process run (torchrun, or --nproc): auto (nccl on CUDA, gloo on the CPU),
    gloo or nccl. Unused in a single process; see docs/distributed.md."""
    threads: int | None = None
    """CPU threads torch uses in each process (torch.set_num_threads). Default auto: the cores the 1-minute load
    average leaves free, shared among the run's processes on this machine, at least 1 and at most torch's own
    default; on a busy machine one thread is much faster than torch's default (docs/train.md, CPU threads).
    The run header (env.threads) and the start line say what was picked."""
    use_amp: bool = False
    """Mixed precision: bf16 autocast on CPU, fp16 autocast with a gradient scaler on CUDA."""
    compile: bool = False
    """torch.compile the model for the training step (needs a C++ compiler on CPU, Triton on CUDA; without one
    the run trains as usual and logs one compile_unavailable warning). Off by default: compiling costs more than
    it saves in the default run on a small CPU (docs/performance.md). Same loss curve to 1e-4."""
    out: str | None = None
    """Output folder; default runs/<run id>."""
    inject: str | None = None
    """Deliberately break the run to see what explain says (teaching aid): no-causal-mask, unshifted-labels,
    zero-lr, exploding-lr, large-init-logits, val-leak or nan-loss; see docs/verdicts.md."""
    on_nonfinite: str = "stop"
    """What to do when a batch loss is NaN or infinite: stop the run, or skip that update."""
    stop_on: str | None = None
    """Stop early when lossdoc's own diagnosis of the run is broken, or overfitting (or worse), or plateau: nothing
    left to learn (expected-plateau, or converged with validation flat, at stop_patience evaluations in a row; also
    broken or overfitting).
    Checked at each epoch end, and for broken every 200 batches (more on a long run); the run ends with status
    stopped, best.pt kept, exit code 1 (0 for a plateau): docs/integrations.md."""
    stop_patience: int = PLATEAU_PATIENCE
    """--stop-on plateau: evaluations in a row (epoch ends) whose verdict must be expected-plateau or converged
    before the run stops (docs/integrations.md measures the default)."""
    tokenizer: str | None = None
    """Tokenizer for text data: char, byte (V = 256) or word (whitespace words, <eos> per line, <unk> below
    min_freq). Default: word for wikitext2/wikitext103, char for other text. Unused for dummy, zipf, markov."""
    min_freq: int = 3
    """Word tokenizer: words seen fewer times in the training split become <unk> (3: the classic WikiText-2 setup)."""
    val_file: str | None = None
    """Text data: a .txt file to validate on instead of the last val_fraction of the text."""
    text_column: str = "text"
    """Dataset sources (hf:..., wikitext2/103): the column that holds the text."""
    zipf_exponent: float = 1.0
    """zipf data: tokens drawn with p(id k-1) proportional to 1/k^exponent; 0 gives uniform tokens."""
    markov_successors: int = 4
    """markov data: possible next tokens of each token (2..vocab_size)."""
    cache_dir: str | None = None
    """Folder of the tokenised-text cache; default $LOSSDOC_CACHE, else ~/.cache/lossdoc."""

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, _coerce(f, getattr(self, f.name)))
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        if self.vocab_size is None:
            self.vocab_size = MARKOV_DEFAULT_VOCAB if self.data == "markov" else DEFAULT_VOCAB
        if self.vocab_size < MIN_VOCAB:
            raise _bad("vocab_size", self.vocab_size, "vocab_size", bound=MIN_VOCAB)
        _ge("seq_len", self.seq_len, 2)
        _ge("num_samples", self.num_samples, 2)
        if not 0.0 < self.val_fraction < 1.0:
            raise _bad("val_fraction", self.val_fraction, "open_interval", low=0, high=1)
        n_val = self.num_val_samples
        if n_val < 1 or self.num_samples - n_val < 1:
            raise _bad("num_samples", self.num_samples, "ge", bound=math.ceil(1 / min(self.val_fraction, 1 - self.val_fraction)))
        _ge("d_model", self.d_model, 1)
        _ge("num_layers", self.num_layers, 1)
        _ge("num_heads", self.num_heads, 1)
        if self.d_model % self.num_heads:
            # blame the one that was changed: --num-heads 3 with the default width is the heads' fault
            if self.num_heads != _DEFAULTS["num_heads"] or self.d_model == _DEFAULTS["d_model"]:
                raise _bad("num_heads", self.num_heads, "divides", name="--d-model", other=self.d_model)
            raise _bad("d_model", self.d_model, "divisible", name="--num-heads", other=self.num_heads)
        _ge("d_ff", self.d_ff, 1)
        if not 0.0 <= self.dropout < 1.0:
            raise _bad("dropout", self.dropout, "half_open", low=0, high=1)
        _ge("batch_size", self.batch_size, 1)
        _ge("epochs", self.epochs, 1)
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise _bad("lr", self.lr, "gt", bound=0)
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise _bad("weight_decay", self.weight_decay, "ge", bound=0)
        if not (self.grad_clip >= 0 and math.isfinite(self.grad_clip)):
            raise _bad("grad_clip", self.grad_clip, "ge", bound=0)
        _choice("device", self.device, DEVICES)
        _choice("on_nonfinite", self.on_nonfinite, ON_NONFINITE)
        if self.stop_on is not None:
            _choice("stop_on", self.stop_on, STOP_ON)
        _ge("stop_patience", self.stop_patience, 1)
        _choice("backend", self.backend, BACKENDS)
        if self.threads is not None:
            _ge("threads", self.threads, 1)
        if self.inject is not None:
            _choice("inject", self.inject, FAULTS)
        _check_data(self)

    @property
    def num_val_samples(self) -> int:
        return int(round(self.num_samples * self.val_fraction))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def model_config(self) -> ModelConfig:
        """The model this run trains: its sizes, with the model change of an ``--inject`` fault."""
        from lossdoc.train.model import ModelConfig  # torch: only when a model is built

        faults = FaultPlan(self.inject)
        if self.vocab_size is None or self.d_ff is None:  # resolve_config sets both
            raise ValueError("model_config() needs a resolved TrainConfig (vocab_size and d_ff set)")
        return ModelConfig(
            vocab_size=self.vocab_size,
            max_len=self.seq_len,
            d_model=self.d_model,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            d_ff=self.d_ff,
            dropout=self.dropout,
            causal=faults.causal,
            init_logit_scale=faults.init_logit_scale,
        )


_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def field_names() -> list[str]:
    return [f.name for f in fields(TrainConfig)]


def field_docs() -> dict[str, str]:
    """Each field's docstring (the string literal after it in TrainConfig's source), on one line."""
    return dict(_field_docs())  # a copy: the parsed one is kept


@functools.cache
def _field_docs() -> dict[str, str]:
    # The module's own source, parsed whole: faster than inspect.getsource's search for the class. Once a process: every
    # command's start-up asks for the docs about ten times (the data options, train's flags), 3-4 ms of CPU each.
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == TrainConfig.__name__)
    body = cls.body
    docs = {}
    for stmt, nxt in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def flag_names(f: dataclasses.Field) -> list[str]:
    """A field's flags: ``--d-model``, the underscore spelling ``--d_model`` (the seed's), then its aliases."""
    names = [f"--{f.name.replace('_', '-')}"]
    if "_" in f.name:
        names.append(f"--{f.name}")
    return names + list(f.metadata.get("aliases", ()))


def value_type(f: dataclasses.Field) -> type:
    """The field's value type without ``| None``: int, float, str or bool."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return {"int": int, "float": float, "str": str, "bool": bool}[kind.split("|")[0].strip()]


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config with the safe loader; unknown keys are an error."""
    p = Path(path)
    if not p.is_file():
        raise LossdocError("error.config_missing", path=str(p))
    import yaml  # PyYAML: imported when a YAML file is read or written, not for every command's start-up

    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)  # where the bad construct starts
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None)
        if problem:
            detail = f"{getattr(exc, 'context', None) or ''} {problem}".strip() if getattr(exc, "context", None) else problem
        raise LossdocError("error.config_parse", path=str(p), line=line, detail=detail) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LossdocError("error.config_not_mapping", path=str(p))
    allowed = field_names()
    for key in data:
        if key not in allowed:
            raise LossdocError("error.config_unknown_key", key=str(key), path=str(p), allowed=", ".join(allowed))
    return data


def resolve_config(config_file: str | Path | None = None, **flags: Any) -> TrainConfig:
    """Defaults (the data source's own first: SOURCE_DEFAULTS), then the YAML file, then every flag that is not None."""
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(load_yaml(config_file))
    values.update({k: v for k, v in flags.items() if v is not None})
    for key, value in SOURCE_DEFAULTS.get(str(values.get("data", _DEFAULTS["data"])), {}).items():
        values.setdefault(key, value)
    return TrainConfig(**values)


def dump_yaml(cfg: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True)


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    """Check a YAML/flag value against the field's type; ints pass as floats."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    optional = "None" in kind
    if value is None:
        if optional:
            return None
        raise _bad(f.name, value, "number" if "float" in kind else "integer" if "int" in kind else "not_empty")
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise _bad(f.name, value, "boolean")
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise _bad(f.name, value, "integer")
        return value
    if kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(f.name, value, "number")
        return float(value)
    if kind.startswith("str"):
        if not isinstance(value, str):
            return str(value)
        return value
    return value


def _check_data(cfg: TrainConfig) -> None:
    """The data source and its settings (lossdoc.data.sources describes the specs)."""
    from lossdoc.data.sources import parse_spec
    from lossdoc.data.synthetic import MARKOV_MAX_VOCAB
    from lossdoc.data.tokenizers import TOKENIZERS

    if not cfg.data or (cfg.data.startswith("hf:") and len(cfg.data) == 3):
        raise _bad("data", cfg.data, "data_source")
    kind = parse_spec(cfg.data).kind
    if kind == "text" and not Path(cfg.data).exists():
        from lossdoc.data.sources import BUILTIN

        guess = _guess(cfg.data, BUILTIN)
        if guess is not None:  # --data dumy: a typo of a built-in source, not a missing file
            raise _bad("data", cfg.data, "data_source_guess", guess=guess)
    if cfg.tokenizer is not None:
        _choice("tokenizer", cfg.tokenizer, TOKENIZERS)
    _ge("min_freq", cfg.min_freq, 1)
    if not cfg.text_column:
        raise _bad("text_column", cfg.text_column, "not_empty")
    if not (cfg.zipf_exponent >= 0 and math.isfinite(cfg.zipf_exponent)):
        raise _bad("zipf_exponent", cfg.zipf_exponent, "ge", bound=0)
    _ge("markov_successors", cfg.markov_successors, 2)
    v = cfg.vocab_size  # None for text data until the tokenizer gives V
    if kind == "dummy" and v is not None and v < MIN_VOCAB + 1:
        raise _bad("vocab_size", v, "dummy_vocab", bound=MIN_VOCAB + 1)
    if kind == "markov" and v is not None:
        if v > MARKOV_MAX_VOCAB:
            raise _bad("vocab_size", v, "markov_vocab", bound=MARKOV_MAX_VOCAB)
        if cfg.markov_successors > v:
            raise _bad("markov_successors", cfg.markov_successors, "le_field", name="--vocab-size", other=v)
    if cfg.val_file is not None and kind not in ("text", "pydoc"):
        raise _bad("val_file", cfg.val_file, "val_file_text")


def flag_of(name: str) -> str:
    """The flag of a TrainConfig field, as errors name it: ``--vocab-size`` (the same key in a YAML config)."""
    return f"--{name.replace('_', '-')}"


def _bad(field: str, value: object, rule: str, /, **rule_args: object) -> ConfigError:
    """``invalid --flag 'value': reason``, the one wording of a bad value in every command (issue 24)."""
    return ConfigError(flag_of(field), value, rule, **rule_args)


def _guess(value: object, choices: tuple[str, ...]) -> str | None:
    """The choice ``value`` was probably meant to be (a typo: ``dumy`` for ``dummy``), or None."""
    import difflib

    close = difflib.get_close_matches(str(value).lower(), choices, n=1, cutoff=0.7)
    return close[0] if close else None


def _ge(name: str, value: int, bound: int) -> None:
    if value < bound:
        raise _bad(name, value, "ge", bound=bound)


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    check_choice(flag_of(name), value, choices)


def check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    """``invalid --flag 'value': must be one of: ...``, with "did you mean" for a near miss; used by every command."""
    if value not in choices:
        guess = _guess(value, choices)
        if guess is not None:
            raise ConfigError(flag, value, "choice_guess", choices=", ".join(choices), guess=guess)
        raise ConfigError(flag, value, "choice", choices=", ".join(choices))
