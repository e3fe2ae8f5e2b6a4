"""Print docs/train.md's flag table, made from TrainConfig; ``--write`` puts it into docs/train.md.

    python scripts/flag_table.py --write

tests/cli/test_train_flags.py fails when the table in docs/train.md differs from this one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lossdoc.cli.train import markdown_flag_table  # noqa: E402 (after the path is set)

START, END = "<!-- flag table: made by scripts/flag_table.py -->\n", "<!-- end of flag table -->\n"


def replace_table(doc: str, table: str) -> str:
    head, rest = doc.split(START, 1)
    return head + START + table + rest[rest.index(END) :]


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        path = ROOT / "docs" / "train.md"
        path.write_text(replace_table(path.read_text(encoding="utf-8"), markdown_flag_table()), encoding="utf-8")
    else:
        print(markdown_flag_table(), end="")
