"""Argument checks and encoding done at enqueue: JSON-ability and the callable's signature.

Job arguments are stored as ``jsonb``. Plain JSON passes as it is: ``dict``
with ``str`` keys, ``list``/``tuple`` (a tuple arrives as a list), ``str``,
``int``, finite ``float``, ``bool`` and ``None``. :func:`prepare_arguments`
also encodes these richer values, in a language-neutral form that a task's
type hints decode again in the worker (:mod:`goodjob_pg.decoding`):

==========================  ==============================================
``datetime``                ISO 8601 string, offset kept: ``"2026-11-24T09:00:00+00:00"``
``date`` / ``time``         ``"2026-11-24"`` / ``"09:00:00"``
``UUID``                    canonical string ``"6f1c0e3a-..."``
``Decimal``                 decimal string, exact: ``"12.50"`` (no NaN or infinity)
dataclass instance          object of its fields, each encoded
Pydantic model              ``model.model_dump(mode="json")``
==========================  ==============================================

Anything else, a non-finite float or a cycle fails at enqueue with a
``TypeError`` naming where it is. Scalars must have exactly the plain types:
an ``IntEnum`` or a ``str`` subclass would arrive in the task as a plain
value, so it is refused rather than silently changed. Subclasses of dict and
list are accepted. Plain arguments are only checked, never copied: the
encoding pass runs only when the check finds something that is not plain.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time
from decimal import Decimal
from typing import Any
from uuid import UUID

__all__ = ["bind_arguments", "check_arguments", "check_json", "dumps", "prepare_arguments"]

_ALLOWED = "dict with str keys, list, tuple, str, int, float, bool or None"

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Serialize an already checked value to compact JSON text."""
    return _encoder.encode(value)


def check_json(value: Any, path: str) -> None:
    """Raise TypeError unless ``value`` is plain JSON.

    Parameters:
        value: the value to check, recursively.
        path: how to name the value in the error, e.g. ``"args[0]"``.
    """
    try:
        _check(value, set())
    except _NotJson as bad:
        raise TypeError(bad.message(path)) from None


def check_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Check that positional and keyword job arguments are plain JSON (see :func:`check_json`)."""
    try:
        _check_arguments(args, kwargs)
    except _NotJson as bad:
        raise TypeError(bad.message("")) from None


def prepare_arguments(
    args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Sequence[Any], dict[str, Any]]:
    """Job arguments as plain JSON: the same objects when already plain, else encoded copies.

    Raises TypeError naming the first value that is neither plain JSON nor
    one of the encoded types (see the module docstring).
    """
    try:
        _check_arguments(args, kwargs)
    except _NotJson:
        pass
    else:
        return args, kwargs
    seen: set[int] = set()
    try:
        encoded = _walk_arguments(args, kwargs, _encode, seen)
    except _NotJson as bad:
        raise TypeError(bad.message("")) from None
    return encoded[: len(args)], dict(zip(kwargs, encoded[len(args) :], strict=True))


def _check_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    # The hot path of every enqueue: no copies, one type test per plain value.
    seen: set[int] = set()
    for i, value in enumerate(args):
        try:
            _check(value, seen)
        except _NotJson as bad:
            bad.path.append(f"args[{i}]")
            raise
    for key, value in kwargs.items():
        try:
            _check(value, seen)
        except _NotJson as bad:
            bad.path.append(f"kwargs[{key!r}]")
            raise


def _walk_arguments(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    visit: Callable[[Any, set[int]], Any],
    seen: set[int],
) -> list[Any]:
    """Apply ``visit`` to every argument, naming the argument in a failure's path."""
    out = [_at(visit, value, seen, f"args[{i}]") for i, value in enumerate(args)]
    out.extend(_at(visit, value, seen, f"kwargs[{key!r}]") for key, value in kwargs.items())
    return out


def _at(visit: Callable[[Any, set[int]], Any], value: Any, seen: set[int], where: str) -> Any:
    try:
        return visit(value, seen)
    except _NotJson as bad:
        bad.path.append(where)
        raise


