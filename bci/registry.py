"""Name-to-object registries with one resolver and one error message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from bci.errors import UnknownNameError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to objects of one kind (pipelines, headsets, paradigms...).

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages ("pipeline", "headset").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T) -> T:
        """Add ``obj`` under ``name`` (lower case) and return it."""
        key = name.lower()
        if key in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[key] = obj
        return obj

    def decorator(self, name: str) -> Callable[[T], T]:
        """Register the decorated object under ``name``."""

        def _wrap(obj: T) -> T:
            return self.register(name, obj)

        return _wrap

    def resolve(self, name: str) -> T:
        """Return the object registered under ``name`` or raise :class:`UnknownNameError`."""
        if not isinstance(name, str):
            raise UnknownNameError(
                f"{self.kind.capitalize()} must be given by name (str), got {type(name).__name__}"
            )
        try:
            return self._items[name.lower()]
        except KeyError:
            raise UnknownNameError(
                f"Unknown {self.kind} {name!r}. Must be one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
