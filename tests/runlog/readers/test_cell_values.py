"""The CSV readers' cell reading: a fast float() for plain cells, the same values as to_float for every cell."""

from __future__ import annotations

import math

import pytest

from lossdoc.runlog.readers._common import to_float
from lossdoc.runlog.readers.generic import _value, cell


def _cell(row, col, bad, lineno):  # the Lightning reader reads cells by position: cell(raw, ...)
    return cell(row.get(col), bad, lineno)


CELLS = [
    "",
    " ",
    "1.5",
    " 2 ",
    "-3e-2",
    "nan",
    "-NaN",
    "+nan",
    "inf",
    "Infinity",
    "-inf",
    "-Infinity",
    "1_0",
    "abc",
    "1e400",
    "0x10",
    "１２",
    "1.5.2",
    None,
]


@pytest.mark.parametrize("read", [_value, _cell])
@pytest.mark.parametrize("cell", CELLS)
def test_a_cell_reads_as_to_float_says(read, cell):
    bad: list[int] = []
    got = read({"c": cell}, "c", bad, 7)
    blank = cell is None or not cell.strip()
    want = None if blank else to_float(cell)
    if want is None:
        assert got is None and bad == ([] if blank else [7])
    else:
        assert bad == [] and (math.isnan(got) and math.isnan(want) or got == want)
