"""Corpora for training and baselines: sources, tokenizers, the tokenised cache
and synthetic sources with exact floors.

numpy only (no torch), so `lossdoc baseline --data` can use it without torch.
``prepare_corpus`` turns a ``--data`` spec into two 1-d token arrays (train and
validation, memory-mapped from the cache) and the tokenizer that made them;
``synthetic`` draws zipf and markov tokens with their exact entropy floors.
"""

from lossdoc.data.corpus import Corpus, prepare_corpus, unigram_figures
from lossdoc.data.sources import SYNTHETIC, parse_spec
from lossdoc.data.synthetic import synthetic_rows
from lossdoc.data.tokenizers import TOKENIZERS, Tokenizer, build_tokenizer, tokenizer_from_dict

__all__ = [
    "Corpus",
    "SYNTHETIC",
    "TOKENIZERS",
    "Tokenizer",
    "build_tokenizer",
    "parse_spec",
    "prepare_corpus",
    "synthetic_rows",
    "unigram_figures",
    "tokenizer_from_dict",
]
