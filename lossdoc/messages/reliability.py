"""Messages of the reliability guards (docs/reliability.md)."""

EN = {
    "error.flag_vocab_huge": "--vocab-size {value} is not valid: a vocabulary has at most {max} tokens",
}

ZH = {
    "error.flag_vocab_huge": "--vocab-size {value} 无效：词表最多 {max} 个词元",
}
