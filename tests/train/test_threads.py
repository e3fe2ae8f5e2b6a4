"""--threads: the auto rule, its inputs, and what a run records and prints (lossdoc.train.threads)."""

import json

import pytest
import torch
from typer.testing import CliRunner

from lossdoc.cli import app
from lossdoc.errors import ConfigError
from lossdoc.train import threads as threads_module
from lossdoc.train.config import TrainConfig
from lossdoc.train.loop import NullReporter, train
from lossdoc.train.threads import auto_threads, local_procs, pick_threads
from tests.conftest import TINY, tiny_config


@pytest.mark.parametrize(
    "cpus, load, procs, ceiling, expected",
    [
        (2, 0.0, 1, 2, 2),  # an idle 2-core machine: torch's default
        (2, 0.3, 1, 2, 2),  # a little background work rounds away
        (2, 0.6, 1, 2, 1),  # one core mostly busy: one thread
        (2, 1.6, 1, 2, 1),  # the loaded machine of issue 24 (175 s with 2 threads, 61 s with 1)
        (2, 9.5, 1, 2, 1),  # never below one
        (16, 0.0, 1, 8, 8),  # never above torch's default (physical cores)
        (16, 4.2, 1, 16, 12),
        (16, 0.0, 4, 16, 4),  # --nproc 4: the free cores shared
        (2, 0.0, 2, 1, 1),  # --nproc 2 on 2 cores: torchrun's OMP_NUM_THREADS=1 is the ceiling
        (8, None, 1, 8, 8),  # no load average (Windows): all usable cores
    ],
)
def test_auto_counts_the_free_cores(cpus, load, procs, ceiling, expected):
    assert auto_threads(cpus, load, procs, ceiling) == expected


def test_pick_reads_the_machine_and_a_setting_wins(monkeypatch):
    monkeypatch.setattr(threads_module, "usable_cpus", lambda: 4)
    monkeypatch.setattr(threads_module, "load_average", lambda: 2.7)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    auto = pick_threads(None, ceiling=4)
    assert (auto.threads, auto.rule) == (1, "auto")
    assert auto.header() == {"rule": "auto", "cpus": 4, "load_avg_1m": 2.7, "procs": 1, "ceiling": 4}
    set_ = pick_threads(3, ceiling=4)
    assert (set_.threads, set_.header()["rule"]) == (3, "set")
    assert pick_threads(None, ceiling=4, resumed=2).header()["rule"] == "resumed"
    assert pick_threads(3, ceiling=4, resumed=2).threads == 3  # --threads wins over the resumed run's count
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert local_procs() == 2
    monkeypatch.setattr(threads_module, "load_average", lambda: 0.0)
    assert pick_threads(None, ceiling=4).threads == 2  # 4 free cores, two processes


@pytest.mark.parametrize("value", [0, -1])
def test_threads_below_one_are_refused(value):
    with pytest.raises(ConfigError, match=r"invalid --threads '-?\d+': must be >= 1"):
        TrainConfig(threads=value)


def test_a_run_records_its_count_and_gives_the_process_its_own_back(tmp_path):
    before = torch.get_num_threads()
    train(tiny_config(tmp_path / "r", threads=2))
    assert torch.get_num_threads() == before
    env = json.loads((tmp_path / "r" / "run.jsonl").read_text().splitlines()[0])["env"]
    assert env["threads"] == 2 and env["threads_pick"]["rule"] == "set"
    assert env["threads_pick"]["ceiling"] == before


def test_the_start_line_says_what_auto_picked(tmp_path, monkeypatch):
    monkeypatch.setattr(threads_module, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads_module, "load_average", lambda: 1.62)
    for lang, expected in (
        ("en", "device cpu, 1 CPU thread (auto: 2 cores, load average 1.62)"),
        ("zh", "设备 cpu，1 个 CPU 线程（自动选择：2 个核，1 分钟平均负载 1.62）"),
    ):
        out = tmp_path / lang
        result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(out), "--epochs", "1", "--device", "cpu", "--lang", lang])
        assert result.exit_code == 0, result.output
        start = result.output.split("Epoch 0")[0].split("第 0 轮")[0]  # the start line, however the console wrapped it
        assert expected.replace(" ", "") in start.replace("\n", "").replace(" ", "")
        header = json.loads((out / "run.jsonl").read_text().splitlines()[0])
        assert header["env"]["threads"] == 1 and header["env"]["threads_pick"]["load_avg_1m"] == 1.62


class StartHeader(NullReporter):
    def start(self, header, total_steps, done_steps):
        self.env = header["env"]


def test_a_resumed_run_keeps_the_count_it_started_with(tmp_path, monkeypatch):
    # counts round differently (1e-6 on the tiny run), and --resume promises the uninterrupted run's losses
    out = tmp_path / "r"
    monkeypatch.setattr(threads_module, "usable_cpus", lambda: 2)
    monkeypatch.setattr(threads_module, "load_average", lambda: 0.0)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(tiny_config(out), stop_at_step=3)  # auto on an idle 2-core machine: 2
    finally:
        torch.set_num_threads(before)
    assert json.loads((out / "run.jsonl").read_text().splitlines()[0])["env"]["threads"] == 2
    monkeypatch.setattr(threads_module, "load_average", lambda: 5.0)  # busy now: auto alone would pick 1
    seen = StartHeader()
    result = train(resume=out, reporter=seen)
    assert result.status == "completed"
    assert seen.env["threads"] == 2 and seen.env["threads_pick"]["rule"] == "resumed"
    again = StartHeader()
    train(resume=out, overrides={"epochs": 3, "threads": 1}, reporter=again)
    assert again.env["threads"] == 1 and again.env["threads_pick"]["rule"] == "set"
