"""Cluster list pages kept in memory, dropped when Postgres says the inventory changed.

The idea of kube-apiserver's watch cache: ``GET /v1/clusters`` is the busiest request and its
pages change rarely, so each process keeps the pages it rendered and serves them again without
touching the database. A trigger sends ``NOTIFY placer_clusters_changed`` for every statement
changing clusters, price books or their versions; the listener (``app.db.listen.follow``)
turns each into :meth:`ClusterPageCache.changed`, which empties the cache.

What a client can rely on:

* a change committed through this process is in its next list (the services call
  :func:`refresh_cluster_pages_when_committed`, which empties the cache as the commit
  returns, before the response that made the change is sent);
* a change committed through another process shows as soon as the notification arrives,
  a few milliseconds, and at most ``max_age`` seconds later even if one were lost: no page is
  served older than that, which also bounds how late a price book version whose
  ``effectiveFrom`` has passed shows;
* while the listener is not connected nothing is cached or served from the cache.

A page being read while a change commits is not kept: it may hold the old rows.
"""

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncSession

NOTIFY_CHANNEL = "placer_clusters_changed"
DEFAULT_MAX_AGE_SECONDS = 1.0
MAX_PAGES = 256


@dataclass(frozen=True, slots=True)
class _Started:
    """When a page began to be read: the cache's generation then, and the clock."""

    generation: int
    at: float


@dataclass(frozen=True, slots=True)
class _Reading:
    """A page being read from the database, from when the cache was at ``generation``."""

    generation: int
    task: asyncio.Task[bytes]


@dataclass(frozen=True, slots=True)
class _Page:
    body: bytes
    generation: int
    fresh_until: float


class ClusterPageCache:
    """Rendered list pages of one database, by their normalized query; least recently used go
    first beyond ``max_pages``."""

    def __init__(
        self,
        *,
        max_age: float = DEFAULT_MAX_AGE_SECONDS,
        max_pages: int = MAX_PAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age = max_age
        self._max_pages = max_pages
        self._clock = clock
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._readings: dict[Hashable, _Reading] = {}
        self._generation = 0
        self._listening = False

    @property
    def listening(self) -> bool:
        """Whether notifications are being received, so that pages may be cached."""
        return self._listening

    async def page(self, query: Hashable, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """The page kept for ``query`` if still fresh, else the one ``read()`` renders.

        Requests for a query whose page is being read wait for that read instead of each
        reading it again (when a page expires, every request in flight would); a request
        made after a change waits only for a read that began after the change.
        """
        if not self._listening:
            return await read()
        page = self._pages.get(query)
        if page is not None:
            if page.generation == self._generation and page.fresh_until > self._clock():
                self._pages.move_to_end(query)
                return page.body
            del self._pages[query]
        reading = self._readings.get(query)
        if reading is None or reading.generation != self._generation:
            started = _Started(self._generation, self._clock())
            task = asyncio.ensure_future(self._read_and_keep(query, read, started))
            reading = self._readings[query] = _Reading(started.generation, task)
        # A client going away cancels its request, not the read the others wait for.
        return await asyncio.shield(reading.task)

    async def _read_and_keep(
        self, query: Hashable, read: Callable[[], Awaitable[bytes]], started: _Started
    ) -> bytes:
        try:
            body = await read()
        finally:
            reading = self._readings.get(query)
            if reading is not None and reading.task is asyncio.current_task():
                del self._readings[query]
        # Kept only if nothing changed since the read began: it may hold the old rows.
        if self._listening and started.generation == self._generation:
            self._pages[query] = _Page(body, started.generation, started.at + self._max_age)
            self._pages.move_to_end(query)
            if len(self._pages) > self._max_pages:
                self._pages.popitem(last=False)
        return body

    def changed(self, _payload: str = "") -> None:
        """Forget every page, and every page still being read."""
        self._generation += 1
        self._pages.clear()
        self._readings.clear()

    def set_listening(self, listening: bool) -> None:
        """Record whether notifications arrive; either way, what was kept may have been missed."""
        self._listening = listening
        self.changed()


_per_engine: "weakref.WeakKeyDictionary[Engine, ClusterPageCache]" = weakref.WeakKeyDictionary()


def attach_cluster_page_cache(engine: Engine, cache: ClusterPageCache) -> None:
    """Make ``cache`` the one that commits on ``engine``'s database empty."""
    _per_engine[engine] = cache


def refresh_cluster_pages_when_committed(session: AsyncSession) -> None:
    """Empty this process's list cache as soon as ``session`` commits (read-your-writes)."""
    cache = _per_engine.get(session.sync_session.get_bind().engine)
    if cache is not None:
        event.listen(
            session.sync_session, "after_commit", lambda _session: cache.changed(), once=True
        )
