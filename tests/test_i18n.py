import re
import string

from lossdoc.cli.options import resolve_lang
from lossdoc.i18n import catalogs, detect_lang, t


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_catalogs_have_the_same_keys_and_placeholders():
    cats = catalogs()
    assert cats["en"].keys() == cats["zh"].keys()
    for key, en in cats["en"].items():
        assert _fields(en) == _fields(cats["zh"][key]), key


def test_chinese_catalog_is_chinese():
    for key, zh in catalogs()["zh"].items():
        if catalogs()["en"][key] != zh:
            assert re.search(r"[\u4e00-\u9fff]", zh), key


def test_detect_lang_from_locale():
    assert detect_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert detect_lang({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert detect_lang({}) == "en"
    assert resolve_lang("ZH") == "zh" and resolve_lang("en") == "en"


def test_t_fills_placeholders():
    assert t("rule.gt", "en", bound=0) == "must be > 0"
    assert t("rule.gt", "zh", bound=0) == "必须大于 0"
