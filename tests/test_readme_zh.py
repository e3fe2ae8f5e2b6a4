"""README.zh-CN.md, the seed's reader's README, stays in step with README.md."""

from __future__ import annotations

import re

from tests.conftest import ROOT

FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)


def _block_commands(path) -> set[str]:
    cmds = set()
    for block in FENCE.findall(path.read_text(encoding="utf-8")):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line:
                cmds.add(line)
    return cmds


def test_readme_links_the_chinese_readme_at_the_top():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:5]
    assert any("(README.zh-CN.md)" in line for line in head)
    assert "(README.md)" in (ROOT / "README.zh-CN.md").read_text(encoding="utf-8").splitlines()[2]


def test_both_readmes_show_the_same_commands():
    en, zh = _block_commands(ROOT / "README.md"), _block_commands(ROOT / "README.zh-CN.md")
    assert en == zh, {"only in README.md": sorted(en - zh), "only in README.zh-CN.md": sorted(zh - en)}
    for card in ("lossdoc train --data dummy", "lossdoc baseline --vocab-size 10000", "lossdoc explain run.jsonl"):
        assert card in en


def test_the_chinese_readme_tells_the_seeds_story_in_chinese():
    text = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    for needle in ("快速上手", "ln 9999 = 9.2102", "下限", "不是训练失败", "randint(1, V)", "--data pydoc", "44 秒"):
        assert needle in text, needle
    prose = re.sub(r"```.*?```|`[^`]*`", "", text, flags=re.S)
    assert len(re.findall(r"[\u4e00-\u9fff]", prose)) > 600  # Chinese prose, not an English page with a Chinese title
