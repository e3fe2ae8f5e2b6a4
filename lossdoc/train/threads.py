"""How many CPU threads torch uses in a training run: ``--threads N``, or auto (the default).

torch's own default is one thread per physical core. On a machine that other jobs keep busy that is
the slow choice: torch's threads wait for each other at every parallel section, so one thread that
shares its core with another process holds up the rest (measured: benchmarks/threads.py, docs/train.md
"CPU threads"). Auto therefore counts the cores that are free now:

    threads = round((usable cores - 1-minute load average) / processes of this run on the machine)

at least 1 and at most the count torch would use anyway (its default, or OMP_NUM_THREADS; torchrun
sets that to cores / processes). A resumed run keeps the count its run started with (its header's
``env.threads``), unless --threads is given: thread counts round differently, and --resume continues a CPU
run exactly only at the same count. No torch import here: the rule is plain arithmetic, testable alone.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThreadPick:
    """The thread count of a run and where it came from."""

    threads: int
    rule: str  # "auto" (picked by the rule), "set" (--threads) or "resumed" (the count the run started with)
    cpus: int  # cores this process may run on
    load: float | None  # the 1-minute load average when the run started (None where the OS has none)
    procs: int  # processes of this run on this machine (LOCAL_WORLD_SIZE under torchrun, else 1)
    ceiling: int  # torch's thread count before the run: auto never goes above it

    def header(self) -> dict[str, Any]:
        """The run header's ``env.threads_pick`` (``env.threads`` holds the count itself)."""
        return {
            "rule": self.rule,
            "cpus": self.cpus,
            "load_avg_1m": None if self.load is None else round(self.load, 2),
            "procs": self.procs,
            "ceiling": self.ceiling,
        }


def usable_cpus() -> int:
    """Cores this process may run on (its CPU affinity: taskset, cgroup cpusets), else os.cpu_count()."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def load_average() -> float | None:
    """The 1-minute load average (runnable processes, averaged), or None where the OS has none (Windows)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def local_procs() -> int:
    """Processes of this run on this machine: torchrun's LOCAL_WORLD_SIZE, else 1."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        return 1


def auto_threads(cpus: int, load: float | None, procs: int, ceiling: int) -> int:
    """The rule: the free cores (cores minus the load average) shared among the run's processes, rounded,
    at least 1 and at most ``ceiling``."""
    free = cpus - (load or 0.0)
    return max(1, min(ceiling, math.floor(free / procs + 0.5)))


def pick_threads(setting: int | None, ceiling: int, *, resumed: int | None = None) -> ThreadPick:
    """The run's thread count: ``setting`` (--threads) when given, else ``resumed`` (the count a resumed run
    started with), else the auto rule with this machine's cores and load, under ``ceiling``
    (torch.get_num_threads() before the run)."""
    cpus, load, procs = usable_cpus(), load_average(), local_procs()
    if setting is not None:
        return ThreadPick(setting, "set", cpus, load, procs, ceiling)
    if resumed is not None:
        return ThreadPick(resumed, "resumed", cpus, load, procs, ceiling)
    return ThreadPick(auto_threads(cpus, load, procs, ceiling), "auto", cpus, load, procs, ceiling)
