"""The readers of training at scale in bounded memory (issue 26, item 3): their batches go to lossdoc's bounded column
store (lossdoc/runlog/readers/_scale.py Collector), so beyond the cap of rows held a systematic 1 in k is kept with
lossdoc's own warning, non-finite losses are kept whatever the sample, and the MLflow metric file is read as
column blocks. The caps are lowered here so that small logs cross them (benchmarks/large_logs.py measures 100 MB)."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.analysis.diagnose import diagnose
from lossdoc.runlog.readers import _scale, mlflow_store, read_run


def _megatron(n: int, nan_from: int | None = None) -> str:
    lines = [" > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)"]
    for s in range(1, n + 1):
        loss = "nan" if nan_from is not None and s >= nan_from else f"{2 + 4 * math.exp(-s / 1000):.6E}"
        lines.append(
            f" [2025-04-13 23:41:20] iteration {s:8d}/{n:8d} | consumed samples: {s * 16:12d} | learning rate: 3.000000E-04 |"
            f" global batch size: {16:5d} | lm loss: {loss} | loss scale: 65536.0 | grad norm: 0.500 |"
            f" number of skipped iterations: {0:3d} | number of nan iterations: {0:3d} |"
        )
    return "\n".join(lines) + "\n"


def test_megatron_beyond_the_cap_is_sampled_with_the_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(_scale, "BATCH_CAP", 1000)
    monkeypatch.setattr(_scale, "CHUNK_ROWS", 300)
    p = tmp_path / "train.log"
    p.write_text(_megatron(5000), encoding="utf-8")
    run = read_run(p)
    assert run.format == "megatron"
    w = next(w for w in run.warnings if w.key == "warn.batches_sampled")
    assert w.args["total"] == 5000 and w.args["k"] == 8 and len(run.batches) == w.args["kept"] <= 1001
    assert run.batches.step[0] == 1 and run.batches.step[-1] == 5000  # the first and the last row are kept
    assert np.all(np.diff(run.batches.step) > 0)
    i = int(np.searchsorted(run.batches.step, 4001))  # a kept row is the row written: ordinal 4000 is a multiple of 8
    assert run.batches.step[i] == 4001 and run.batches.loss[i] == float(f"{2 + 4 * math.exp(-4001 / 1000):.6E}")
    assert run.records_read == 5000 and run.vocab_size == 50257


def test_megatron_under_the_cap_keeps_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(_scale, "CHUNK_ROWS", 300)  # several chunks: the rows are the same as one
    p = tmp_path / "train.log"
    p.write_text(_megatron(2000), encoding="utf-8")
    run = read_run(p)
    assert len(run.batches) == 2000 and list(run.batches.step[:3]) == [1.0, 2.0, 3.0]
    assert not any(w.key == "warn.batches_sampled" for w in run.warnings)
    assert np.all(run.batches.grad_norm == 0.5) and np.all(run.batches.lr == 3e-4)


def test_nonfinite_losses_survive_the_sample(tmp_path, monkeypatch):
    """A sampled read keeps every NaN loss (up to MAX_PINNED): a run that diverged is still broken."""
    monkeypatch.setattr(_scale, "BATCH_CAP", 500)
    p = tmp_path / "train.log"
    p.write_text(_megatron(4000, nan_from=3997), encoding="utf-8")
    run = read_run(p)
    assert any(w.key == "warn.batches_sampled" for w in run.warnings)
    nan_steps = run.batches.step[np.isnan(run.batches.loss)]
    assert list(nan_steps) == [3997.0, 3998.0, 3999.0, 4000.0]
    assert diagnose(run).finding("nonfinite-loss").status == "fail"


def test_olmo_grad_norm_joins_its_row_across_chunks(tmp_path, monkeypatch):
    """OLMo prints the grad norm after the loss: it joins the last row even where a chunk ends at that row."""
    monkeypatch.setattr(_scale, "CHUNK_ROWS", 7)
    lines = []
    for s in range(1, 51):
        lines += [f"[step={s}/50]", f"    train/CrossEntropyLoss={5 - s / 100:.4f}", f"    optim/total_grad_norm={s / 10:.1f}"]
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "olmo" and len(run.batches) == 50
    assert np.allclose(run.batches.grad_norm, np.arange(1, 51) / 10)


def test_steps_going_back_are_a_restart(tmp_path):
    """A resumed log repeats steps: the later rows win and the warning names the first line that went back."""
    lines = [f"[Rank 0] step={s}, skipped=0, lr=[1e-4], loss={5 - s / 100:.2f}" for s in range(1, 11)]
    lines += [f"[Rank 0] step={s}, skipped=0, lr=[1e-4], loss={4 - s / 100:.2f}" for s in range(6, 16)]
    p = tmp_path / "ds.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "deepspeed" and len(run.batches) == 15
    assert run.batches.loss[5] == 4 - 6 / 100  # step 6: the resumed run's row
    w = next(w for w in run.warnings if w.key == "warn.steps_restart")
    assert w.args["line"] == 11


def _mlflow(tmp_path, text: str):
    run_dir = tmp_path / "mlruns" / "1" / "r"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_name: r\nstatus: 3\n", encoding="utf-8")
    (run_dir / "metrics" / "train_loss").write_text(text, encoding="utf-8")
    return run_dir


def test_mlflow_metric_file_as_column_blocks_is_sampled(tmp_path, monkeypatch):
    monkeypatch.setattr(_scale, "BATCH_CAP", 1000)
    monkeypatch.setattr(mlflow_store, "CHUNK_BYTES", 4096)  # many blocks
    text = "".join(f"{1700000000000 + s} {5 - s / 1e4:.6f} {s}\n" for s in range(6000))
    run = read_run(_mlflow(tmp_path, text))
    w = next(w for w in run.warnings if w.key == "warn.batches_sampled")
    assert w.args["total"] == 6000 and w.args["k"] == 8
    assert run.batches.step[0] == 0 and run.batches.step[-1] == 5999 and run.records_read == 6000
    assert np.allclose(run.batches.loss, 5 - run.batches.step / 1e4)


def test_mlflow_block_with_an_odd_line_is_read_line_by_line(tmp_path, monkeypatch):
    """A block numpy cannot read whole (a value that is not a number, a line of two values) is read line by line:
    the bad value is counted on its line, the two-value line's place is its step, the rest of the block is kept."""
    monkeypatch.setattr(mlflow_store, "CHUNK_BYTES", 64)
    text = "1 5.0 0\n2 4.5 1\n3 oops 2\n4 4.0 3\n5 3.9\n6 3.8 5\n"
    run = read_run(_mlflow(tmp_path, text))
    assert list(run.batches.step) == [0.0, 1.0, 3.0, 4.0, 5.0]
    assert list(run.batches.loss) == [5.0, 4.5, 4.0, 3.9, 3.8]
    assert any(w.key == "warn.not_numbers" and w.args["first"] == 3 for w in run.warnings)
