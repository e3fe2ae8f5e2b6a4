"""Facts a foreign log does not carry, given on the command line: --vocab-size, --floor, --random.

The rules (docs/formats.md repeats them):

* ``--vocab-size V`` sets the vocabulary size; it replaces one read from the
  log (config.json, hparams.yaml), with a warning when they differ.
* ``--random`` says the training tokens are i.i.d. uniform. By default over
  the whole vocabulary, ids 0..V-1, so the floor is ln V. ``--random-low L``
  says the ids are drawn from [L, V) instead, floor ln(V - L): the seed's
  ``torch.randint(1, V, ...)`` is ``--random --random-low 1``, floor ln(V - 1).
  It needs the vocabulary size (from the log or --vocab-size).
* ``--pretrained`` / ``--from-scratch`` say whether training started from pretrained
  weights; they replace what the log, its neighbours or the first losses suggest.
* ``--floor F`` sets the entropy floor (nats per token) directly; it wins over
  the floor --random implies (the data stays marked random).

Nothing is guessed: without these flags the Run keeps what the log said, and
the checks that need a missing fact are skipped and name the flag.
"""

from __future__ import annotations

import dataclasses
import math

from lossdoc import floors
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import MAX_VOCAB
from lossdoc.runlog.run import ReaderWarning, Run


def apply_overrides(
    run: Run,
    vocab_size: int | None = None,
    floor: float | None = None,
    random: bool = False,
    random_low: int | None = None,
    pretrained: bool | None = None,
) -> Run:
    """A copy of ``run`` with the command-line facts applied (see the module docstring)."""
    out = dataclasses.replace(run, warnings=list(run.warnings), model=dict(run.model), config=dict(run.config), sources=dict(run.sources))
    if vocab_size is not None:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise LossdocError("error.flag_vocab", value=vocab_size)
        if vocab_size > MAX_VOCAB:
            raise LossdocError("error.flag_vocab_huge", value=vocab_size, max=f"{MAX_VOCAB:,}")
        if out.vocab_size is not None and out.vocab_size != vocab_size:
            out.warnings.append(ReaderWarning("warn.vocab_overridden", {"flag": vocab_size, "logged": out.vocab_size}))
        out.set_fact("vocab_size", vocab_size, "flag", "--vocab-size")
        if (
            run.random_data
            and run.entropy_floor is not None
            and run.sources.get("entropy_floor", None) is not None
            and run.sources["entropy_floor"].kind == "inferred"
            and floor is None
            and not random
        ):
            # a floor worked out from the old V (the seed's dummy data) follows the new V
            low = run.random_low or 0
            if vocab_size - low >= 2:
                out.set_fact("entropy_floor", floors.dummy_floor(low, vocab_size), "inferred", "where.random_floor", low=low)
    if floor is not None:
        if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not math.isfinite(floor) or floor <= 0:
            raise LossdocError("error.flag_floor", value=floor)
    if random:
        if out.vocab_size is None:
            raise LossdocError("error.flag_random_needs_vocab")
        low = random_low if random_low is not None else 0
        if isinstance(low, bool) or not isinstance(low, int) or low < 0 or low >= out.vocab_size - 1:
            raise LossdocError("error.flag_random_low", value=low, high=out.vocab_size - 1)
        out.set_fact("random_data", True, "flag", "--random")
        if random_low is not None:
            out.set_fact("random_low", low, "flag", "--random-low")
        else:
            out.set_fact("random_low", low, "default", "where.ids_from_zero")
        out.set_fact("entropy_floor", floors.dummy_floor(low, out.vocab_size), "inferred", "where.random_floor", low=low)
        out.floor_source = "random"
        if pretrained is None:
            out.set_fact("pretrained", False, "inferred", "where.random_data")
        out.val_floor_sample = None  # a floor given on the command line replaces the logged one entirely
    if floor is not None:
        if run.entropy_floor is not None and not math.isclose(run.entropy_floor, float(floor), rel_tol=0, abs_tol=1e-9):
            out.warnings.append(ReaderWarning("warn.floor_overridden", {"flag": f"{float(floor):.4f}", "logged": f"{run.entropy_floor:.4f}"}))
        out.set_fact("entropy_floor", float(floor), "flag", "--floor")
        out.floor_source = "flag"
        out.val_floor_sample = None
    if random_low is not None and not random:
        if not out.random_data or out.vocab_size is None:
            raise LossdocError("error.flag_random_low_alone")
        if isinstance(random_low, bool) or random_low < 0 or random_low >= out.vocab_size - 1:
            raise LossdocError("error.flag_random_low", value=random_low, high=out.vocab_size - 1)
        out.set_fact("random_low", random_low, "flag", "--random-low")
        if floor is None:
            out.set_fact("entropy_floor", floors.dummy_floor(random_low, out.vocab_size), "inferred", "where.random_floor", low=random_low)
            out.val_floor_sample = None
    if pretrained is not None:
        out.set_fact("pretrained", pretrained, "flag", "--pretrained" if pretrained else "--from-scratch")
    return out
