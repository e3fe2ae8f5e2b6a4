import math

import pytest
import torch

from lossdoc.errors import LossdocError
from lossdoc.runlog.schema import validate_file
from lossdoc.train.checkpoint import load_checkpoint, save_checkpoint
from lossdoc.train.loop import epoch_order, split_batch, train
from tests.conftest import read_records, tiny_config


def epoch_losses(run_dir):
    return [(r["epoch"], r["train_loss"], r["val_loss"]) for r in read_records(run_dir) if r["type"] == "epoch"]


def test_tiny_run_writes_log_config_and_checkpoints(tiny_run):
    assert validate_file(tiny_run / "run.jsonl") == []
    recs = read_records(tiny_run)
    assert recs[0]["type"] == "run" and recs[0]["schema"] == "lossdoc.run/1"
    assert recs[0]["data"]["entropy_floor"] == pytest.approx(math.log(63), abs=1e-12)
    assert recs[1]["type"] == "epoch" and recs[1]["epoch"] == 0  # measured before any update
    assert recs[-1] == {**recs[-1], "type": "end", "status": "completed", "epochs_completed": 2}
    batches = [r for r in recs if r["type"] == "batch"]
    assert [b["step"] for b in batches] == list(range(1, len(batches) + 1))
    assert all(b["tokens"] == 8 * 15 for b in batches)
    ep1 = [b["loss"] for b in batches if b["epoch"] == 1]
    assert len(ep1) == 9  # 72 training rows in batches of 8
    ep_rec = next(r for r in recs if r["type"] == "epoch" and r["epoch"] == 1)
    assert ep_rec["train_loss"] == pytest.approx(sum(ep1) / len(ep1), rel=1e-12)
    assert (tiny_run / "config.yaml").is_file()
    assert (tiny_run / "checkpoints" / "last.pt").is_file() and (tiny_run / "checkpoints" / "best.pt").is_file()


def test_best_checkpoint_holds_the_best_validation_loss(tiny_run):
    recs = read_records(tiny_run)
    vals = [r["val_loss"] for r in recs if r["type"] == "epoch" and r["epoch"] >= 1]
    best = load_checkpoint(tiny_run / "checkpoints" / "best.pt")
    last = load_checkpoint(tiny_run / "checkpoints" / "last.pt")
    assert best["progress"]["best_val_loss"] == min(vals)
    assert last["progress"]["epoch"] == 2
    assert set(best) >= {"model", "optimizer", "config", "progress", "rng", "header"}


def test_validation_loss_is_recomputable_from_best_checkpoint(tiny_run):
    # independent recomputation: rebuild the model from the checkpoint and evaluate the val rows by hand
    from lossdoc.train.config import TrainConfig
    from lossdoc.train.data import make_dummy
    from lossdoc.train.model import ModelConfig, TransformerLM

    ck = load_checkpoint(tiny_run / "checkpoints" / "best.pt")
    cfg = TrainConfig(**ck["config"])
    m = TransformerLM(ModelConfig(cfg.vocab_size, cfg.seq_len, cfg.d_model, cfg.num_layers, cfg.num_heads, cfg.d_ff, cfg.dropout))
    m.load_state_dict(ck["model"])
    m.eval()
    val = make_dummy(cfg).val
    with torch.no_grad():
        logp = m(val[:, :-1]).log_softmax(-1)
        nll = -logp.gather(-1, val[:, 1:, None]).mean().item()
    assert nll == pytest.approx(ck["progress"]["best_val_loss"], abs=1e-5)


def test_resume_after_interrupt_gives_exactly_the_uninterrupted_losses(tmp_path, tiny_run):
    cfg = tiny_config(tmp_path / "b")
    r = train(cfg, stop_at_step=5)  # mid-epoch 1 (9 batches per epoch)
    assert r.status == "interrupted" and r.exit_code == 130
    recs = read_records(tmp_path / "b")
    assert recs[-1]["type"] == "end" and recs[-1]["status"] == "interrupted"
    assert any(x["type"] == "event" and x["kind"] == "interrupted" for x in recs)
    r2 = train(resume=tmp_path / "b")
    assert r2.status == "completed"
    assert epoch_losses(tmp_path / "b") == epoch_losses(tiny_run)
    kinds = [x.get("kind") for x in read_records(tmp_path / "b") if x["type"] == "event"]
    assert kinds == ["interrupted", "resumed"]


def test_resume_can_extend_epochs(tmp_path):
    train(tiny_config(tmp_path / "c", epochs=1))
    train(resume=tmp_path / "c", overrides={"epochs": 2})
    assert [e for e, *_ in epoch_losses(tmp_path / "c")] == [0, 1, 2]


def test_existing_run_folder_is_not_overwritten(tmp_path, tiny_run):
    before = (tiny_run / "run.jsonl").read_bytes()
    with pytest.raises(LossdocError) as info:
        train(tiny_config(tiny_run))
    assert info.value.key == "error.out_exists"
    assert (tiny_run / "run.jsonl").read_bytes() == before


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(LossdocError) as info:
        train(resume=tmp_path)
    assert info.value.key == "error.resume_missing"


def test_split_batch_shifts_labels():
    ids = torch.arange(10).view(2, 5)
    x, y = split_batch(ids)
    assert torch.equal(x, ids[:, :-1]) and torch.equal(y, ids[:, 1:])
    x, y = split_batch(ids, shifted=False)
    assert torch.equal(x, y)


def test_epoch_order_is_a_permutation_fixed_by_seed_and_epoch():
    a = epoch_order(10, 1, 1)
    assert sorted(a.tolist()) == list(range(10))
    assert torch.equal(a, epoch_order(10, 1, 1))
    assert not torch.equal(a, epoch_order(10, 1, 2))


def test_checkpoint_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    save_checkpoint({"model": {"w": torch.ones(2)}}, tmp_path / "x.pt")
    save_checkpoint({"model": {"w": torch.zeros(2)}}, tmp_path / "x.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]
    assert torch.equal(load_checkpoint(tmp_path / "x.pt")["model"]["w"], torch.zeros(2))


def test_hostile_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "evil.pt"
    torch.save({"model": Evil()}, bad)
    with pytest.raises(LossdocError) as info:
        load_checkpoint(bad)
    assert info.value.key == "error.checkpoint_unsafe"
    assert not marker.exists()


def test_default_run_ends_within_one_percent_of_the_floor(default_run):
    recs = read_records(default_run)
    header = recs[0]
    floor = math.log(header["vocab_size"] - 1)
    assert header["data"]["entropy_floor"] == pytest.approx(floor, abs=1e-12)
    assert validate_file(default_run / "run.jsonl") == []
    best = min(r["val_loss"] for r in recs if r["type"] == "epoch" and r["epoch"] >= 1)
    assert recs[-1]["best_val_loss"] == best
    assert abs(best - floor) / floor < 0.01
    init = next(r for r in recs if r["type"] == "epoch" and r["epoch"] == 0)
    assert init["val_loss"] == pytest.approx(9.38, abs=0.03)  # the seed's first loss
