"""Plain parameter values without pydantic: the start-up of every command (issue 15, goal 4).

Typer (0.29 and later) converts every command-line value through a pydantic TypeAdapter. Importing pydantic and
building an adapter per parameter costs about 0.1 s per command on a 2-core CPU: a third of `lossdoc baseline
--vocab-size 10000`. lossdoc's parameters are plain (str, int, float, bool, Path, lists of these as the RUN... of
explain and compare, and Optional of these), so ``install`` gives those a converter that does what Typer's adapter
does for the usual spellings ("12", "0.5", a path) and hands every other value to Typer's own adapter, built only
then: values, and every error message, stay Typer's.

This reaches into Typer's internals (``typer.core._TyperParameter``, ``typer._coercion``); when they are not
what this expects, ``install`` does nothing and Typer works as it always does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")  # what int() and pydantic read alike
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?")  # what float() and pydantic read alike
_TYPERS = object()  # a value only Typer's own adapter converts


def install() -> bool:
    """Give Typer's plain parameters the converter below; True when it is in place."""
    try:
        from typer import core
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path, lenient_issubclass, routes_to_path
    except ImportError:
        return False
    cls = getattr(core, "_TyperParameter", None)
    original = getattr(cls, "get_runtime_param", None)
    if original is None or getattr(original, "_lossdoc", False):
        return original is not None

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        descriptor: Any = None
        path_type: Any = None
        item: Any = None  # list[item]: each value converted as one of ``item``, in a list (as Typer's adapter gives it)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.item is None:
                out = self._one(self.annotation, value, param, ctx)
                if out is not _TYPERS:
                    return out
            elif isinstance(value, (list, tuple)):
                items = [self._one(self.item, v, param, ctx) for v in value]
                if all(v is not _TYPERS for v in items):
                    return items
            return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)

        def _one(self, ann: Any, value: Any, param: Any, ctx: Any) -> Any:
            """``value`` converted as Typer converts it, or _TYPERS where Typer's adapter must say."""
            if ann in (str, int, float, bool) and type(value) is ann:
                return value
            if isinstance(value, str):
                if ann is str:
                    return value
                if ann is int and _INT.fullmatch(value):
                    return int(value)
                if ann is float and _FLOAT.fullmatch(value):
                    return float(value)
                if self.path_type is not None and value:
                    # Typer makes the Path with pydantic (TypeAdapter(Path), which is Path(value) for a non-empty
                    # string), then checks it: the same checks on Path(value), with Typer's own messages
                    return coerce_cli_path(self.path_type(value), self.parameter_info, path_type=self.path_type, param=param, ctx=ctx)
            return _TYPERS

    def leaf(ann: Any, info: Any) -> tuple[bool, Any]:
        """(whether values of type ``ann`` are plain, the path type they are made as)."""
        if ann in (int, float):
            return not (info.min is not None or info.max is not None or info.clamp), None
        if ann is str or ann is bool:
            return True, None
        if isinstance(ann, type) and issubclass(ann, Path) and routes_to_path(ann, info):
            return True, info.path_type if info.path_type is not None else ann if lenient_issubclass(ann, Path) else None
        return False, None

    def plain(descriptor: Any) -> Any:
        info, ann = descriptor.parameter_info, descriptor.annotation
        if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
            return None
        if get_origin(ann) is list and len(get_args(ann)) == 1 and get_args(ann)[0] is not bool:
            item = get_args(ann)[0]
            ok, path_type = leaf(item, info)
            return PlainRuntimeParam(annotation=ann, parameter_info=info, descriptor=descriptor, path_type=path_type, item=item) if ok else None
        ok, path_type = leaf(ann, info)
        return PlainRuntimeParam(annotation=ann, parameter_info=info, descriptor=descriptor, path_type=path_type) if ok else None

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            try:
                fast = plain(self.type_descriptor)
            except AttributeError:  # a Typer whose descriptors look different: its own way
                fast = None
            if fast is not None:
                self._runtime_param = fast
        return original(self)

    get_runtime_param._lossdoc = True  # type: ignore[attr-defined]
    cls.get_runtime_param = get_runtime_param  # type: ignore[union-attr]  # cls is known to exist: original was found on it
    return True
