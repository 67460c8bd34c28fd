"""Declared ranges of numeric config fields: `field(default=40, metadata=bounds(ge=1))`.

    configs/grpo.yaml:line 12: 'train.steps' is 0; it must be >= 1

`harmlab.config.build` checks every number a field holds (list items and mapping values
included) against its `Bounds`, and every float must be finite; `check_bounds` does the same
for a dataclass made in code (its `__post_init__` calls it).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harmlab.config.yaml_source import ConfigError


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


def as_float(value: Any) -> float | None:
    """A config value as a float (YAML reads '1e-3' as a string); None when it is none."""
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
