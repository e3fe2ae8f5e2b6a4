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

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import NOT_A_LOSS, VAL_NAMES, TextLines, pick, to_en, to_float
from lossdoc.runlog.run import ReaderWarning, Run

MIN_VALUES = 1  # named loss values a file needs to be read as a page of values
VALUES_KEPT = 200  # values kept in run.config["values"]
VALUES_SHOWN = 4  # values the warning shows
MATCH_CAP = 2048  # characters of a line that are looked at for named values
LINE_SCAN = 1_000_000  # characters of a line that are looked at for a series (a list of thousands of losses)
MIN_SERIES = 2  # series side by side, at least
MIN_SERIES_VALUES = 3  # numbers in each
ROW_JUMP = 3.0  # a row goes on from the last when its first value is within this many of a row's typical moves
CURVE_GAP = 4  # lines between the repeats of one name that make them a curve's (a loss printed at every position)
MAX_TABLE_ROWS = 200  # rows of a pipe table looked at for a position column
MIN_BARE_ROW = 5  # numbers in a bare row (no brackets, no label), and at least as many as there are rows
# names that are about a loss, not of one (loss_kind's NOT_A_LOSS, without the words of a summary: "best val loss" is one)
_NOT_A_VALUE = frozenset(NOT_A_LOSS - {"best", "min", "lowest", "minimum", "max"})
_FILLER = frozenset(
    {
        "the",
        "a",
        "an",
        "our",
        "my",
        "its",
        "their",
        "and",
        "with",
        "gave",
        "got",
        "reached",
        "has",
        "had",
        "was",
        "is",
        "then",
        "so",
        "but",
        "at",
        "of",
        "to",
        "in",
    }
)
_LOSS_WORDS = r"(?:loss|losses|nll|ppl|perplexity)"
LOSS_WORD = re.compile(_LOSS_WORDS, re.IGNORECASE)  # a name that holds a loss word anywhere (readers/generic.py's JSON figures)
_NUM = r"[-+]?(?:\d{1,15}(?:\.\d{0,24})?(?:[eE][-+]?\d{1,3})?|\.\d{1,24}(?:[eE][-+]?\d{1,3})?|nan|NaN|inf|Inf)"
# a value is a real number (a decimal point or an exponent) or nan/inf: an integer after a loss word is a count, a
# status code or a setting ("loss: 1" in a config, "packet loss: 3", "GET /api/loss 404")
_REAL = r"[-+]?(?:\d{1,15}\.\d{1,24}(?:[eE][-+]?\d{1,3})?|\d{1,15}[eE][-+]?\d{1,3}|\.\d{1,24}(?:[eE][-+]?\d{1,3})?|nan|NaN|inf|Inf)"
# up to three words, then a loss word (whole, not the start of "loss_every"; "loss_mean" and "loss_avg" are the loss:
# a batch's mean printed beside its per-sample losses), then at most a separator, then a number
# that is not a share ("4.45%"), a range's start ("0.5-1.0") or the start of a longer token ("3.2.1", "2e")
_VALUE = re.compile(
    r"(?<![A-Za-z0-9_/.])((?:[A-Za-z][A-Za-z0-9]{0,20}[ \t_\-]{1,2}){0,3}" + _LOSS_WORDS + r"(?:_mean|_avg)?)(?![A-Za-z0-9_])"
    r"[ \t*_`'\"]{0,4}(?:[:=|][ \t*_`'\"|]{0,6}|[ \t]{1,3}(?:is|was)[ \t:]{1,3}|[ \t]{0,3}(?:为|是)[ \t:]{0,3})?(?:[~≈][ \t]?)?("
    + _REAL
    + r")(?![\w%\-/]|[.,]\w)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.{1,80}?)[ \t#]*$")
