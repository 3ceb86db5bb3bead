"""What is worked out once per parsed document, kept by the document's identity.

Strawberry's parser cache hands back the same document object for the same query text, so
a fact about a document (its plan, where its arguments take text) can be found once and
reused by identity. Not by equality: a document's hash walks its whole tree every time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

CACHE_SIZE = 512


class PerDocument(Generic[K, V]):
    """A value per key object, for the `size` keys used last. A key is kept alive while its
    value is kept, so its id cannot name another object meanwhile."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._found: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, or `make()`'s, kept from now on."""
        found = self._found.get(id(key))
        if found is not None and found[0] is key:
            self._found.move_to_end(id(key))
            return found[1]
        value = make()
        self._found[id(key)] = (key, value)
        if len(self._found) > self.size:
            self._found.popitem(last=False)
        return value
