"""The data configs load and say what they claim."""

from __future__ import annotations

from pathlib import Path

from lossdoc.data.synthetic import MARKOV_MAX_VOCAB
from lossdoc.train.config import resolve_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_wikitext2_matches_the_seed_example():
    cfg = resolve_config(CONFIGS / "wikitext2.yaml")
    assert cfg.data == "wikitext2" and cfg.tokenizer == "word" and cfg.min_freq == 3
    assert (cfg.d_model, cfg.num_layers, cfg.num_heads, cfg.batch_size, cfg.use_amp) == (256, 2, 4, 4, True)


def test_text_small_is_real_offline_text_on_cpu():
    cfg = resolve_config(CONFIGS / "text-small.yaml")
    assert cfg.data == "pydoc" and cfg.tokenizer == "char" and cfg.device == "cpu"


def test_synthetic_configs():
    m = resolve_config(CONFIGS / "markov.yaml")
    assert m.data == "markov" and m.vocab_size <= MARKOV_MAX_VOCAB and 2 <= m.markov_successors <= m.vocab_size
    z = resolve_config(CONFIGS / "zipf.yaml")
    assert z.data == "zipf" and z.zipf_exponent == 1.0
