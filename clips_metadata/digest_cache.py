"""A bounded, thread-safe, process-local LRU for values keyed by a digest of their inputs.

Used where the key is a digest of everything the value is computed from (so a change to any
input is a new key, never a stale value): the review plan (`review.plan_cache`) and the
transcript panel (`clips_metadata.sentence_views`). Each process (uvicorn worker) has its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


def digest(value: Any) -> str:
    """A digest of `repr(value)` (for tuples of str, numbers, None, bool and nested tuples)."""
    return hashlib.blake2b(repr(value).encode(), digest_size=32).hexdigest()


class DigestLRU:
    """A bounded map from digest to value, least recently used out first; counts hits.

    Bounded by `size` entries and, when `budget` is given, by the sum of `weigh(value)` over the
    entries (e.g. words: one long interview weighs as much as twenty short ones, so the memory
    held stays bounded whatever the interviews' lengths). The newest entry is always kept."""

    def __init__(self, size: int, budget: int | None = None, weigh: Callable[[Any], int] = len) -> None:
        self.size = size
        self.budget = budget
        self._weigh = weigh
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: str, value: Any) -> None:
        weight = self._weigh(value) if self.budget is not None else 0
        with self._lock:
            old = self._items.pop(key, None)
            self._weight += weight - (old[1] if old else 0)
            self._items[key] = (value, weight)
            while len(self._items) > 1 and (
                    len(self._items) > self.size or (self.budget is not None and self._weight > self.budget)):
                self._weight -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)
