"""Mutation check of tests/analysis/test_thresholds_pinned.py: does each pair catch a wrong threshold?

For every threshold in lossdoc/analysis/thresholds.py and each mutant (x10, /100), runs the test file
in a fresh pytest process in which the analyzer (lossdoc.analysis.checks and .diagnose, which read
``th.X``) sees the mutated value while the tests keep the module's value, the documented rule. A
mutant is caught when the test file fails. Prints a markdown table; exit 1 if a mutant survives.

    python scripts/mutate_thresholds.py [NAME ...]

(A mutant written into thresholds.py itself moves the tests' inputs with it, since they are built
from th.X on purpose: this check asks whether the analyzer follows the rule, not what the rule is.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/analysis/test_thresholds_pinned.py"
MUTANTS = (("x10", 10.0), ("/100", 0.01))

PLUGIN = """
import importlib, os, types
from lossdoc.analysis import thresholds as th
checks = importlib.import_module("lossdoc.analysis.checks")
diagnose = importlib.import_module("lossdoc.analysis.diagnose")  # the module, not the function lossdoc.analysis exports

def _scale(value, factor):
    if isinstance(value, tuple):
        return tuple(_scale(v, factor) for v in value)
    scaled = value * factor
    return int(scaled) if isinstance(value, int) and scaled == int(scaled) else scaled  # 21 x 10 is 210, not 210.0

name, factor = os.environ["LOSSDOC_MUTANT"].split(":")
mutant = types.SimpleNamespace(**{k: v for k, v in vars(th).items() if not k.startswith("__")})
setattr(mutant, name, _scale(getattr(th, name), float(factor)))
checks.th = mutant
diagnose.th = mutant
"""


def caught(name: str, factor: float, plugin_dir: Path) -> bool:
    env = {
        **os.environ,
        "LOSSDOC_MUTANT": f"{name}:{factor}",
        "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "lossdoc_mutant", TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pytest could not run for {name} {factor}:\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode == 1


def main(names: list[str]) -> int:
    import tempfile

    sys.path.insert(0, str(ROOT))
    from lossdoc.analysis import thresholds as th

    names = names or [n for n, v in vars(th).items() if n.isupper() and isinstance(v, (int, float, tuple))]
    survivors = 0
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "lossdoc_mutant.py").write_text(PLUGIN)
        print("| threshold | value | x10 caught? | /100 caught? |\n|---|---|---|---|")
        for name in names:
            row = [caught(name, factor, Path(tmp)) for _, factor in MUTANTS]
            survivors += row.count(False)
            print(f"| {name} | {getattr(th, name)!r} | " + " | ".join("yes" if c else "**no**" for c in row) + " |", flush=True)
    print(f"\n{2 * len(names) - survivors}/{2 * len(names)} mutants caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
