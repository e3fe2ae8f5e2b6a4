"""nanoGPT's facts as its scripts print them, and the last assignment of a setting winning (issue 23).

The lines are those of karpathy/nanoGPT:
- model.py, ``GPT.from_pretrained``: ``print("forcing vocab_size=50257, block_size=1024, bias=True")`` and
  ``print(f"overriding dropout rate to {override_args['dropout']}")``;
- train.py, the model init: ``print("defaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)")``;
- configurator.py: ``print(f"Overriding config with {config_file}:")``, then the config file itself
  (``print(config_content)``), then one ``print(f"Overriding: {key} = {attempt}")`` per ``--key=value``.
"""

from __future__ import annotations

from lossdoc.runlog.readers import read_run

TAIL = "step 0: train loss 10.9, val loss 10.9\niter 0: loss 10.95, time 100.0ms, mfu -100.00%\niter 1: loss 10.2, time 90.0ms, mfu 1.00%\n"


def test_forcing_vocab_size_is_read_as_v(tmp_path):
    """from_pretrained's 'forcing vocab_size=50257' names the GPT-2 vocabulary: V with its line as source."""
    p = tmp_path / "finetune.log"
    p.write_text(
        "Initializing from OpenAI GPT-2 weights: gpt2\n"
        "loading weights from pretrained gpt: gpt2\n"
        "forcing vocab_size=50257, block_size=1024, bias=True\n"
        "overriding dropout rate to 0.1\n"
        "number of parameters: 123.65M\n" + TAIL
    )
    run = read_run(p)
    assert run.format == "nanogpt"
    assert run.vocab_size == 50257
    assert run.sources["vocab_size"].kind == "log" and dict(run.sources["vocab_size"].args) == {"line": 3}
    assert run.pretrained is True
    assert run.dropout == 0.1 and dict(run.sources["dropout"].args) == {"line": 4}


def test_defaulting_vocab_size_still_read(tmp_path):
    p = tmp_path / "scratch.log"
    p.write_text("Initializing a new model from scratch\ndefaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)\n" + TAIL)
    run = read_run(p)
    assert run.vocab_size == 50304 and run.pretrained is False


def test_override_after_the_echoed_config_wins(tmp_path):
    """The config file is echoed (dropout = 0.2, with a comment), then 'Overriding: dropout = 0.0': the run used 0.0."""
    p = tmp_path / "train.log"
    p.write_text(
        "Overriding config with config/train_shakespeare_char.py:\n"
        "# train a miniature character-level shakespeare model\n"
        "out_dir = 'out-shakespeare-char'\n"
        "init_from = 'gpt2'\n"
        "dropout = 0.2  # a little regularisation\n"
        "\n"
        "Overriding: dropout = 0.0\n"
        "Overriding: init_from = scratch\n"
        "found vocab_size = 65 (inside data/shakespeare_char/meta.pkl)\n" + TAIL
    )
    run = read_run(p)
    assert run.dropout == 0.0
    assert dict(run.sources["dropout"].args) == {"line": 7}
    assert run.pretrained is False and dict(run.sources["pretrained"].args) == {"line": 8}
    assert run.vocab_size == 65


def test_echoed_config_alone_is_read(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("init_from = 'gpt2-medium'\ndropout = 0.2  # comment\n" + TAIL)
    run = read_run(p)
    assert run.dropout == 0.2 and run.pretrained is True


def test_last_vocab_line_wins(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("found vocab_size = 65 (inside data/a/meta.pkl)\nfound vocab_size = 96 (inside data/b/meta.pkl)\n" + TAIL)
    run = read_run(p)
    assert run.vocab_size == 96 and dict(run.sources["vocab_size"].args) == {"line": 2}
