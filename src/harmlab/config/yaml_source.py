"""Config files as YAML: strict (a repeated key is an error) and located (every key knows its
file and line), and `key=value` overrides set by dotted path.

    harmlab train grpo --config configs/grpo-from-base.yaml train.beta=0.02 rewards.1.weight=2

`harmlab.config` builds dataclasses from what this module reads; errors here are `ConfigError`s
naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from harmlab import HarmlabError


class ConfigError(HarmlabError):
    """A config file or override that does not match its schema (always one line: line breaks
    inside quoted keys, values or overrides are shown escaped)."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


class RepeatedKeyError(ConfigError):
    """A YAML mapping that names the same key twice."""


def kind_of(value: Any) -> str:
    return type(value).__name__


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
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not {kind_of(parsed)}")
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
            raise ConfigError(f"{source}: cannot set '{part}' inside a {kind_of(node)}")