# an item under such a heading: "- Begin: 2.37", "* End = 2.55" (its name one to three words, then only the number)
_ITEM = re.compile(r"^[ \t]{0,8}(?:[-*+][ \t]+)?\**([A-Za-z][A-Za-z0-9 ]{0,30}?)\**[ \t]*[:=][ \t]*\**[ \t]*(?:[~≈][ \t]?)?(" + _REAL + r")[ \t*]*$")
_TABLE_RULE = re.compile(r"^[ \t]{0,3}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$")  # |---|:---:|
_CODE = re.compile(r"\+=|-=|==|(?<![\w])(?:(?:def|import|return|lambda)\b|self\.|np\.|torch\.|print\()|\.append\(")
# a printed call or namespace of settings: "Namespace(batch_size=32, min_loss=0.5)", "dict(loss=0.1)"
_SETTINGS = re.compile(r"\b[A-Za-z_]\w{0,40}\([^()]{0,2000}\b\w+=[^,()]{1,80},")
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


_PHASE = r"(train|training|val|valid|validation|dev|eval|test|best|final)"
# two phases' losses named in one header: "train/val loss", "train loss / val loss" (to_en's reading of 训练损失/验证损失)
_PAIR_NAME = re.compile(
    r"" + _PHASE + r"(?:[ \t_\-]{1,2}" + _LOSS_WORDS + r")?[ \t]*/[ \t]*" + _PHASE + r"[ \t_\-]{1,2}(" + _LOSS_WORDS + r")", re.IGNORECASE
)


def _loss_names(cell: str) -> list[str]:
    """The losses a table header's cell names: one ("val loss"), or two phases' joined by a slash ("train/val loss",
    "训练损失/验证损失", whose cells hold two numbers joined by a slash: 3.6/8.8), else none ("BLEU/val loss" is no pair)."""
    one = _loss_name(cell)
    if one is not None:
        return [one]
    m = _PAIR_NAME.fullmatch(to_en(cell).strip())
    if m is None:
        return []
    return [f"{m.group(1)} {m.group(3)}", f"{m.group(2)} {m.group(3)}"]


_POSITION_HEADER = re.compile(r"(?i)^(?:#|no\.?|n|idx|index|step|steps|iter|iteration|epoch|ep|checkpoint|ckpt|tokens?(?: seen)?|step \(k\)|round)$")


def _position_column(rows: list[str], header: list[str]) -> bool:
    """Whether a pipe table's first column is a position: its header names one (#, step, epoch, checkpoint, tokens),
    or its first cells are numbers that grow, row after row."""
    if header and _POSITION_HEADER.match(header[0].strip()):
        return True
    firsts: list[float] = []
    for row in rows[:MAX_TABLE_ROWS]:
        if row.count("|") < 2:
            break
        v = to_float(_cells(row)[0].replace(",", "").rstrip("kKmM"))
        if v is None:
            return False
        firsts.append(v)
    return len(firsts) >= MIN_SERIES_VALUES and all(b > a for a, b in zip(firsts, firsts[1:], strict=False))


