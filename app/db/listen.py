"""Following a Postgres ``NOTIFY`` channel for as long as a task runs.

    >>> task = asyncio.create_task(follow(database, "placer_clusters_changed", on_notify))

The channel is listened on over one pooled connection held for the purpose. When that
connection is lost the follower says so (``on_listening(False)``: notifications may be
missed from then on) and connects again after ``retry_seconds``.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from app.db.session import Database

logger = logging.getLogger(__name__)


async def follow(
    database: Database,
    channel: str,
    on_notify: Callable[[str], None],
    *,
    on_listening: Callable[[bool], None] | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """Call ``on_notify(payload)`` for each notification on ``channel`` until cancelled.

    ``on_listening(True)`` once the server has confirmed ``LISTEN``, ``on_listening(False)``
    when the connection is lost or the follower stops.
    """

    def notified(*arguments: Any) -> None:
        on_notify(arguments[-1])

    while True:
        try:
            async with database.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver_connection: Any = raw.driver_connection
                closed = asyncio.Event()
                driver_connection.add_termination_listener(lambda *_, c=closed: c.set())
                await driver_connection.add_listener(channel, notified)
                try:
                    if on_listening is not None:
                        on_listening(True)
                    await closed.wait()
                finally:
                    if on_listening is not None:
                        on_listening(False)
                    # The connection goes back to the pool: it must not keep calling us.
                    if not driver_connection.is_closed():
                        await driver_connection.remove_listener(channel, notified)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("listening on %s failed; retrying", channel, exc_info=True)
        await asyncio.sleep(retry_seconds)
