"""TrainConfig is the one source of `lossdoc train`'s flags: names, types, defaults and help come from its
fields, and docs/train.md's flag table is made from them."""

import dataclasses

import pytest
from typer.main import get_command

from lossdoc.cli import app
from lossdoc.cli.train import markdown_flag_table
from lossdoc.train.config import TrainConfig, field_docs
from tests.conftest import ROOT

FIELDS = dataclasses.fields(TrainConfig)


def train_params():
    command = get_command(app).commands["train"]
    return {p.name: p for p in command.params}


@pytest.mark.parametrize("f", FIELDS, ids=[f.name for f in FIELDS])
def test_every_field_is_a_flag_with_the_fields_default_type_and_help(f):
    param = train_params()[f.name]
    dashed = "--" + f.name.replace("_", "-")
    assert param.opts[0] == dashed
    if "_" in f.name:
        assert "--" + f.name in param.opts  # the seed's spelling
    assert param.default == f.default
    assert param.type_descriptor.annotation.__name__ == f.type.split("|")[0].strip()  # int, float, str, bool
    assert param.help == field_docs()[f.name].replace("``", "")


def test_the_train_command_has_no_flag_that_is_not_a_field_or_its_own():
    own = {"config", "resume", "overwrite", "nproc", "master_port", "lang", "help"}
    assert set(train_params()) - own == {f.name for f in FIELDS}


def test_the_seeds_spellings_stay_accepted():
    params = train_params()
    opts = {o for p in params.values() for o in p.opts}
    for flag in ("--dataset", "--d_model", "--num_layers", "--num_heads", "--batch_size", "--use_amp", "--vocab_size", "--seq_len"):
        assert flag in opts, flag
    assert "--dataset" in params["data"].opts


def test_docs_train_md_flag_table_is_made_from_train_config():
    doc = (ROOT / "docs" / "train.md").read_text(encoding="utf-8")
    start, end = "<!-- flag table: made by scripts/flag_table.py -->\n", "<!-- end of flag table -->"
    table = doc.split(start, 1)[1].split(end, 1)[0]
    assert table == markdown_flag_table(), "docs/train.md's flag table is stale: python scripts/flag_table.py --write"
    for f in FIELDS:
        assert f"`--{f.name.replace('_', '-')}`" in table


def test_baseline_data_flags_are_trains_flags():
    """`baseline --data` reads data with train's loader: every data flag it shares with train has train's flag names
    and help, from the same TrainConfig field (its default is None there: "the default", which the help shows)."""
    baseline = {p.name: p for p in get_command(app).commands["baseline"].params}
    train = train_params()
    shared = sorted(set(baseline) & {f.name for f in FIELDS} - {"vocab_size", "data", "config"})
    data_flags = {"tokenizer", "min_freq", "val_file", "text_column", "cache_dir", "zipf_exponent", "markov_successors", "seq_len"}
    assert data_flags | {"val_fraction", "seed", "num_samples"} <= set(shared)
    for name in shared:
        assert baseline[name].opts == train[name].opts, name
        if name != "seed":  # baseline's --seed seeds the generated data only: its own help (issue 24)
            assert baseline[name].help.startswith(train[name].help), name
        assert baseline[name].default is None
    assert baseline["seed"].help != train["seed"].help and "generated data" in baseline["seed"].help
