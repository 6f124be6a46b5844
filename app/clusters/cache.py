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

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncSession

NOTIFY_CHANNEL = "placer_clusters_changed"
DEFAULT_MAX_AGE_SECONDS = 1.0
MAX_PAGES = 256


@dataclass(frozen=True, slots=True)
class PageRead:
    """When a page began to be read from the database, to decide whether it may be kept."""

    generation: int
    started: float


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
        self._generation = 0
        self._listening = False

    @property
    def listening(self) -> bool:
        """Whether notifications are being received, so that pages may be cached."""
        return self._listening

    def page(self, query: Hashable) -> bytes | None:
        """The page kept for ``query``, if one is kept and still fresh."""
        if not self._listening:
            return None
        page = self._pages.get(query)
        if page is None:
            return None
        if page.generation != self._generation or page.fresh_until <= self._clock():
            del self._pages[query]
            return None
        self._pages.move_to_end(query)
        return page.body

    def begin_read(self) -> PageRead:
        """Note the moment before a page is read from the database; pass it to :meth:`keep`."""
        return PageRead(self._generation, self._clock())

    def keep(self, query: Hashable, body: bytes, read: PageRead) -> None:
        """Keep a page read since ``read``, unless something changed meanwhile."""
        if not self._listening or read.generation != self._generation:
            return
        self._pages[query] = _Page(body, read.generation, read.started + self._max_age)
        self._pages.move_to_end(query)
        if len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)

    def changed(self, _payload: str = "") -> None:
        """Forget every page, and every page still being read."""
        self._generation += 1
        self._pages.clear()

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
