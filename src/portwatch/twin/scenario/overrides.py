"""Overrides of a scenario's parameters: ``PATH=VALUE``, as ``portwatch simulate --set``.

``PATH`` is the dotted key path in the scenario's TOML (``canine.teams``,
``modes.truck.daily_volume``), with list items by index (``scanners.0.count``);
``VALUE`` is parsed as a TOML value (``6``, ``0.5``, ``"gamma"``, ``[1, 2]``), or kept as
a string when it is not one. The overridden data goes through the same validation as the
file, so an override that breaks a rule fails with the file's one-line error.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable
from typing import Any

from portwatch.domain.errors import InputError


def parse_value(text: str) -> Any:
    """``text`` as a TOML value, or the text itself when it is not one."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _step(node: Any, key: str, path: str) -> tuple[Any, Any]:
    """The container to assign into and the key (a dict key or a list index)."""
    if isinstance(node, list):
        try:
            i = int(key)
        except ValueError:
            raise InputError(f"--set {path}: {key!r} is not a list index") from None
        if not -len(node) <= i < len(node):
            raise InputError(f"--set {path}: index {i} out of range (the list holds "
                             f"{len(node)})")
        return node, i
    if isinstance(node, dict):
        return node, key
    raise InputError(f"--set {path}: {key!r} is below a value, not a table")


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Assign ``value`` at the dotted ``path`` of ``data`` (in place). A new key is allowed
    in a table (validation then rejects the unknown ones); lists are indexed."""
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise InputError(f"--set {path}: PATH must be dotted keys, e.g. canine.teams")
    node: Any = data
    for key in keys[:-1]:
        container, k = _step(node, key, path)
        if isinstance(container, dict) and k not in container:
            container[k] = {}  # a table left to its default (validation rejects a typo)
        node = container[k]
    container, k = _step(node, keys[-1], path)
    container[k] = value


def apply_overrides(data: dict[str, Any], items: Iterable[str]) -> dict[str, Any]:
    """A copy of ``data`` with every ``PATH=VALUE`` of ``items`` applied in order."""
    out = copy.deepcopy(data)
    for item in items:
        path, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"--set {item}: use PATH=VALUE, e.g. canine.teams=6")
        set_path(out, path.strip(), parse_value(text.strip()))
    return out


__all__ = ["apply_overrides", "parse_value", "set_path"]
