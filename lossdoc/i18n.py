"""English and Simplified Chinese text, looked up by key.

Catalogs live in lossdoc/messages/<area>.py as two dicts, EN and ZH, with the
same keys and the same {placeholders}; a test checks that they stay in step.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping
from functools import lru_cache

LANGS = ("en", "zh")


@lru_cache(maxsize=1)
def catalogs() -> dict[str, dict[str, str]]:
    """All messages, merged from every module in lossdoc.messages."""
    import lossdoc.messages as pkg

    merged: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"lossdoc.messages.{info.name}")
        for lang, table in (("en", mod.EN), ("zh", mod.ZH)):
            dup = merged[lang].keys() & table.keys()
            if dup:
                raise RuntimeError(f"duplicate message keys in {info.name}: {sorted(dup)}")
            merged[lang].update(table)
    return merged


def t(key: str, lang: str = "en", /, **args: object) -> str:
    """The message ``key`` in ``lang`` with ``args`` filled in."""
    table = catalogs()[lang if lang in LANGS else "en"]
    template = table.get(key) or catalogs()["en"].get(key)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format(**args)


LANG_NAMES = {"zh": "zh", "zh-cn": "zh", "zh_cn": "zh", "cn": "zh", "chinese": "zh", "en": "en", "english": "en"}  # what --lang accepts


def detect_lang(env: Mapping[str, str] | None = None) -> str:
    """'zh' when the locale (LC_ALL, LC_MESSAGES, LANG, LANGUAGE) is Chinese, else 'en'."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
