"""The layering README promises, read from the imports themselves (ast), so that a change cannot break it unseen:

* `lossdoc.analysis` and `lossdoc.runlog` never import torch, rich or `lossdoc.render`;
* `lossdoc.render` never imports `lossdoc.train` (sampling after training is the command's job);
* command modules in `lossdoc.cli` never import each other (shared pieces live in cli/options.py,
  cli/runs.py, cli/help_names.py, cli/usage_errors.py, or below the cli);
* nothing outside `lossdoc.cli` imports it (except `lossdoc/__main__.py`, the entry point);
* the bottom layer imports nothing above it: `lossdoc.i18n` only the message catalogs, `lossdoc.errors`
  only `lossdoc.i18n`, `lossdoc.jsonfmt` nothing of lossdoc.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("tests/test_layering.py")  # under -n 2, one worker parses the package, once

ROOT = Path(__file__).resolve().parents[1] / "lossdoc"
COMMANDS = {"train", "explain", "baseline", "compare", "generate", "check", "watch"}


@functools.cache  # the package does not change while the tests run: parsed once per test process, not once per rule
def _imports() -> tuple[tuple[str, str, int], ...]:
    """(importing module, imported name, line) for every absolute import in the package, lazy ones included."""
    out: list[tuple[str, str, int]] = []
    for f in sorted(ROOT.rglob("*.py")):
        parts = f.relative_to(ROOT.parent).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out += [(mod, a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out += [(mod, node.module, node.lineno)] + [(mod, f"{node.module}.{a.name}", node.lineno) for a in node.names]
    return tuple(out)


def _violations(rule) -> list[str]:
    return sorted({f"{m}:{line} imports {n}" for m, n, line in _imports() if rule(m, n)})


def test_the_package_is_found():
    mods = {m for m, _, _ in _imports()}
    assert {"lossdoc.analysis.checks", "lossdoc.runlog.readers", "lossdoc.render.diagnosis", "lossdoc.cli.explain"} <= mods


def _no_torch_rich_render(m: str, n: str) -> bool:
    return m.startswith(("lossdoc.analysis", "lossdoc.runlog")) and (n.split(".")[0] in ("torch", "rich") or n.startswith("lossdoc.render"))


def _render_train(m: str, n: str) -> bool:
    return m.startswith("lossdoc.render") and n.startswith("lossdoc.train")


def _command_command(m: str, n: str) -> bool:
    parts = n.split(".")
    return (
        m.startswith("lossdoc.cli.") and len(parts) >= 3 and parts[:2] == ["lossdoc", "cli"] and parts[2] in COMMANDS and m.split(".")[2] != parts[2]
    )


def _below_cli(m: str, n: str) -> bool:
    return not m.startswith("lossdoc.cli") and m != "lossdoc.__main__" and n.startswith("lossdoc.cli")


BOTTOM = {"lossdoc.i18n": ("lossdoc.messages",), "lossdoc.errors": ("lossdoc.i18n",), "lossdoc.jsonfmt": ()}


def _bottom(m: str, n: str) -> bool:
    return m in BOTTOM and n.startswith("lossdoc") and not n.startswith(BOTTOM[m])


RULES = {
    "analysis/runlog: no torch, rich, render": _no_torch_rich_render,
    "render: no train": _render_train,
    "cli: commands do not import commands": _command_command,
    "nothing below the cli imports it": _below_cli,
    "bottom layer: i18n, errors, jsonfmt import nothing above them": _bottom,
}


@pytest.mark.parametrize("name", list(RULES))
def test_the_layering_holds(name):
    assert _violations(RULES[name]) == []


@pytest.mark.parametrize(
    "name,module,imported",
    [
        ("analysis/runlog: no torch, rich, render", "lossdoc.analysis.checks", "torch"),
        ("analysis/runlog: no torch, rich, render", "lossdoc.runlog.readers.generic", "lossdoc.render.console"),
        ("render: no train", "lossdoc.render.data_summary", "lossdoc.train.generate"),
        ("cli: commands do not import commands", "lossdoc.cli.explain", "lossdoc.cli.compare"),
        ("nothing below the cli imports it", "lossdoc.check.target", "lossdoc.cli.options"),
    ],
)
def test_each_rule_rejects_the_import_it_forbids(name, module, imported):
    """Not vacuous: each rule says no to a made-up import of the kind it forbids, and yes to an allowed one."""
    assert RULES[name](module, imported)
    assert not RULES[name](module, "lossdoc.errors")


def test_the_bottom_layer_rule_rejects_an_import_upwards():
    assert _bottom("lossdoc.i18n", "lossdoc.errors") and _bottom("lossdoc.jsonfmt", "lossdoc.runlog.writer")
    assert not _bottom("lossdoc.errors", "lossdoc.i18n.t") and not _bottom("lossdoc.i18n", "lossdoc.messages.explain")
