"""Typer's own parse errors (unknown option, missing value, bad number, ...) in the output's language.

The English text is Typer's as it is; the Chinese is rebuilt from the exception's fields. A
message no rule here knows stays in English rather than being guessed at.
"""

from __future__ import annotations

import re

from lossdoc.i18n import t

_VALUE_KINDS = (
    (re.compile(r"valid integer"), "usage.want.integer"),
    (re.compile(r"valid (number|float)"), "usage.want.number"),
    (re.compile(r"valid bool"), "usage.want.boolean"),
)


def _hint(exc) -> str:
    if getattr(exc, "param_hint", None) is not None:
        h = exc.param_hint
        return " / ".join(f"'{x}'" for x in h) if isinstance(h, (list, tuple)) else str(h)
    param = getattr(exc, "param", None)
    return param.get_error_hint() if param is not None else ""


def _given_value(param, argv: list[str]) -> str | None:
    """The value ``param`` was given on the command line (``--flag v`` or ``--flag=v``), or None."""
    names = [o for o in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())) if o.startswith("-")]
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(n + "="):
                return a[len(n) + 1 :]
    return None


def _bad_value(exc, lang: str, argv: list[str]) -> str | None:
    """``invalid --flag 'value': must be an integer``: the one wording of a bad value (issue 24), no pydantic text."""
    param = getattr(exc, "param", None)
    if param is None or getattr(param, "param_type_name", "") != "option":
        return None
    value = _given_value(param, argv)
    key = next((k for pattern, k in _VALUE_KINDS if pattern.search(exc.message or "")), None)
    if value is None or key is None:
        return None
    return t("usage.bad_value_is", lang, name=param.opts[0], value=value, detail=t(key, lang))


def usage_message(exc, lang: str, argv: list[str] | None = None) -> str:
    """The one-line text of a Typer usage error in ``lang``."""
    from typer._click import exceptions as ce

    if isinstance(exc, ce.BadParameter) and not isinstance(exc, ce.MissingParameter):
        text = _bad_value(exc, lang, argv or [])
        if text is not None:
            return text
    english = exc.format_message()
    if lang != "zh":
        return english

    if isinstance(exc, ce.NoSuchOption):
        text = t("usage.no_such_option", lang, name=exc.option_name)
        if exc.possibilities:
            text += t("usage.possible", lang, options=", ".join(sorted(exc.possibilities)))
        return text
    if isinstance(exc, ce.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        return t("usage.missing_argument" if kind == "argument" else "usage.missing_option", lang, name=_hint(exc))
    if isinstance(exc, ce.BadParameter):
        detail = exc.message
        for pattern, key in _VALUE_KINDS:
            if pattern.search(detail):
                detail = t(key, lang)
                break
        return t("usage.bad_value", lang, name=_hint(exc), detail=detail)
    if isinstance(exc, ce.BadOptionUsage):
        if "requires" in exc.message:
            return t("usage.needs_value", lang, name=exc.option_name)
        if "does not take a value" in exc.message:
            return t("usage.takes_no_value", lang, name=exc.option_name)
        return english
    m = re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", exc.message or "")
    if m:
        return t("usage.extra_args", lang, args=m.group(1))
    m = re.match(r"No such command '(.*)'\.$", exc.message or "")
    if m:
        return t("usage.no_such_command", lang, name=m.group(1))
    if (exc.message or "").startswith("Missing command"):
        return t("usage.missing_command", lang)
    return english
