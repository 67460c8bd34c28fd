"""Typed configs from YAML: dataclasses are the schema, YAML mirrors them, errors name the key.

    harmlab train grpo --config configs/grpo-from-base.yaml train.beta=0.02 rewards.1.weight=2

`load_config(SomeConfig, path, overrides)` reads a YAML mapping into a (possibly nested)
dataclass, checking every key and value against the dataclass's type hints before any work
starts. An unknown key is a `HarmlabError` naming the key, the file and the valid keys of that
section. `key=value` overrides address fields by dotted path (list items by index) and are
parsed as YAML scalars, then coerced to the field's type, so `train.beta=0.02` is a float and
`data.files=[a.jsonl,b.jsonl]` a list. `config_to_yaml` writes the resolved config that every
run directory keeps.

Supported field types: bool, int, float, str, `X | None`, `Literal[...]`, `list[X]`,
`tuple[X, ...]`, `dict[str, X]`, `Any`, and nested dataclasses (also inside lists).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from harmlab import HarmlabError

T = TypeVar("T")


class ConfigError(HarmlabError):
    """A config file or override that does not match its schema."""


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


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}:{line} is not valid YAML: {error}".replace("\n", " ")) from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not {_kind(data)}")
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """`'train.beta=0.02'` -> `('train.beta', 0.02)`; the value is parsed as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}' is not of the form key=value")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


def set_dotted(raw: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set `a.b.0.c` in nested mappings/lists, creating mappings on the way."""
    node: Any = raw
    parts = key.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{source}: '{part}' is not an index of a {len(node)}-item list")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(f"{source}: cannot set '{part}' inside a {_kind(node)}")


def build(cls: type[T], raw: Any, source: str, where: str = "") -> T:
    """Build dataclass `cls` from a mapping, validating keys and value types recursively."""
    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: '{where or 'top level'}' must be a mapping, not {_kind(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = [k for k in raw if k not in fields]
    if unknown:
        name = f"{where}.{unknown[0]}" if where else str(unknown[0])
        section = f" in '{where}'" if where else ""
        valid = ", ".join(fields)
        raise ConfigError(f"{source}: unknown key '{name}'; valid keys{section}: {valid}")
    values = {
        k: coerce(hints[k], v, source, f"{where}.{k}" if where else k) for k, v in raw.items()
    }
    return cls(**values)


def coerce(hint: Any, value: Any, source: str, where: str) -> Any:
    """`value` converted to type `hint`, or a ConfigError naming the key."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return coerce(option, value, source, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0])
    if origin is typing.Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{source}: '{where}' is {value!r}; it must be one of {allowed}")
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, source, where)
    if origin in (list, tuple):
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            value = [value]  # a single item given where a list is expected
        if not isinstance(value, list | tuple):
            raise _type_error(source, where, "a list", value)
        item = args[0] if args else Any
        items = [coerce(item, v, source, f"{where}.{i}") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _type_error(source, where, "a mapping", value)
        key_type, value_type = args or (Any, Any)
        return {
            coerce(key_type, k, source, where): coerce(value_type, v, source, f"{where}.{k}")
            for k, v in value.items()
        }
    return _scalar(hint, value, source, where)


def _scalar(hint: Any, value: Any, source: str, where: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(source, where, "true or false", value)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _type_error(source, where, "an integer", value)
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML reads '1e-3' (no dot) as a string
            except ValueError:
                pass
        raise _type_error(source, where, "a number", value)
    if hint is str:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise _type_error(source, where, "a string", value)
    raise ConfigError(f"{source}: '{where}' has a type the loader does not support: {hint}")


def _type_error(source: str, where: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{source}: '{where}' must be {expected}, got {value!r}")


def _kind(value: Any) -> str:
    return type(value).__name__


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
