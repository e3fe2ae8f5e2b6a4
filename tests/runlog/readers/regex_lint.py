"""A structural check that a regular expression cannot backtrack polynomially or exponentially.

Python's `re` backtracks. A pattern takes more than linear time on a hostile line when two unbounded
repeats over overlapping characters can split the same run of text between them with only optional
pieces in between (``\\s*\\[?\\s*``: cubic on a run of spaces after three of them), or when an unbounded
repeat holds another one (``(\\s*x?)*``). ``ambiguities(pattern)`` finds both shapes by walking the
parsed pattern; character classes are compared on a set of probe characters.
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    import re._constants as c  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # Python 3.10
    import sre_constants as c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

PROBES = " \t\n\r\u3000aZe0119.,;:：[]()/\\-+_=x#%中，|>"
_CATS = {
    c.CATEGORY_SPACE: str.isspace,
    c.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
    c.CATEGORY_DIGIT: str.isdigit,
    c.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
    c.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    c.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
}
_REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT) + ((c.POSSESSIVE_REPEAT,) if hasattr(c, "POSSESSIVE_REPEAT") else ())


def _chars(op, av) -> frozenset[str] | None:
    """The probe characters a one-character item matches, or None when the item is not one character."""
    if op == c.LITERAL:
        return frozenset(ch for ch in PROBES if ord(ch) == av)
    if op == c.NOT_LITERAL:
        return frozenset(ch for ch in PROBES if ord(ch) != av)
    if op == c.ANY:
        return frozenset(PROBES) - {"\n"}
    if op == c.IN:
        negate = any(o == c.NEGATE for o, _ in av)
        hit = set()
        for ch in PROBES:
            m = False
            for o, a in av:
                if o == c.LITERAL and ord(ch) == a:
                    m = True
                elif o == c.RANGE and a[0] <= ord(ch) <= a[1]:
                    m = True
                elif o == c.CATEGORY and _CATS.get(a, lambda _: True)(ch):
                    m = True
            if m != negate:
                hit.add(ch)
        return frozenset(hit)
    return None


def _can_be_empty(item) -> bool:
    op, av = item
    if op in _REPEATS:
        return av[0] == 0 or _seq_empty(av[2])
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return True
    if op == c.SUBPATTERN:
        return _seq_empty(av[-1])
    if op == c.BRANCH:
        return any(_seq_empty(b) for b in av[1])
    if hasattr(c, "ATOMIC_GROUP") and op == c.ATOMIC_GROUP:
        return _seq_empty(av)
    return False


def _seq_empty(seq) -> bool:
    return all(_can_be_empty(i) for i in seq)


def _unbounded(item) -> frozenset[str] | None:
    op, av = item
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] == c.MAXREPEAT and len(av[2]) == 1:
        return _chars(*av[2][0])
    return None


def _edge_repeats(item, leading: bool) -> list[frozenset[str]]:
    """Character sets of the unbounded repeats that can sit at the start (or end) of what ``item`` matches."""
    own = _unbounded(item)
    if own is not None:
        return [own]
    op, av = item
    if op in _REPEATS:
        return _edge_seq(av[2], leading)
    if op == c.SUBPATTERN:
        return _edge_seq(av[-1], leading)
    if op == c.BRANCH:
        return [s for b in av[1] for s in _edge_seq(b, leading)]
    return []


def _edge_seq(seq, leading: bool) -> list[frozenset[str]]:
    out: list[frozenset[str]] = []
    for item in seq if leading else list(reversed(seq)):
        out += _edge_repeats(item, leading)
        if not _can_be_empty(item):
            break
    return out


def _has_unbounded(seq) -> bool:
    for op, av in seq:
        if op in _REPEATS and (av[1] == c.MAXREPEAT or _has_unbounded(av[2])):
            return True
        if op == c.SUBPATTERN and _has_unbounded(av[-1]):
            return True
        if op == c.BRANCH and any(_has_unbounded(b) for b in av[1]):
            return True
    return False


def _check(seq, found: list[str], inside_unbounded: bool) -> None:
    seq = list(seq)
    for i, item in enumerate(seq):
        op, av = item
        tails = _edge_repeats(item, leading=False)
        for j in range(i + 1, len(seq)):
            heads = _edge_repeats(seq[j], leading=True)
            if any(t & h for t in tails for h in heads):
                found.append(f"overlapping repeats around item {i} and {j}")
            if not _can_be_empty(seq[j]):
                break
        if op in _REPEATS:
            unb = av[1] == c.MAXREPEAT
            if unb and _unbounded(item) is None and _has_unbounded(av[2]):
                found.append(f"nested unbounded repeat at item {i}")
            _check(av[2], found, inside_unbounded or unb)
        elif op == c.SUBPATTERN:
            _check(av[-1], found, inside_unbounded)
        elif op == c.BRANCH:
            for b in av[1]:
                _check(b, found, inside_unbounded)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _check(av[1], found, inside_unbounded)


def ambiguities(pattern: re.Pattern[str] | str) -> list[str]:
    """Shapes that make ``pattern`` backtrack more than linearly (empty: none found)."""
    src = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    found: list[str] = []
    _check(sre_parse.parse(src), found, False)
    return found
