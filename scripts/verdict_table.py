"""Print the decision procedure's table (lossdoc/analysis/verdict.py), or write it into docs/verdicts.md.

python scripts/verdict_table.py            # print the Markdown table
python scripts/verdict_table.py --write    # put it between the markers in docs/verdicts.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from lossdoc.analysis.verdict import table_markdown, with_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "verdicts.md"

if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table_markdown(), end="")
