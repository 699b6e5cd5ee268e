"""Argument checks done at enqueue: JSON-ability and the callable's signature.

Job arguments are stored as ``jsonb``, so they must be JSON: ``dict`` with
``str`` keys, ``list``/``tuple`` (a tuple arrives as a list), ``str``, ``int``,
finite ``float``, ``bool`` and ``None``. Anything else, a non-finite float or
a cycle fails at enqueue with a ``TypeError`` naming where it is. Scalars must
have exactly these types: an ``IntEnum`` or a ``str`` subclass would arrive in
the task as a plain value, so it is refused rather than silently changed.
Subclasses of dict and list are accepted.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["bind_arguments", "check_arguments", "check_json", "dumps"]

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
    """Check positional and keyword job arguments (see :func:`check_json`)."""
    seen: set[int] = set()
    try:
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
    except _NotJson as bad:
        raise TypeError(bad.message("")) from None


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
                raise _NotJson(
                    f"has a key {key!r} of type {_name(type(key))}; JSON object keys must be str"
                )
            try:
                _check(item, seen)
            except _NotJson as bad:
                bad.path.append(f"[{key!r}]")
                raise
        seen.discard(id(value))
        return
    raise _NotJson(f"has type {_name(cls)}, which is not JSON; job arguments must be {_ALLOWED}")


def _enter(value: Any, seen: set[int]) -> None:
    if id(value) in seen:
        raise _NotJson("contains itself; JSON cannot hold a cycle")
    seen.add(id(value))


def _name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def bind_arguments(
    signature: inspect.Signature, task: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> inspect.BoundArguments:
    """Bind arguments to a task's signature; TypeError naming the task if they do not fit."""
    try:
        return signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"task {task!r} cannot take these arguments: {exc}") from None
