import math

import torch

from lossdoc.train.config import TrainConfig
from lossdoc.train.data import dummy_split_seeds, make_dummy


def test_dummy_rows_are_exactly_torch_randint_from_1_to_v():
    cfg = TrainConfig(vocab_size=50, seq_len=8, num_samples=40, val_fraction=0.25, seed=3)
    ds = make_dummy(cfg)
    s_train, s_val = dummy_split_seeds(3)
    expected_train = torch.randint(1, 50, (30, 8), generator=torch.Generator().manual_seed(s_train))
    expected_val = torch.randint(1, 50, (10, 8), generator=torch.Generator().manual_seed(s_val))
    assert torch.equal(ds.train, expected_train)
    assert torch.equal(ds.val, expected_val)


def test_dummy_range_and_floor():
    cfg = TrainConfig(vocab_size=7, seq_len=64, num_samples=200, seed=0)
    ds = make_dummy(cfg)
    both = torch.cat([ds.train.flatten(), ds.val.flatten()])
    assert int(both.min()) == 1 and int(both.max()) == 6  # [1, V): 0 and V never occur
    assert set(both.tolist()) == set(range(1, 7))
    assert ds.header["token_low"] == 1 and ds.header["token_high"] == 7
    assert math.isclose(ds.header["entropy_floor"], math.log(6), rel_tol=0, abs_tol=1e-15)


def test_validation_rows_are_drawn_independently_of_training_rows():
    cfg = TrainConfig(vocab_size=10000, seq_len=16, num_samples=100, seed=1)
    ds = make_dummy(cfg)
    # the validation generator is not a continuation of the training one: no shared row
    train_rows = {tuple(r) for r in ds.train.tolist()}
    assert not any(tuple(r) in train_rows for r in ds.val.tolist())
    # and the split is not a slice of one long draw
    one_draw = torch.randint(1, 10000, (100, 16), generator=torch.Generator().manual_seed(1))
    assert not torch.equal(ds.val, one_draw[90:])


def test_seed_changes_data():
    a = make_dummy(TrainConfig(vocab_size=100, seq_len=8, num_samples=20, seed=1))
    b = make_dummy(TrainConfig(vocab_size=100, seq_len=8, num_samples=20, seed=2))
    assert not torch.equal(a.train, b.train)
