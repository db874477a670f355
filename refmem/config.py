"""Experiment configurations: dataclasses that round-trip through JSON.

Each experiment defines a ``@dataclass`` config (fields of type int, float, bool, str,
tuples/lists of those, or nested config dataclasses) and a dict of named presets
(``"quick"``, ``"paper"``, ...). The CLI applies ``--set key=value`` overrides with
:func:`apply_overrides`; nested fields are addressed with dots (``vae.lr=0.002``).
Values are parsed as JSON where possible (``3``, ``1e-3``, ``true``, ``[1, 2]``) and
taken as strings otherwise.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any, Iterable, Type, TypeVar

__all__ = ["config_to_dict", "config_from_dict", "is_saved_config", "apply_overrides"]

T = TypeVar("T")


def config_to_dict(cfg: Any) -> dict:
    """Convert a (nested) config dataclass to plain JSON-compatible dicts and lists."""
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")
    out = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            v = config_to_dict(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"{key}: expected an object for {tp.__name__}, got {value!r}")
        return config_from_dict(tp, value, prefix=key + ".")
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key) if len(args) == 1 else value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{key}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        seq = [_coerce(v, inner, key) for v in value]
        return tuple(seq) if origin is tuple else seq
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{key}: expected true/false, got {value!r}")
    if tp is int:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not _finite(value)) or int(value) != value):
            raise ValueError(f"{key}: expected an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key}: expected a number, got {value!r}")
        if not _finite(value):
            raise ValueError(f"{key}: expected a number, got {value!r}; it must be finite")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def config_from_dict(cls: Type[T], data: dict, prefix: str = "") -> T:
    """Build config ``cls`` from a dict, checking field names and types.

    Unknown keys raise ``ValueError`` (a typo in a config must not pass silently);
    missing keys keep their defaults.
    """
    if not isinstance(data, dict):
        raise TypeError(f"expected a dict for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown config key(s) {sorted(prefix + u for u in unknown)}; "
                         f"valid: {sorted(prefix + f for f in fields)}")
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    return cls(**kwargs)


def is_saved_config(saved: Any, cfg: Any) -> bool:
    """Whether ``saved`` (a dict from :func:`config_to_dict`, e.g. a run's ``config.json``)
    records config ``cfg``.

    Fields ``saved`` lacks, added to the config class after it was written, take their
    defaults (a field is added with a default that leaves runs as they were); a field
    the class does not have, or a value of the wrong type, means another config.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     seed: int = 0
    ...     new_field: float = 1.0
    >>> is_saved_config({"seed": 3}, Cfg(seed=3)), is_saved_config({"seed": 3}, Cfg(3, 2.0))
    (True, False)
    """
    if not isinstance(saved, dict):
        return False
    try:
        return config_to_dict(config_from_dict(type(cfg), saved)) == config_to_dict(cfg)
    except (TypeError, ValueError):  # unknown fields, values of the wrong type
        return False


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(cfg: T, overrides: Iterable[str]) -> T:
    """Return a copy of ``cfg`` with ``key=value`` overrides applied.

    Parameters
    ----------
    cfg : dataclass instance
    overrides : iterable of str
        Each ``"a.b=value"``; ``value`` is parsed as JSON when it parses, else a string.

    Raises
    ------
    ValueError
        Malformed override, unknown key, or a value of the wrong type.
    """
    data = config_to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        node = data
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ValueError(f"unknown config key {key!r}")
            node = node[p]
        if parts[-1] not in node:
            raise ValueError(f"unknown config key {key!r}; valid: {sorted(node)}")
        node[parts[-1]] = _parse_value(text.strip())
    return config_from_dict(type(cfg), data)
