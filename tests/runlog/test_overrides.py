"""--vocab-size, --floor, --random (and --random-low): facts a foreign log does not carry."""

from __future__ import annotations

import math

import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.run import Run


def test_nothing_given_changes_nothing():
    run = Run(source="x", format="csv")
    out = apply_overrides(run)
    assert out.vocab_size is None and out.entropy_floor is None and out.random_data is False and out.floor_source is None
    assert out is not run


def test_random_is_uniform_over_the_whole_vocabulary_by_default():
    out = apply_overrides(Run(source="x", format="seed-console"), vocab_size=10000, random=True)
    assert out.vocab_size == 10000 and out.random_data is True and out.floor_source == "random"
    assert out.entropy_floor == pytest.approx(9.210340371976184, abs=1e-12)  # ln 10000


def test_random_low_one_is_the_seeds_randint_1_v():
    out = apply_overrides(Run(source="x", format="seed-console"), vocab_size=10000, random=True, random_low=1)
    assert out.entropy_floor == pytest.approx(math.log(9999), abs=1e-12)  # 9.2102404
    assert out.entropy_floor < math.log(10000)


def test_random_uses_the_logs_vocab_and_floor_flag_wins():
    run = Run(source="x", format="hf-trainer", vocab_size=64)
    assert apply_overrides(run, random=True).entropy_floor == pytest.approx(math.log(64))
    out = apply_overrides(run, random=True, floor=3.5)
    assert out.entropy_floor == 3.5 and out.floor_source == "flag" and out.random_data is True


def test_flag_replaces_logged_facts_with_a_warning():
    run = Run(source="x", format="hf-trainer", vocab_size=64, entropy_floor=2.0)
    out = apply_overrides(run, vocab_size=100, floor=3.0)
    assert out.vocab_size == 100 and out.entropy_floor == 3.0
    assert [w.key for w in out.warnings] == ["warn.vocab_overridden", "warn.floor_overridden"]
    assert run.warnings == [] and run.vocab_size == 64  # the input is not modified


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"random": True}, "error.flag_random_needs_vocab"),
        ({"vocab_size": 1}, "error.flag_vocab"),
        ({"vocab_size": True}, "error.flag_vocab"),
        ({"floor": 0.0}, "error.flag_floor"),
        ({"floor": float("nan")}, "error.flag_floor"),
        ({"vocab_size": 10, "random": True, "random_low": 9}, "error.flag_random_low"),
        ({"vocab_size": 10, "random": True, "random_low": -1}, "error.flag_random_low"),
    ],
)
def test_bad_flags(kwargs, key):
    with pytest.raises(LossdocError) as ei:
        apply_overrides(Run(source="x", format="csv"), **kwargs)
    assert ei.value.key == key
    assert "\n" not in ei.value.render("zh")
