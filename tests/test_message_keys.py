"""Every message key the code names exists in the catalogs, and every key in the catalogs is used.

Read from the source with ast, so that a typo in a key (a KeyError at the moment a user would see
the message) or a sentence nobody can ever see fails here. Keys may be composed: ``t(f"verdict.{v}")``,
``"f.progress.rising" + suffix`` or ``_count("train.layers", n)`` (which adds ".one"/".many"); a key
counts as used when a string in the code equals it or is its prefix up to a "." or "_".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from lossdoc.i18n import catalogs

ROOT = Path(__file__).resolve().parent.parent / "lossdoc"
KEYS = set(catalogs()["en"])
KEYED_CALLS = {"t", "LossdocError"}  # calls whose first argument is a message key
LOOKS_LIKE_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def _code_trees():
    for path in sorted(ROOT.rglob("*.py")):
        if "messages" not in path.relative_to(ROOT).parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _strings_and_prefixes():
    strings, prefixes = set(), set()
    for _, tree in _code_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefixes.add(node.values[0].value)
    return strings, prefixes


def _keys_named_in(tree: ast.AST):
    """(line, key) for every constant first argument of t(...) / LossdocError(...), and every constant
    Finding key (its third argument)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
        pos = 0 if name in KEYED_CALLS else 2 if name == "Finding" else None
        if pos is not None and len(node.args) > pos:
            arg = node.args[pos]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value


def _named_keys():
    for path, tree in _code_trees():
        for line, key in _keys_named_in(tree):
            yield path.name, line, key


def test_every_key_the_code_names_exists():
    missing = [(f, line, key) for f, line, key in _named_keys() if key not in KEYS]
    assert missing == []


def test_every_key_in_the_catalogs_is_used():
    strings, prefixes = _strings_and_prefixes()
    stems = {s for s in strings | prefixes if LOOKS_LIKE_KEY.fullmatch(s.rstrip("._")) or s.endswith(".")}

    def used(key: str) -> bool:
        return key in strings or any(key.startswith(s) and (s[-1] in "._" or key[len(s)] in "._") for s in stems if len(s) < len(key))

    assert sorted(k for k in KEYS if not used(k)) == []


def test_the_reader_finds_keys_in_each_kind_of_call():
    tree = ast.parse('t("a.b", lang)\nraise LossdocError("c.d", x=1)\nFinding("code", "ok", "e.f", {})\nprint("g.h")\nt(key)')
    assert [k for _, k in _keys_named_in(tree)] == ["a.b", "c.d", "e.f"]
