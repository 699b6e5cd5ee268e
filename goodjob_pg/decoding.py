"""Decode a job's JSON arguments back into the types its task's hints ask for.

The inverse of the encoding in :mod:`goodjob_pg.serialization`, driven by
the task function's type hints: a parameter annotated ``datetime``, ``date``,
``time``, ``UUID`` or ``Decimal`` gets its string parsed, a dataclass its
object turned back into an instance (fields decoded by their own hints), a
Pydantic model ``Model.model_validate(obj)``. Hints nest through
``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``, ``X | None`` and
``Annotated[X, ...]``; containers stay the JSON list or dict. Anything else
(plain types, ``Any``, other unions, no hint) arrives as it is in JSON. So an
enqueuer in any language sends ``"2026-11-24T09:00:00Z"`` for a datetime.

A task whose hints need no decoding gets no plan (:func:`plan_for` returns
None), and the worker calls it with the JSON values directly.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

__all__ = ["ArgumentPlan", "converter_for", "plan_for"]

logger = logging.getLogger(__name__)

Converter = Callable[[Any], Any]


def _parse_str(parser: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return parser(value) if isinstance(value, str) else value

    return convert


def _decimal(value: Any) -> Any:
    # A string is exact; a JSON number (from another language) is taken as written.
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return Decimal(value)
    return Decimal(repr(value)) if isinstance(value, float) else value


_PARSERS: dict[type, Converter] = {
    datetime: _parse_str(datetime.fromisoformat),
    date: _parse_str(date.fromisoformat),
    time: _parse_str(time.fromisoformat),
    UUID: _parse_str(UUID),
    Decimal: _decimal,
}
_LISTS = (list, tuple, Sequence, typing.Sequence, set, frozenset)
_DICTS = (dict, Mapping, typing.Mapping)


class ArgumentPlan:
    """Per-parameter converters for one task; ``apply`` decodes a job's arguments."""

    def __init__(
        self,
        positional: list[Converter | None],
        var_positional: Converter | None,
        keyword: dict[str, Converter | None],
        var_keyword: Converter | None,
    ) -> None:
        self._positional = positional
        self._var_positional = var_positional
        self._keyword = keyword
        self._var_keyword = var_keyword

    def apply(
        self, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Decoded copies of ``args`` and ``kwargs``; ValueError naming a value that won't parse."""
        out_args = list(args)
        count = len(self._positional)
        for i, value in enumerate(args):
            conv = self._positional[i] if i < count else self._var_positional
            if conv is not None:
                out_args[i] = _convert(conv, value, f"args[{i}]")
        out_kwargs = dict(kwargs)
        for key, value in kwargs.items():
            conv = self._keyword.get(key, self._var_keyword)
            if conv is not None:
                out_kwargs[key] = _convert(conv, value, f"kwargs[{key!r}]")
        return out_args, out_kwargs


def plan_for(func: Callable[..., Any]) -> ArgumentPlan | None:
    """The decoding plan for ``func``'s parameters, or None when none needs decoding."""
    signature = inspect.signature(func)
    hints = _hints(func, signature)
    positional: list[Converter | None] = []
    keyword: dict[str, Converter | None] = {}
    var_positional = var_keyword = None
    kinds = inspect.Parameter
    for param in signature.parameters.values():
        conv = converter_for(hints[param.name]) if param.name in hints else None
        if param.kind is kinds.VAR_POSITIONAL:
            var_positional = conv
        elif param.kind is kinds.VAR_KEYWORD:
            var_keyword = conv
        else:
            if param.kind is not kinds.KEYWORD_ONLY:
                positional.append(conv)
            if param.kind is not kinds.POSITIONAL_ONLY:
                keyword[param.name] = conv  # None too: a named parameter is not **kwargs
    if not (var_positional or var_keyword or any(keyword.values()) or any(positional)):
        return None
    return ArgumentPlan(positional, var_positional, keyword, var_keyword)


def converter_for(hint: Any) -> Converter | None:
    """A function decoding JSON into ``hint``'s type, or None when JSON is already right."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return converter_for(typing.get_args(hint)[0])
    if isinstance(hint, type):
        parser = _PARSERS.get(hint)
        if parser is not None:
            return parser
        if dataclasses.is_dataclass(hint):
            return _dataclass_converter(hint)
        pydantic = sys.modules.get("pydantic")
        if pydantic is not None and issubclass(hint, pydantic.BaseModel):
            return _pydantic_converter(hint)
        return None
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return None  # an ambiguous union is passed as JSON
        return converter_for(options[0])  # None passes through every converter
    if origin in _LISTS and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple([converter_for(a) for a in args])
        item = converter_for(args[0])
        return None if item is None else _each(item)
    if origin in _DICTS and len(args) == 2:
        value = converter_for(args[1])
        return None if value is None else _values(value)
    return None


# --- converters -----------------------------------------------------------------------------


def _each(item: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return [item(v) for v in value] if isinstance(value, list) else value

    return convert


def _fixed_tuple(items: list[Converter | None]) -> Converter | None:
    if not any(items):
        return None

    def convert(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [c(v) if c is not None else v for c, v in zip(items, value, strict=False)]

    return convert


def _values(item: Converter) -> Converter:
    def convert(value: Any) -> Any:
        return {k: item(v) for k, v in value.items()} if isinstance(value, dict) else value

    return convert


def _dataclass_converter(cls: type) -> Converter:
    fields: dict[str, Converter | None] | None = None  # resolved on first use (recursive types)

    def convert(value: Any) -> Any:
        nonlocal fields
        if not isinstance(value, dict):
            return value
        if fields is None:
            hints = _hints(cls, None)
            fields = {
                f.name: converter_for(hints[f.name]) if f.name in hints else None
                for f in dataclasses.fields(cls)
                if f.init
            }
        init = {}
        for key, item in value.items():
            if key in fields:  # fields without init, or unknown keys, are left out
                conv = fields[key]
                init[key] = conv(item) if conv is not None else item
        return cls(**init)

    return convert


def _pydantic_converter(cls: Any) -> Converter:
    def convert(value: Any) -> Any:
        return value if value is None else cls.model_validate(value)

    return convert


def _convert(conv: Converter, value: Any, where: str) -> Any:
    try:
        return conv(value)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"argument {where} cannot be decoded: {exc}") from exc


def _hints(obj: Any, signature: inspect.Signature | None) -> dict[str, Any]:
    """Resolved type hints; names that do not resolve are left undecoded, with a warning."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception:  # NameError for a forward reference, or worse
        pass
    raw: Mapping[str, Any] = getattr(obj, "__annotations__", {})
    hints: dict[str, Any] = {}
    namespace = getattr(obj, "__globals__", None) or vars(sys.modules.get(obj.__module__, sys))
    for name, annotation in raw.items():
        try:
            hints[name] = typing.get_type_hints(
                _Single(name, annotation), globalns=namespace, include_extras=True
            )[name]
        except Exception:
            logger.warning(
                "cannot resolve the type hint %r of %s.%s; its argument is passed as JSON",
                annotation,
                getattr(obj, "__qualname__", obj),
                name,
                extra={"action": "type_hint_unresolved"},
            )
    return hints


class _Single:
    """An object with one annotation, for resolving hints one by one."""

    def __init__(self, name: str, annotation: Any) -> None:
        self.__annotations__ = {name: annotation}
