"""Known errors: each becomes one line on stderr and exit code 2 (see cli.main)."""

from __future__ import annotations

import re

from lossdoc.i18n import t

# Control characters (C0, DEL, C1), line and paragraph separators, lone surrogates (undecodable bytes of a
# file name): what one_line() escapes.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: object) -> str:
    """``text`` printable on one line: control characters, line separators and undecodable bytes escaped.

    Every message the CLI prints on stderr goes through here, so a file name with a newline or with bytes
    that are not UTF-8 still makes exactly one line."""
    return _UNSAFE.sub(_escape, str(text))


_reading: list[str] = []  # the input being read, for the last-resort message of cli.run()


def reading(path: object) -> None:
    """Remember the input being read now (cli.run names it when something unexpected breaks)."""
    _reading[:] = [str(path)]


def last_input() -> str | None:
    return _reading[-1] if _reading else None


class LossdocError(Exception):
    """An error the user can fix: bad input, a missing file, an unreadable log.

    ``key`` names a message in lossdoc.messages (English and Chinese); ``args``
    fill its placeholders. ``str(err)`` is the English sentence.
    """

    exit_code = 2

    def __init__(self, key: str, /, **args: object) -> None:
        self.key = key
        self.args_ = args
        super().__init__(self.render("en"))

    def render(self, lang: str) -> str:
        return one_line(t(self.key, lang, **{k: _safe(v) for k, v in self.args_.items()}))


class ConfigError(LossdocError):
    """An invalid configuration value: names the field, the value and what is allowed."""

    def __init__(self, field: str, value: object, rule: str, **rule_args: object) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.rule_args = rule_args
        super().__init__("error.config_value", field=field, value=value, rule=rule, **rule_args)

    def render(self, lang: str) -> str:
        allowed = t(f"rule.{self.rule}", lang, **self.rule_args)
        return one_line(t("error.config_value", lang, field=self.field, value=repr(str(self.value)), allowed=allowed))


def _safe(value: object) -> object:
    return one_line(value) if isinstance(value, str) else value
