"""One plugin mechanism for everything harmlab addresses by name: rewards, judges, models,
suites and file formats (and the rules behind the gamed rate).

    harmlab eval --model tiny --suite world --judges gold,mypkg.judges:toxicity
    rewards: [{name: format}, {name: mypkg.rewards:brevity}]       # in a training config

A `Registry` maps names to entries. Built-in entries are declared as a table of
`module:attribute` strings and imported on first use, so nothing is registered by the side
effect of importing a module and a lookup never depends on import order. Users add entries
with the `register` decorator, or skip registration entirely: any reference written as
`package.module:attribute` is imported and used as it is (the one escape-hatch syntax, the
same for every kind; inspect_ai's `@scorer` and TRL's reward registry work alike).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar, cast

from harmlab import HarmlabError

T = TypeVar("T")

DOTTED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
"""`package.module:attribute`, the escape hatch every registry accepts."""


def import_dotted(reference: str, kind: str) -> object:
    """The object `package.module:attribute` names, or one line saying why it cannot be had.

    >>> import_dotted("math:pi", "constant")
    3.141592653589793
    """
    module_name, _, attribute = reference.partition(":")
    try:
        return cast(object, getattr(importlib.import_module(module_name), attribute))
    except (ImportError, AttributeError) as error:
        raise HarmlabError(f"{kind} '{reference}' names nothing importable: {error}") from error


class Registry(Generic[T]):
    """Names to entries of one kind; built-ins load lazily from `module:attribute` strings.

    `builtins` maps names to the `module:attribute` that defines each, imported on first `get`;
    `entries` holds objects defined in the registry's own module (nothing to defer); `accepts`
    checks what an import returns, so a reference naming the wrong kind of object fails with
    one line instead of a traceback later.

    >>> units = Registry[float]("unit", {"pi": "math:pi"})
    >>> @units.register("two")
    ... def _two() -> float:
    ...     return 2.0
    >>> units.get("pi"), units.get("two")(), units.names()
    (3.141592653589793, 2.0, ['pi', 'two'])
    >>> units.get("math:e")
    2.718281828459045
    """

    def __init__(
        self,
        kind: str,
        builtins: Mapping[str, str] | None = None,
        *,
        entries: Mapping[str, T] | None = None,
        accepts: Callable[[object], bool] | None = None,
    ) -> None:
        self.kind = kind
        """What the entries are ('reward', 'judge', ...), for error messages."""
        self._builtins: dict[str, str] = dict(builtins or {})
        self._entries: dict[str, T] = dict(entries or {})
        # Only imported objects are checked: a registered entry was typed by its author, but a
        # `module:attribute` typed on a command line can name anything.
        self._accepts = accepts

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: make `entry` addressable as `name` (a second registration replaces it)."""

        def decorate(entry: T) -> T:
            self.add(name, entry)
            return entry

        return decorate

    def add(self, name: str, entry: T) -> None:
        """Register `entry` under `name` (what `register` does, without decorating)."""
        self._entries[name] = entry
        self._builtins.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._builtins

    def names(self) -> list[str]:
        """Every registered name (built-in or added), sorted."""
        return sorted({*self._entries, *self._builtins})

    def get(self, reference: str) -> T:
        """The entry registered as `reference`, or the object a `module:attribute` names."""
        if reference in self._entries:
            return self._entries[reference]
        if reference in self._builtins:
            entry = self._imported(self._builtins[reference], reference)
            self._entries[reference] = entry
            return entry
        if DOTTED.match(reference):
            return self._imported(reference, reference)
        raise HarmlabError(self.unknown(reference))

    def unknown(self, reference: str, also: str = "") -> str:
        """The one-line message for a name that is neither registered nor importable; `also`
        names what else the caller would have accepted (', or a prompt file path')."""
        return (
            f"unknown {self.kind} '{reference}'; registered: {', '.join(self.names())} "
            f"(or package.module:attribute{also})"
        )

    def _imported(self, target: str, reference: str) -> T:
        """Import `target` for `reference`, checked against what this registry accepts."""
        try:
            entry = import_dotted(target, self.kind)
        except HarmlabError as error:
            # A typo in a registered name followed by ':' lands here: say what exists.
            raise HarmlabError(f"{error}; registered: {', '.join(self.names())}") from error
        if self._accepts is not None and not self._accepts(entry):
            found = type(entry).__name__
            raise HarmlabError(
                f"{self.kind} '{reference}' names a {found} object, not a {self.kind}"
            )
        return cast(T, entry)
