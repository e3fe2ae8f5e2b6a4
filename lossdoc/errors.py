"""Known errors: each becomes one line on stderr and exit code 2 (see cli.main)."""

from __future__ import annotations


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
        from lossdoc.i18n import t

        return t(self.key, lang, **self.args_)


class ConfigError(LossdocError):
    """An invalid configuration value: names the field, the value and what is allowed."""

    def __init__(self, field: str, value: object, rule: str, **rule_args: object) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.rule_args = rule_args
        super().__init__("error.config_value", field=field, value=value, rule=rule, **rule_args)

    def render(self, lang: str) -> str:
        from lossdoc.i18n import t

        allowed = t(f"rule.{self.rule}", lang, **self.rule_args)
        return t("error.config_value", lang, field=self.field, value=repr(self.value), allowed=allowed)
