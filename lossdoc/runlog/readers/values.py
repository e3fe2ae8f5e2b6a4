"""The last try for a text file no reader took: loss values with no curve (a results page, a summary, notes).

    **Final val loss** | 3.2703                 -> a loss named, then its one number (Markdown emphasis and table
    **Train loss:** 0.02  (mean)                   pipes are punctuation here)
    Final Training Loss: 0.4936 (down from 2.96)
    best_val_loss = 1.7231
    最终验证损失：1.93                             -> Chinese keys (and other languages' words for loss) as English
    test perplexity: 24.95

A value is a number right after a name that ends in a loss word (``loss``, ``losses``, ``nll``, ``ppl``,
``perplexity``), with at most a ``:``, ``=``, ``|``, ``is`` or ``was`` between them; a name about a loss rather
than one (``loss scale``, ``loss_weight``, ``num loss tokens``) is not a loss's name (``NOT_A_LOSS``), and a
number followed by ``%`` is a share, not a value. Lines of code (``running_loss += 0.0``, ``def``, ``import``,
``self.``) and files named as source or configuration (.py, .yaml, ...) hold no values.

Such a file says how a run ended, not how it went: a Run with no series, its values in ``run.config["values"]``
([{"name", "value", "line"}], at most VALUES_KEPT) and the warning warn.values_only, which shows the first few,
so that explain says inconclusive and why (a curve needs the loss at successive steps or epochs). At least
MIN_VALUES values, not all zero (a placeholder), are needed; fewer, and the file is refused as no log at all.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NOT_A_LOSS, TextLines, to_en, to_float
from lossdoc.runlog.run import ReaderWarning, Run

MIN_VALUES = 1  # named loss values a file needs to be read as a page of values
VALUES_KEPT = 200  # values kept in run.config["values"]
VALUES_SHOWN = 4  # values the warning shows
MATCH_CAP = 2048  # characters of a line that are looked at
# names that are about a loss, not of one (loss_kind's NOT_A_LOSS, without the words of a summary: "best val loss" is one)
_NOT_A_VALUE = frozenset(NOT_A_LOSS - {"best", "min", "lowest", "minimum", "max"})
_FILLER = frozenset({"the", "a", "an", "our", "my", "its", "their", "and", "with", "gave", "got", "reached", "has", "had", "was", "is"})
_LOSS_WORDS = r"(?:loss|losses|nll|ppl|perplexity)"
_NUM = r"[-+]?(?:\d{1,15}(?:\.\d{0,15})?(?:[eE][-+]?\d{1,3})?|\.\d{1,15}(?:[eE][-+]?\d{1,3})?|nan|NaN|inf|Inf)"
# up to three words, then a loss word (whole, not the start of "loss_every"), then at most a separator, then a number
# that is not a share ("4.45%"), a range's start ("0.5-1.0") or the start of a longer token ("3.2.1", "2e")
_VALUE = re.compile(
    r"(?<![A-Za-z0-9_])((?:[A-Za-z][A-Za-z0-9]{0,20}[ \t_\-]{1,2}){0,3}" + _LOSS_WORDS + r")(?![A-Za-z0-9_])"
    r"[ \t*_`'\"]{0,4}(?:[:=|][ \t*_`'\"|]{0,6}|[ \t]{1,3}(?:is|was)[ \t:]{1,3})?(" + _NUM + r")(?![\w%\-]|\.\w)",
    re.IGNORECASE,
)
_TABLE_RULE = re.compile(r"^[ \t]{0,3}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$")  # |---|:---:|
_CODE = re.compile(r"\+=|-=|==|(?<![\w])(?:def|import|return|lambda|self\.|np\.|torch\.|print\()|\.append\(")
CODE_SUFFIXES = frozenset(
    {".py", ".ipynb", ".sh", ".c", ".cc", ".cpp", ".h", ".js", ".ts", ".java", ".rs", ".go", ".yaml", ".yml", ".toml", ".cfg", ".ini"}
)


def _cells(line: str) -> list[str]:
    return [c.strip().strip("*_`").strip() for c in line.strip().strip("|").split("|")]


def _loss_name(cell: str) -> str | None:
    """A table header's cell that names a loss ("val loss", "Test PPL"), tidied, else None."""
    m = re.fullmatch(r"((?:[A-Za-z][A-Za-z0-9]{0,20}[ \t_\-]{1,2}){0,3}" + _LOSS_WORDS + r")", to_en(cell).strip(), re.IGNORECASE)
    if m is None or any(w.lower() in _NOT_A_VALUE for w in re.split(r"[ \t_\-]+", m.group(1))):
        return None
    return " ".join(w for w in re.split(r"[ \t_\-]+", m.group(1)) if w)


def values_in(lines: list[str]) -> list[dict[str, Any]]:
    """The loss values named in ``lines`` ({"name", "value", "line"}, the line counted from 1), in order: a number
    after a loss's name on its line, and the numbers in a pipe table's columns whose header names a loss (a results
    table of several models or runs: each row's first cell joins the name)."""
    found: list[dict[str, Any]] = []
    columns: dict[int, str] = {}  # the loss columns of the pipe table being read: index -> name
    for i, raw in enumerate(lines, 1):
        line = raw[:MATCH_CAP]
        if not line.strip() or _CODE.search(line):
            columns = {}
            continue
        if line.count("|") >= 2:
            if _TABLE_RULE.match(line) and i >= 2:
                header = _cells(lines[i - 2][:MATCH_CAP])
                columns = {j: n for j, cell in enumerate(header) for n in [_loss_name(cell)] if n is not None}
                continue
            if columns:
                cells = _cells(line)
                for j, name in columns.items():
                    value = to_float(cells[j]) if j < len(cells) else None
                    if value is not None:
                        label = f"{cells[0]} {name}" if j > 0 and cells[0] else name
                        found.append({"name": label, "value": value, "line": i})
                continue
        else:
            columns = {}
        for m in _VALUE.finditer(to_en(line)):
            words = [w for w in re.split(r"[ \t_\-]+", m.group(1)) if w]
            while len(words) > 1 and words[0].lower() in _FILLER:
                words.pop(0)  # "The first train loss" -> "first train loss"
            name = " ".join(words)
            if any(w.lower() in _NOT_A_VALUE for w in name.split()):
                continue
            value = to_float(m.group(2))
            if value is not None:
                found.append({"name": name, "value": value, "line": i})
    return found


def enough(found: list[dict[str, Any]]) -> bool:
    return len(found) >= MIN_VALUES and any(v["value"] != 0 for v in found)


def detect(path: Path, head: str) -> bool:
    """Whether a text file no other reader took holds loss values (the last try: readers.read_run asks it last)."""
    if path.suffix.lower() in CODE_SUFFIXES:
        return False
    return enough(values_in(head.splitlines()))


def resolve(folder: Path) -> Path | None:
    return None  # a page of values is never a folder's log


def read(path: Path, **_: Any) -> Run:
    text = TextLines(path)
    found = values_in([line for _, line in text])
    if not enough(found):
        raise LossdocError("error.values_none", path=str(path))
    run = Run(source=str(path), format="values")
    run.config["values"] = found[:VALUES_KEPT]
    first = found[:VALUES_SHOWN]
    shown = "; ".join(f"{v['name']} {_shown(v['value'])} ({v['line']})" for v in first)
    run.warnings.append(ReaderWarning("warn.values_only", {"file": path.name, "n": len(found), "k": len(first), "shown": shown}))
    run.records_read = len(found)
    return run


def _shown(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)
