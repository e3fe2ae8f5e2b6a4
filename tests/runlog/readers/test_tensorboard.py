"""TensorBoard event files written by torch.utils.tensorboard and by TensorBoard's own EventFileWriter."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run, tensorboard


def _expected(fix, name):
    raw = json.loads((fix / "tensorboard" / f"{name}.expected.json").read_text())
    return {tag: {int(s): v for s, v in d.items()} for tag, d in raw.items()}


@pytest.mark.parametrize("name", ["counting_healthy", "random_plateau", "exploding_lr"])
def test_scalars_match_what_was_written(fix, name):
    exp = _expected(fix, name)
    run = read_run(fix / "tensorboard" / name)
    assert run.format == "tensorboard" and run.vocab_size is None
    tr, va, lr = exp["train/loss"], exp["val/loss"], exp["lr"]
    assert run.batches.step.tolist() == sorted(tr)
    # simple_value is a float32: compare at float32 precision
    np.testing.assert_allclose(run.batches.loss, [tr[s] for s in sorted(tr)], rtol=1e-6)
    np.testing.assert_allclose(run.batches.lr, [lr[s] for s in sorted(tr)], rtol=1e-6)
    assert run.epochs.step.tolist() == sorted(va)
    np.testing.assert_allclose(run.epochs.val_loss, [va[s] for s in sorted(va)], rtol=1e-6)
    # The evaluation at step 0 is before any update (the first batch is step 1): epoch 0, then 1, 2, ...
    assert run.epochs.epoch.tolist() == list(range(len(va)))


def test_single_event_file_equals_folder(fix):
    folder = fix / "tensorboard" / "counting_healthy"
    (f,) = folder.glob("events.out.tfevents.*")
    a, b = read_run(f), read_run(folder)
    assert np.array_equal(a.batches.loss, b.batches.loss) and np.array_equal(a.epochs.val_loss, b.epochs.val_loss)


def test_custom_tags_need_the_flags(fix):
    folder = fix / "tensorboard" / "custom_tags"
    with pytest.raises(LossdocError) as ei:
        read_run(folder)
    assert ei.value.key == "error.tb_no_loss_tags"
    assert "objective/nll" in str(ei.value)
    exp = _expected(fix, "custom_tags")
    run = read_run(folder, train_tag="objective/nll", val_tag="heldout/nll")
    np.testing.assert_allclose(run.batches.loss, [exp["objective/nll"][s] for s in sorted(exp["objective/nll"])], rtol=1e-6)
    with pytest.raises(LossdocError) as ei:
        read_run(folder, train_tag="nope")
    assert ei.value.key == "error.tb_tag_missing"


def test_keras_layout_tensor_scalars_per_epoch(fix):
    run = read_run(fix / "tensorboard" / "keras_layout")
    assert len(run.batches) == 0
    assert run.epochs.epoch.tolist() == [1, 2, 3, 4, 5]
    assert np.isnan(run.epochs.step).all()
    assert np.all(np.diff(run.epochs.train_loss) < 0) and np.all(np.diff(run.epochs.val_loss) < 0)
    assert [w.key for w in run.warnings] == ["warn.epochs_from_zero"]


def test_agrees_with_tensorboards_own_reader(fix):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    for name in ("counting_healthy", "keras_layout/validation"):
        folder = fix / "tensorboard" / name
        acc = ea_mod.EventAccumulator(str(folder), size_guidance={ea_mod.SCALARS: 0, ea_mod.TENSORS: 0})
        acc.Reload()
        mine: dict = {}
        for f in folder.glob("events.out.tfevents.*"):
            tensorboard.read_events(f, "", mine, [], strict=True)
        for tag in acc.Tags()["scalars"]:
            assert {e.step: e.value for e in acc.Scalars(tag)} == pytest.approx(mine[tag], rel=1e-7)
        for tag in acc.Tags()["tensors"]:
            from tensorboard.util import tensor_util

            theirs = {e.step: float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)}
            assert theirs == pytest.approx(mine[tag], rel=1e-7)


def test_crc32c_known_vector():
    # RFC 3720 test vector: CRC-32C of 32 zero bytes is 0x8A9136AA; of "123456789" is 0xE3069283.
    assert tensorboard.crc32c(bytes(32)) == 0x8A9136AA
    assert tensorboard.crc32c(b"123456789") == 0xE3069283


def test_torn_last_record_is_a_warning(fix, tmp_path):
    (f,) = (fix / "tensorboard" / "counting_healthy").glob("events.out.tfevents.*")
    data = f.read_bytes()
    p = tmp_path / f.name
    p.write_bytes(data[:-7])
    run = read_run(p)
    assert [w.key for w in run.warnings] == ["warn.tb_torn"]
    full = read_run(f)
    assert len(run.batches) + len(run.epochs) >= len(full.batches) + len(full.epochs) - 2


def test_garbage_event_file_is_one_error(fix, tmp_path):
    with pytest.raises(LossdocError) as ei:
        read_run(fix / "malformed" / "events.out.tfevents.1700000000.bad.0")
    assert ei.value.key == "error.tb_corrupt"
    empty = tmp_path / "logs"
    empty.mkdir()
    with pytest.raises(LossdocError) as ei:
        read_run(empty, fmt="tensorboard")
    assert ei.value.key == "error.folder_no_log" or ei.value.key == "error.tb_no_events"
    with pytest.raises(LossdocError) as ei:
        tensorboard.read(empty)
    assert ei.value.key == "error.tb_no_events"


def test_detects_tfrecord_without_the_usual_name(fix, tmp_path):
    (f,) = (fix / "tensorboard" / "counting_healthy").glob("events.out.tfevents.*")
    p = tmp_path / "renamed.bin"
    p.write_bytes(f.read_bytes())
    assert read_run(p).format == "tensorboard"
    assert struct.unpack("<Q", p.read_bytes()[:8])[0] > 0


def test_tensor_scalar_ignores_fields_with_the_wrong_wire_type():
    """Found by fuzzing: a double_val (field 6) or float_val (field 5) carried as a varint is corrupt, not a crash."""
    import struct

    from lossdoc.runlog.readers.tensorboard import _tensor_scalar

    assert _tensor_scalar(b"\x30\x05") is None  # field 6, wire 0
    assert _tensor_scalar(b"\x28\x05") is None  # field 5, wire 0
    assert _tensor_scalar(b"\x31" + struct.pack("<d", 2.5)) == 2.5  # field 6, fixed64
    assert _tensor_scalar(b"\x2d" + struct.pack("<f", 1.5)) == 1.5  # field 5, fixed32
    assert _tensor_scalar(b"\x32\x09" + struct.pack("<d", 4.0) + b"\x00") == 4.0  # packed with a stray byte


def test_a_tree_of_runs_is_named_as_such_in_one_short_line(fix, tmp_path):
    # `explain .` at a checkout or sweep root: many runs, each with its own tags; no listing of every run's tags
    import shutil

    for name in ("counting_healthy", "random_plateau", "custom_tags"):
        shutil.copytree(fix / "tensorboard" / name, tmp_path / "sweep" / name)
    (tmp_path / "sweep" / "nested").mkdir()
    shutil.copytree(fix / "tensorboard" / "exploding_lr", tmp_path / "sweep" / "nested" / "exploding_lr")
    with pytest.raises(LossdocError) as ei:
        read_run(tmp_path / "sweep", fmt="tensorboard")
    assert ei.value.key == "error.tb_many_runs" and ei.value.args_["count"] == 4
    msg = str(ei.value).replace(str(tmp_path), "")  # the path itself aside, the line is short
    assert len(msg) < 220 and "counting_healthy" in msg and "train/loss" not in msg


def test_an_error_names_at_most_eight_tags_then_how_many_more():
    tags = [f"t{i:02d}" for i in range(20)]
    assert tensorboard._shown_tags(tags) == ", ".join(tags[:8]) + ", ... (12 more)"
    assert tensorboard._shown_tags(tags[:8]) == ", ".join(tags[:8]) and tensorboard._shown_tags([]) == "-"
