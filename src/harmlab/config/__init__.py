"""Typed configs from YAML: dataclasses are the schema, YAML mirrors them, errors name the key.

    harmlab train grpo --config configs/grpo-from-base.yaml train.beta=0.02 rewards.1.weight=2

`load_config(SomeConfig, path, overrides)` reads a YAML mapping into a (possibly nested)
dataclass, checking every key and value against the dataclass's type hints and ranges before
any work starts. An unknown key is a `HarmlabError` naming the key, the file and the valid keys
of that section; a value outside its range names the file and line (or the override) and the
allowed range:

    configs/grpo.yaml:line 12: 'train.steps' is 0; it must be >= 1

Ranges are field metadata, `field(default=40, metadata=bounds(ge=1))`, checked by `build` for
every number the field holds (list items and mapping values included); every float must be
finite. A YAML file with a repeated key is refused (PyYAML would keep the last one silently).
`key=value` overrides address fields by dotted path (list items by index) and are parsed as
YAML scalars, then coerced to the field's type, so `train.beta=0.02` is a float and
`data.files=[a.jsonl,b.jsonl]` a list. `config_to_yaml` writes the resolved config that every
run directory keeps.

Supported field types: bool, int, float, str, `X | None`, `Literal[...]`, `list[X]`,
`tuple[X, ...]`, `dict[str, X]`, `Any`, and nested dataclasses (also inside lists).

Reading YAML (strict, located) and overrides is `config.yaml_source`; declared ranges are
`config.ranges`; this module builds and writes back the dataclasses.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from harmlab.config.ranges import Bounds, as_float, bounds, check_bounds, range_problem
from harmlab.config.yaml_source import (
    ConfigError,
    RepeatedKeyError,
    _Located,
    kind_of,
    parse_override,
    parse_yaml,
    read_yaml_mapping,
    set_dotted,
)

__all__ = [
    "Bounds",
    "ConfigError",
    "RepeatedKeyError",
    "bounds",
    "build",
    "check_bounds",
    "config_differences",
    "config_to_dict",
    "config_to_yaml",
    "load_config",
    "parse_override",
    "parse_yaml",
    "read_yaml_mapping",
    "set_dotted",
]

T = TypeVar("T")


def load_config(cls: type[T], path: str | Path | None = None, overrides: Sequence[str] = ()) -> T:
    """An instance of dataclass `cls` from a YAML file (optional) and `key=value` overrides."""
    source = str(path) if path is not None else "<defaults>"
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_yaml_mapping(Path(path))
    for override in overrides:
        key, value = parse_override(override)
        set_dotted(raw, key, value, source=f"override '{override}'")
    if overrides:  # a bad key or value may come from the command line, not the file
        source += " with overrides " + " ".join(overrides)
    return build(cls, raw, source=source)


# --- building dataclasses: keys, types, ranges ------------------------------------------------


def quoted(where: str) -> str:
    """How a config key is named in messages: `'train.steps'`."""
    return f"'{where}'"


def build(
    cls: type[T],
    raw: Any,
    source: str,
    where: str = "",
    *,
    name: Callable[[str], str] = quoted,
) -> T:
    """Build dataclass `cls` from a mapping, validating keys, types and ranges recursively.

    `source` names where the values come from in errors (a file, 'command line'); a value
    read from YAML is named by its own file and line instead. `name` turns a dotted key into
    the words of a message (the CLI names flags: `--top-p`).
    """
    return _Reader(source, name).build(cls, raw, where, source)


class _Reader:
    """Walks raw data against a dataclass schema; every error is one line."""

    def __init__(self, source: str, name: Callable[[str], str]) -> None:
        self.source = source
        self.name = name

    def fail(self, here: str, where: str, problem: str) -> ConfigError:
        prefix = f"{here}: " if here else ""
        return ConfigError(f"{prefix}{self.name(where or 'top level')} {problem}")

    def build(self, cls: type[T], raw: Any, where: str, here: str) -> T:
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, dict):
            raise self.fail(here, where, f"must be a mapping, not {kind_of(raw)}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        unknown = [k for k in raw if k not in fields]
        if unknown:
            key = f"{where}.{unknown[0]}" if where else str(unknown[0])
            section = f" in '{where}'" if where else ""
            located = raw.where.get(unknown[0], self.source) if isinstance(raw, _Located) else here
            raise ConfigError(
                f"{located}: unknown key '{key}'; valid keys{section}: {', '.join(fields)}"
            )
        missing = [k for k, f in fields.items() if k not in raw and _required(f)]
        if missing:
            key = f"{where}.{missing[0]}" if where else missing[0]
            raise ConfigError(f"{here}: missing key '{key}' (it has no default)")
        values = {}
        for key, value in raw.items():
            dotted = f"{where}.{key}" if where else key
            located = raw.where.get(key, self.source) if isinstance(raw, _Located) else here
            values[key] = self.coerce(hints[key], value, dotted, located)
            self.check_range(fields[key], values[key], dotted, located)
        try:
            return cls(**values)
        except (ValueError, TypeError) as error:  # a __post_init__ check of related fields
            raise self.fail(here, where, f"is invalid: {error}") from None

    def check_range(self, item: dataclasses.Field[Any], value: Any, where: str, here: str) -> None:
        problem = range_problem(item, value)
        if problem:
            raise self.fail(here, where, problem)

    def coerce(self, hint: Any, value: Any, where: str, here: str) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is Any:
            return _plain(value)
        if origin in (Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            errors = []
            for option in [a for a in args if a is not type(None)]:
                try:
                    return self.coerce(option, value, where, here)
                except ConfigError as error:
                    errors.append(error)
            raise errors[0]
        if origin is typing.Literal:
            if not _is_one_of(value, args):
                allowed = ", ".join(repr(a) for a in args)
                raise self.fail(here, where, f"is {value!r}; it must be one of {allowed}")
            return value
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.build(hint, value, where, here)
        if origin in (list, tuple):
            return self.sequence(origin, args, value, where, here)
        if origin is dict:
            if not isinstance(value, dict):
                raise self.fail(here, where, f"must be a mapping, got {value!r}")
            key_type, value_type = args or (Any, Any)
            return {
                self.coerce(key_type, k, where, here): self.coerce(
                    value_type, v, f"{where}.{k}", here
                )
                for k, v in value.items()
            }
        return self.scalar(hint, value, where, here)

    def sequence(
        self, origin: Any, args: tuple[Any, ...], value: Any, where: str, here: str
    ) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            value = [value]  # a single item given where a list is expected
        if not isinstance(value, list | tuple):
            raise self.fail(here, where, f"must be a list, got {value!r}")
        item = args[0] if args else Any
        items = [self.coerce(item, v, f"{where}.{i}", here) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items

    def scalar(self, hint: Any, value: Any, where: str, here: str) -> Any:
        if hint is bool:
            if isinstance(value, bool):
                return value
            raise self.fail(here, where, f"must be true or false, got {value!r}")
        if hint is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self.fail(here, where, f"must be an integer, got {value!r}")
        if hint is float:
            number = as_float(value)
            if number is None:
                raise self.fail(here, where, f"must be a number, got {value!r}")
            if not math.isfinite(number):
                raise self.fail(here, where, f"must be a finite number, got {value!r}")
            return number
        if hint is str:
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
            raise self.fail(here, where, f"must be a string, got {value!r}")
        raise self.fail(here, where, f"has a type the loader does not support: {hint}")


def _required(item: dataclasses.Field[Any]) -> bool:
    return item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING


def _is_one_of(value: Any, options: tuple[Any, ...]) -> bool:
    # Compared by type too: YAML's `1` must not pass for a Literal[True] and vice versa.
    return any(value == option and type(value) is type(option) for option in options)


def _plain(value: Any, done: dict[int, Any] | None = None) -> Any:
    """YAML data without the loader's located mappings (what `Any` fields keep is plain data,
    which YAML and JSON dumpers and other libraries take as they are). Shared (aliased) parts
    stay shared, so a YAML alias bomb is not expanded here."""
    done = {} if done is None else done
    if not isinstance(value, dict | list):
        return value
    if id(value) in done:
        return done[id(value)]
    if isinstance(value, dict):
        mapping: dict[Any, Any] = {}
        done[id(value)] = mapping  # registered before filling: YAML may nest a value in itself
        mapping.update((k, _plain(v, done)) for k, v in value.items())
        return mapping
    items: list[Any] = []
    done[id(value)] = items
    items.extend(_plain(v, done) for v in value)
    return items


# --- writing configs back ---------------------------------------------------------------------


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as plain data (tuples become lists), ready for YAML or JSON."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def config_to_yaml(config: Any) -> str:
    """The resolved config as YAML, in field order (what run directories keep)."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True)


def config_differences(a: Any, b: Any) -> list[str]:
    """Dotted keys whose values differ between two configs of the same class."""
    out: list[str] = []

    def walk(x: Any, y: Any, where: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in dict.fromkeys([*x, *y]):
                walk(x.get(key), y.get(key), f"{where}.{key}" if where else str(key))
        elif x != y:
            out.append(where)

    walk(config_to_dict(a), config_to_dict(b), "")
    return out