class _NotJson(Exception):
    """Internal: carries the problem up while the path is collected (innermost first)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def message(self, root: str) -> str:
        where = root + "".join(reversed(self.path))
        return f"argument {where} {self.problem}"


def _check(value: Any, seen: set[int]) -> None:
    # The path is only built on failure, so the common case costs one type test per value.
    cls = type(value)
    if value is None or cls is str or cls is bool or cls is int:
        return
    if cls is float:
        if not math.isfinite(value):
            raise _NotJson(f"is {value!r}, which is not JSON (no NaN or infinity)")
        return
    if cls is list or cls is tuple or isinstance(value, list):
        _enter(value, seen)
        for i, item in enumerate(value):
            try:
                _check(item, seen)
            except _NotJson as bad:
                bad.path.append(f"[{i}]")
                raise
        seen.discard(id(value))
        return
    if isinstance(value, dict):
        _enter(value, seen)
        for key, item in value.items():
            if type(key) is not str:
                raise _bad_key(key)
            try:
                _check(item, seen)
            except _NotJson as bad:
                bad.path.append(f"[{key!r}]")
                raise
        seen.discard(id(value))
        return
    raise _NotJson(f"has type {_name(cls)}, which is not JSON; job arguments must be {_ALLOWED}")


def _bad_key(key: Any) -> _NotJson:
    return _NotJson(f"has a key {key!r} of type {_name(type(key))}; JSON object keys must be str")


def _encode(value: Any, seen: set[int]) -> Any:
    """``value`` as plain JSON, encoding the richer types (the slow path)."""
    cls = type(value)
    if value is None or cls is str or cls is bool or cls is int or cls is float:
        _check(value, seen)
        return value
    if cls is list or cls is tuple or isinstance(value, list):
        _enter(value, seen)
        out = [_at(_encode, item, seen, f"[{i}]") for i, item in enumerate(value)]
        seen.discard(id(value))
        return out
    if isinstance(value, dict):
        _enter(value, seen)
        obj = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _bad_key(key)
            obj[key] = _at(_encode, item, seen, f"[{key!r}]")
        seen.discard(id(value))
        return obj
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    if cls is UUID:
        return str(value)
    if cls is Decimal:
        if not value.is_finite():
            raise _NotJson(f"is {value!r}; only finite Decimals can be encoded")
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _enter(value, seen)
        fields = {
            f.name: _at(_encode, getattr(value, f.name), seen, f".{f.name}")
            for f in dataclasses.fields(value)
        }
        seen.discard(id(value))
        return fields
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    raise _NotJson(
        f"has type {_name(cls)}, which is not JSON; job arguments must be {_ALLOWED},"
        " or a datetime, date, time, UUID, Decimal, dataclass or Pydantic model"
    )


def _enter(value: Any, seen: set[int]) -> None:
    if id(value) in seen:
        raise _NotJson("contains itself; JSON cannot hold a cycle")
    seen.add(id(value))


def _name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


# Whether arguments fit a signature depends only on how many positional ones
# there are and which keywords are named, never on their values: each shape
# that fitted is remembered per signature, so enqueueing the same call shape
# again (a loop, a bulk of 10,000 jobs) skips Signature.bind. Keyed by id();
# the entry holds the signature itself, so that id is never reused meanwhile.
_FITTING_SHAPES: dict[int, tuple[inspect.Signature, set[tuple[int, frozenset[str]]]]] = {}
_MAX_SHAPES = 64
_MAX_SIGNATURES = 4096


def bind_arguments(
    signature: inspect.Signature, task: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> None:
    """Check that the arguments fit a task's signature; TypeError naming the task if not."""
    shape = (len(args), frozenset(kwargs))
    entry = _FITTING_SHAPES.get(id(signature))
    if entry is not None and shape in entry[1]:
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"task {task!r} cannot take these arguments: {exc}") from None
    if entry is None:
        if len(_FITTING_SHAPES) >= _MAX_SIGNATURES:
            return
        entry = _FITTING_SHAPES.setdefault(id(signature), (signature, set()))
    if len(entry[1]) < _MAX_SHAPES:
        entry[1].add(shape)
