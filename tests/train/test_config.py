import math
from pathlib import Path

import pytest
import yaml

from lossdoc.errors import ConfigError, LossdocError
from lossdoc.train.config import TrainConfig, dump_yaml, field_names, load_yaml, resolve_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_defaults_match_the_seed_pipeline():
    c = TrainConfig()
    assert (c.data, c.vocab_size, c.d_model, c.num_layers, c.num_heads) == ("dummy", 10000, 256, 2, 4)
    assert c.d_ff == 4 * c.d_model
    assert c.num_val_samples == round(c.num_samples * c.val_fraction)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    cfg = resolve_config(path)
    raw = yaml.safe_load(path.read_text())
    for key, value in raw.items():
        assert getattr(cfg, key) == value


def test_default_yaml_equals_dataclass_defaults():
    assert resolve_config(CONFIGS[[p.name for p in CONFIGS].index("default.yaml")]) == TrainConfig()


def test_flags_override_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("epochs: 5\nlr: 0.1\n")
    cfg = resolve_config(p, epochs=3, lr=None)
    assert cfg.epochs == 3 and cfg.lr == 0.1


def test_resolved_config_round_trips(tmp_path):
    cfg = TrainConfig(epochs=3, d_model=64, num_heads=8)
    p = tmp_path / "c.yaml"
    p.write_text(dump_yaml(cfg))
    assert resolve_config(p) == cfg


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(d_model=250), "d_model"),
        (dict(vocab_size=2), "vocab_size"),
        (dict(seq_len=1), "seq_len"),
        (dict(lr=0.0), "lr"),
        (dict(lr=-1e-3), "lr"),
        (dict(lr=math.nan), "lr"),
        (dict(val_fraction=0.0), "val_fraction"),
        (dict(val_fraction=1.0), "val_fraction"),
        (dict(dropout=1.0), "dropout"),
        (dict(epochs=0), "epochs"),
        (dict(epochs=1.5), "epochs"),
        (dict(batch_size="8"), "batch_size"),
        (dict(device="tpu"), "device"),
        (dict(inject="gremlins"), "inject"),
        (dict(use_amp="yes"), "use_amp"),
        (dict(num_samples=5, val_fraction=0.1), "num_samples"),
    ],
)
def test_bad_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**kwargs)
    flag = "--" + field.replace("_", "-")  # one wording in every command: invalid --flag 'value': reason
    assert info.value.field == flag
    assert f"invalid {flag} '" in str(info.value)
    assert flag in info.value.render("zh")


def test_unknown_yaml_key_is_rejected(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("epochs: 2\nlearning_rate: 0.1\n")
    with pytest.raises(LossdocError) as info:
        load_yaml(p)
    assert info.value.key == "error.config_unknown_key"
    assert "learning_rate" in str(info.value)


@pytest.mark.parametrize("text, key", [("epochs: [1\n", "error.config_parse"), ("- 1\n- 2\n", "error.config_not_mapping")])
def test_malformed_yaml(tmp_path, text, key):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(LossdocError) as info:
        load_yaml(p)
    assert info.value.key == key


def test_yaml_is_loaded_safely(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("epochs: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(LossdocError) as info:
        load_yaml(p)
    assert info.value.key == "error.config_parse"


def test_field_names_are_documented():
    src = Path(__file__).resolve().parents[2].joinpath("lossdoc/train/config.py").read_text()
    for name in field_names():
        block = src.split(f"    {name}:", 1)[1].split("\n", 2)[1]
        assert block.strip().startswith('"""'), f"{name} has no docstring"