def repeated(found: list[dict[str, Any]]) -> bool:
    """Whether one name holds MIN_SERIES_VALUES values or more, a few lines apart (the median gap CURVE_GAP lines at
    most): a loss printed at successive positions (a curve whose lines no reader could place), not a page of final
    figures (three runs' "Final val loss", each in its own section, is a page)."""
    lines: dict[str, list[int]] = {}
    for v in found:
        lines.setdefault(v["name"].lower(), []).append(int(v["line"]))
    for at in lines.values():
        if len(at) >= MIN_SERIES_VALUES:
            gaps = sorted(b - a for a, b in zip(at, at[1:], strict=False))
            if gaps[len(gaps) // 2] <= CURVE_GAP:
                return True
    return False


def values_in(lines: list[str], numbers: list[int] | None = None) -> list[dict[str, Any]]:
    """The loss values named in ``lines`` ({"name", "value", "line"}, the line counted from 1), in order: a number
    after a loss's name on its line, and the numbers in a pipe table's columns whose header names a loss (a results
    table of several models or runs: each row's first cell joins the name)."""
    found: list[dict[str, Any]] = []
    columns: dict[int, list[str]] = {}  # the loss columns of the pipe table being read: index -> its name(s)
    scope: str | None = None  # a Markdown heading that names a loss ("## Loss"), over the items below it
    for k, raw in enumerate(lines):
        i = k + 1  # the line's index in ``lines``, counted from 1 (a table's header is two above its rule)
        at = numbers[k] if numbers is not None else i  # its number in the file
        line = raw[:MATCH_CAP]
        if not line.strip() or _CODE.search(line) or _SETTINGS.search(line):
            columns = {}
            continue
        heading = _HEADING.match(line)
        if heading:
            scope = _loss_name(heading.group(1).strip().strip("*_`").strip())
            continue
        if scope is not None and (item := _ITEM.match(line)):
            value = to_float(item.group(2))
            if value is not None:
                found.append({"name": f"{scope} {item.group(1).strip()}", "value": value, "line": at})
                continue
        if line.count("|") >= 2:
            if _TABLE_RULE.match(line) and i >= 2:
                header = _cells(lines[i - 2][:MATCH_CAP])
                columns = {j: n for j, cell in enumerate(header) for n in [_loss_names(cell)] if n}
                if columns and _position_column(lines[i:], header):
                    columns = {}  # a table of a loss over positions (#, step, checkpoint): a curve, not final figures
                continue
            if columns:
                cells = _cells(line)
                for j, names in columns.items():
                    parts = cells[j].split("/") if j < len(cells) and len(names) > 1 else cells[j : j + 1]
                    if len(parts) != len(names):
                        continue
                    for name, part in zip(names, parts, strict=True):
                        value = to_float(part.strip())
                        if value is not None:
                            label = f"{cells[0]} {name}" if j > 0 and cells[0] else name
                            found.append({"name": label, "value": value, "line": at})
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
                found.append({"name": _zh_name(line, m.group(2)) or name, "value": value, "line": at})
    return found


_CJK_NAME = re.compile(r"([\u4e00-\u9fff]{0,8}?(?:损失值?|困惑度))[ \t]*(?:[：:=＝]|为|是)?[ \t]*(?:[~≈][ \t]?)?")


def _zh_name(line: str, number: str) -> str | None:
    """The loss's name as the line writes it in Chinese ("最终验证损失" before "1.93"), where the match was made on
    the line read as English (验证损失 -> "val loss"): shown as written, not as translated. None for other lines."""
    if not re.search(r"[\u4e00-\u9fff]", line):
        return None
    for m in _CJK_NAME.finditer(line):
        if line[m.end() :].startswith(number):
            return m.group(1)
    return None


_LIST = re.compile(r"\[([^\[\]]{1,200000})\]")  # a printed Python list or JSON array on the line
_SPLIT = re.compile(r"[\s,;]+")
_LABEL = re.compile(r"^[ \t]*([A-Za-z][\w .\-]{0,40}?)[ \t]*[:=][ \t]*(?=\[)")  # "BRNN:[...]", "val = [...]"


def _numbers(text: str) -> list[float] | None:
    """The numbers of a comma, semicolon or space separated run of them, or None when any token is not a number."""
    out: list[float] = []
    for tok in _SPLIT.split(text.strip().strip(",;")):
        if not tok:
            continue
        v = to_float(tok.strip("'\""))
        if v is None:
            return None
        out.append(v)
    return out


_VAL_WORD = re.compile(r"(?i)(?<![a-z])(?:val|valid|validation|eval|dev|test)(?![a-z])")
_LOSS_NAMED = re.compile(r"(?<![A-Za-z])" + _LOSS_WORDS + r"(?![A-Za-z])", re.IGNORECASE)


def series_in(lines: list[str], name: str = "") -> list[dict[str, Any]]:
    """Several series of losses side by side, one a line (``BRNN:[0.71, 0.69, ...]``, a CSV row holding a quoted list,
    rows of comma-separated numbers), or one a column of a table whose rows are positions (``Epoch 3;115.6;124.5``
    under a header that names the runs): [{"name", "values"}], or [] unless every line that is not blank (a header
    aside) is such a series, there are MIN_SERIES of them and each holds at least MIN_SERIES_VALUES numbers. The
    numbers must be named as losses somewhere: by the file's name (``train_losses.txt``, ``loss_log.txt``), the
    series' labels or the table's header (a table of timings per setting is not one)."""
    rows = [line[:LINE_SCAN] for line in lines if line.strip()]
    if len(rows) < MIN_SERIES:
        return []
    named = bool(_LOSS_NAMED.search(to_en(name.replace("_", " ").replace("-", " "))))
    found = _rows(rows) or _columns(rows)
    labels = " ".join(s["name"] for s in found) + " " + rows[0][:MATCH_CAP]
    return found if named or _LOSS_NAMED.search(to_en(labels.replace("_", " "))) else []


def _train_and_val(series: list[dict[str, Any]]) -> tuple[list[float], list[float]] | None:
    """Two series, one named for validation and the other not (``loss: [...]`` and ``val_loss: [...]``, as a Keras
    history prints): one run's training and validation losses, else None."""
    if len(series) != 2:
        return None
    kinds = [bool(pick([s["name"]], VAL_NAMES)) or bool(_VAL_WORD.search(s["name"])) for s in series]
    if kinds.count(True) != 1 or any(s["name"].startswith("#") for s in series):
        return None
    val = series[kinds.index(True)]["values"]
    train = series[kinds.index(False)]["values"]
    return train, val


def _one_run_in_rows(series: list[dict[str, Any]]) -> bool:
    """Unnamed rows each going on from where the last ended (an epoch's batch losses a row): one run, not several.
    Each row's first value nearer the last row's last than the first row's first, after a material fall."""
    if any(not s["name"].startswith("#") for s in series):
        return False
    steps = [float(np.median(np.abs(np.diff(s["values"])))) for s in series if len(s["values"]) > 1]
    step = float(np.median(steps)) if steps else math.nan  # a row's typical move from one value to the next
    first = series[0]["values"][0]
    for a, b in zip(series, series[1:], strict=False):
        prev, new = a["values"][-1], b["values"][0]
        # the next row begins where this one ended (within ROW_JUMP of a row's own moves), not where the first began
        if not (abs(new - prev) < abs(new - first) and abs(new - prev) <= ROW_JUMP * step):
            return False
    return True


def _rows(rows: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows, 1):
        lists = [m for m in _LIST.finditer(row)]
        values = _numbers(lists[-1].group(1)) if lists else _numbers(row)
        if values is None or len(values) < MIN_SERIES_VALUES:
            return []
        if not lists and len(values) < max(MIN_BARE_ROW, len(rows)):
            # bare rows of numbers are runs only when longer than the table is tall: a table of a few columns and many
            # rows (epoch, train, val) is one run's columns, not many runs
            return []
        label = _LABEL.match(row)
        first = row.split(",", 1)[0].strip().strip("'\"") if lists else ""  # a CSV row's first cell: "softmax,100,...,\"[...]\""
        name = label.group(1) if label else first if re.fullmatch(r"[A-Za-z][\w.\-]{0,40}", first) else f"#{i}"
        out.append({"name": name, "values": values})
    return out


_ROW_POSITION = re.compile(r"(?i)^(?:epoch|ep|step|iter|iteration|round)?[ \t#:]{0,3}(\d{1,12})$")  # "Epoch 3", "3"


def _columns(rows: list[str]) -> list[dict[str, Any]]:
    """A table whose first row names the runs and whose rows each hold a position then one value per run."""
    sep = ";" if rows[0].count(";") >= 2 else "," if rows[0].count(",") >= 2 else "\t"
    header = [c.strip() for c in rows[0].split(sep)]
    if len(header) < MIN_SERIES + 1 or any(to_float(c) is not None for c in header[1:]):
        return []
    cols: list[list[float]] = [[] for _ in header[1:]]
    positions: list[float] = []
    for row in rows[1:]:
        cells = [c.strip() for c in row.split(sep)]
        if len(cells) != len(header):
            return []
        m = _ROW_POSITION.match(cells[0])
        if m is None:
            return []  # a row per model or setting ("lstm;80.1;95.2"): one run per row, not one a column
        positions.append(float(m.group(1)))
        values = [to_float(c) for c in cells[1:]]
        if any(v is None for v in values):
            return []
        for col, v in zip(cols, values, strict=True):
            col.append(float(v))  # type: ignore[arg-type]
    if len(cols[0]) < MIN_SERIES_VALUES or not all(b > a for a, b in zip(positions, positions[1:], strict=False)):
        return []
    return [{"name": name, "values": col} for name, col in zip(header[1:], cols, strict=True)]


def enough(found: list[dict[str, Any]]) -> bool:
    """At least MIN_VALUES values, not all zero (placeholders), and no name repeated as a curve's would be."""
    return len(found) >= MIN_VALUES and any(v["value"] != 0 for v in found) and not repeated(found)


def detect(path: Path, head: str) -> bool:
    """Whether a text file no other reader took holds loss values, or series of them (several runs side by side, or one
    run's lists), the last try: readers.read_run asks it last."""
    if path.suffix.lower() in CODE_SUFFIXES:
        return False
    lines = head.splitlines()
    return bool(series_in(lines, path.name)) or enough(values_in(lines))


def resolve(folder: Path) -> Path | None:
    return None  # a page of values is never a folder's log


def read(path: Path, **_: Any) -> Run:
    numbered = list(TextLines(path, cap=LINE_SCAN))
    lines = [line for _, line in numbered]
    series = series_in(lines, path.name)
    if series:
        pair = _train_and_val(series)
        if pair is not None:
            return _one_run(path, pair[0], pair[1], "warn.values_train_val", [s["name"] for s in series])
        if _one_run_in_rows(series):
            return _one_run(path, [v for s in series for v in s["values"]], [], "warn.values_rows", [str(len(series))])
        return _several(path, series)
    found = values_in(lines, [n for n, _ in numbered])
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


def _one_run(path: Path, train: list[float], val: list[float], key: str, names: list[str]) -> Run:
    """One run's losses from its lists: the training list (and the validation list: the same length, one evaluation
    per value with both losses, as a per-epoch history appends them; else spread evenly over the training values),
    the steps their positions (a warning says so: the file gives no step numbers)."""
    from lossdoc.runlog.readers.numbers import series_from_lists

    run = Run(source=str(path), format="values")
    n, m = len(train), len(val)
    series_from_lists(run, train, val)
    run.warnings.append(ReaderWarning(key, {"file": path.name, "names": ", ".join(names), "n": n, "m": m}))
    run.records_read = n + m
    return run


def _several(path: Path, series: list[dict[str, Any]]) -> Run:
    """Several runs' series side by side: no one curve. Each series' name, count, first, lowest and last value go to
    run.config["series"] and the first few to the warning warn.several_series."""
    run = Run(source=str(path), format="values")
    kept = []
    for s in series[:VALUES_KEPT]:
        v = s["values"]
        finite = [x for x in v if math.isfinite(x)] or [math.nan]
        kept.append({"name": s["name"], "n": len(v), "first": v[0], "min": min(finite), "last": v[-1]})
    run.config["series"] = kept
    first = kept[:VALUES_SHOWN]
    shown = "; ".join(f"{s['name']} ({s['n']}): {_shown(s['first'])} → {_shown(s['last'])}" for s in first)
    run.warnings.append(ReaderWarning("warn.several_series", {"file": path.name, "n": len(series), "k": len(first), "shown": shown}))
    run.records_read = sum(s["n"] for s in kept)
    return run
