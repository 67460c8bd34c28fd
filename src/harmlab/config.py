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
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from harmlab import HarmlabError

T = TypeVar("T")


class ConfigError(HarmlabError):
    """A config file or override that does not match its schema (always one line: line breaks
    inside quoted keys, values or overrides are shown escaped)."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


class RepeatedKeyError(ConfigError):
    """A YAML mapping that names the same key twice."""


@dataclass(frozen=True)
class Bounds:
    """The allowed range of a numeric config value; None leaves that side open."""

    ge: float | None = None
    """Smallest allowed value."""
    gt: float | None = None
    """The value must be greater than this."""
    le: float | None = None
    """Largest allowed value."""
    lt: float | None = None
    """The value must be smaller than this."""

    def allows(self, value: float) -> bool:
        """True when `value` lies in the range.

        >>> Bounds(gt=0, le=1).allows(1), Bounds(gt=0, le=1).allows(0)
        (True, False)
        """
        return value == value and not (  # NaN lies in no range
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def __str__(self) -> str:
        """The range as a message reads it: '>= 1', '> 0', 'in (0, 1]'.

        >>> str(Bounds(ge=1)), str(Bounds(gt=0)), str(Bounds(gt=0, le=1)), str(Bounds(lt=2.5))
        ('>= 1', '> 0', 'in (0, 1]', '< 2.5')
        """
        low = f"[{self.ge:g}" if self.ge is not None else None
        low = f"({self.gt:g}" if self.gt is not None else low
        high = f"{self.le:g}]" if self.le is not None else None
        high = f"{self.lt:g})" if self.lt is not None else high
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f"{'>=' if low[0] == '[' else '>'} {low[1:]}"
        if high:
            return f"{'<=' if high[-1] == ']' else '<'} {high[:-1]}"
        return "any finite number"


def bounds(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> dict[str, Bounds]:
    """Field metadata declaring a numeric range: `field(default=8, metadata=bounds(ge=2))`."""
    return {"bounds": Bounds(ge, gt, le, lt)}


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


# --- YAML: strict (no repeated keys) and located (every key knows its line) -------------------


class _Located(dict[Any, Any]):
    """A YAML mapping that remembers where each of its keys was written."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.where: dict[Any, str] = {}
        """Key -> 'file:line N' (keys set by an override have none)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses repeated keys and records each key's line."""

    source = "<yaml>"

    def construct_mapping(self, node: Any, deep: bool = False) -> _Located:
        if isinstance(node, yaml.MappingNode):
            self._reject_repeated_keys(node)
        located = _Located(super().construct_mapping(node, deep=deep))
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = self.construct_object(key_node)
                located.where.setdefault(key, f"{self.source}:line {key_node.start_mark.line + 1}")
        return located

    def _reject_repeated_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue  # merged keys may be overridden; complex keys are PyYAML's to check
            key, line = self.construct_object(key_node), key_node.start_mark.line + 1
            if key in seen:
                raise RepeatedKeyError(
                    f"{self.source}:line {line}: key '{key}' is repeated (first at line "
                    f"{seen[key]}); a key may appear once per mapping"
                )
            seen[key] = line


def _construct_located_map(loader: _StrictLoader, node: yaml.MappingNode) -> Iterator[_Located]:
    data = _Located()
    yield data
    value = loader.construct_mapping(node)
    data.update(value)
    data.where.update(value.where)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_located_map)


def parse_yaml(text: str, source: str) -> Any:
    """YAML text as data, refusing repeated keys; `source` names it in errors."""
    try:
        loader = _StrictLoader(text)  # refuses non-printable characters already
        loader.source = source
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{source}:{line}not valid YAML: {problem}".replace("\n", " ")) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a config") from None


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"config file '{path}' cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{path}:line {line}: not UTF-8 text ({error.reason})") from None
    parsed = parse_yaml(text, str(path))
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not {_kind(parsed)}")
    return parsed


def parse_override(text: str) -> tuple[str, Any]:
    """`'train.beta=0.02'` -> `('train.beta', 0.02)`; the value is parsed as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}' is not of the form key=value")
    try:
        parsed = parse_yaml(value, f"override '{text}'") if value.strip() else ""
    except RepeatedKeyError:
        raise
    except ConfigError:
        parsed = value  # not YAML: the text itself
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
            if isinstance(node, _Located):  # the file's line no longer holds (all of) the value
                node.where.pop(part, None)
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(f"{source}: cannot set '{part}' inside a {_kind(node)}")


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
            raise self.fail(here, where, f"must be a mapping, not {_kind(raw)}")
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
            number = _as_float(value)
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


def range_problem(item: dataclasses.Field[Any], value: Any) -> str | None:
    """What is wrong with `value` for a field with declared bounds (None when it is fine)."""
    allowed = item.metadata.get("bounds")
    if not isinstance(allowed, Bounds):
        return None
    for number in _numbers(value):
        shown = value if number is value else number
        if not math.isfinite(number):
            return f"is {shown!r}; it must be a finite number {allowed}"
        if not allowed.allows(number):
            return f"is {shown!r}; it must be {allowed}"
    return None


def check_bounds(config: Any, source: str) -> None:
    """Check the declared ranges of a dataclass built in code rather than read by `build`
    (a `__post_init__` calls it), so a bad value fails where it is made, not deep in a loop."""
    for item in dataclasses.fields(config):
        problem = range_problem(item, getattr(config, item.name))
        if problem:
            raise ConfigError(f"{source}: '{item.name}' {problem}")


def _required(item: dataclasses.Field[Any]) -> bool:
    return item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING


def _is_one_of(value: Any, options: tuple[Any, ...]) -> bool:
    # Compared by type too: YAML's `1` must not pass for a Literal[True] and vice versa.
    return any(value == option and type(value) is type(option) for option in options)


def _as_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an integer too large for a float
            return math.inf
    if isinstance(value, str):
        try:
            return float(value)  # YAML reads '1e-3' (no dot) as a string
        except ValueError:
            return None
    return None


def _numbers(value: Any) -> Iterator[float]:
    """Every number inside a coerced value (itself, list items, mapping values)."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)


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


def _kind(value: Any) -> str:
    return type(value).__name__


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
