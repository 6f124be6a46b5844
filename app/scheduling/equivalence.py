"""Results kept per snapshot and per class of workloads, as kube-scheduler's equivalence cache.

Many workloads decided over one snapshot look alike to a plugin: same tolerations, same
applicable policy rules, same per-replica requests. A *static* plugin says which parts of the
workload its result depends on (its equivalence key); the framework computes a result once per
snapshot and key and reuses it. Snapshots and clusters are immutable, so entries never go
stale; they go away with their snapshot, and each snapshot keeps a bounded number of classes.
"""

import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from app.scheduling.types import InventorySnapshot

Result = TypeVar("Result")

CLASSES_PER_SNAPSHOT = 32
"""Distinct keys kept per snapshot; the oldest half is dropped beyond that. A score column
holds one number per feasible cluster, so this bounds the memory of a large fleet."""


class EquivalenceCache(Generic[Result]):
    """Snapshot → equivalence key → result, with weak references to the snapshots.

    Keys must hold every object whose identity they rely on (e.g. the policy set whose rule
    ids a policy key contains), so that no id can be reused while the entry lives.
    Thread-safe for concurrent decisions: at worst two threads compute the same result.
    """

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[InventorySnapshot, dict[Hashable, Result]]
        self._entries = weakref.WeakKeyDictionary()

    def get(
        self, snapshot: InventorySnapshot, key: Hashable, compute: Callable[[], Result]
    ) -> tuple[Result, bool]:
        """Return the result for ``key`` over ``snapshot`` and whether it was already known,
        computing and keeping it when not."""
        classes = self._entries.get(snapshot)
        if classes is None:
            classes = {}
            self._entries[snapshot] = classes
        found = classes.get(key)
        if found is not None:
            return found, True
        if len(classes) >= CLASSES_PER_SNAPSHOT:
            for old in list(classes)[: CLASSES_PER_SNAPSHOT // 2]:
                classes.pop(old, None)
        found = compute()
        classes[key] = found
        return found, False
