"""Opening a run's data source before training: torch-free, so that `lossdoc train` reports a missing file or an
unreachable hub before it imports torch (about 1.5 s of CPU) and before it makes the run folder."""

from __future__ import annotations

from lossdoc.train.config import TrainConfig


def prepare_source(cfg: TrainConfig) -> None:
    """Open (and for text, tokenise into the cache) the data source before a run folder is made, so a
    missing file or an unreachable hub is reported before anything is written."""
    from lossdoc.data.load import open_corpus
    from lossdoc.data.sources import parse_spec

    if parse_spec(cfg.data).kind not in ("dummy", "zipf", "markov"):
        open_corpus(cfg, None)
