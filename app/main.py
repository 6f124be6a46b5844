"""The FastAPI application factory."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.api.errors import install_error_handlers
from app.api.middleware import RequestContextMiddleware
from app.api.openapi import build_openapi
from app.api.router import mount_routers
from app.clusters.cache import NOTIFY_CHANNEL, ClusterPageCache, attach_cluster_page_cache
from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.listen import follow
from app.db.session import Database
from app.observability.logging import configure_logging
from app.observability.metrics import HttpMetrics
from app.placements.scheduler import load_scheduler
from app.reconciler.runner import BackgroundWork, rescheduler
from app.runtime import cluster_policy, resolve_database_url

DESCRIPTION = """Placer places Kubernetes workloads on IaaS and on-prem clusters, cost-optimally
and within compliance policies, and explains every decision.

Every error is an RFC 9457 problem document (`application/problem+json`) whose `field` names
the offending input. Lists use opaque cursors (`nextCursor`). Updates honour `If-Match`.
Creates accept `Idempotency-Key` (kept 24 hours), except token creation, whose answer holds a
secret that is never stored."""


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    policy: ClusterPolicy | None = None,
) -> FastAPI:
    """Build the service; the database is connected lazily, at the first request.

    ``database_url`` and ``policy`` default to what ``settings`` describe (starting the
    embedded database, reading or creating the secret key).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pages: ClusterPageCache = app.state.cluster_pages
        pages_listener = asyncio.create_task(
            follow(
                app.state.database,
                NOTIFY_CHANNEL,
                pages.changed,
                on_listening=pages.set_listening,
            )
        )
        work = (
            BackgroundWork.start(
                settings,
                app.state.database,
                app.state.cluster_policy,
                on_inventory_change=rescheduler(app.state.database, app.state.scheduler),
            )
            if settings.reconcile
            else None
        )
        # What start-up built (modules, the app, compiled policies) lives as long as the
        # process: keeping it out of full collections shortens their pauses, which otherwise
        # land on whichever request is running.
        gc.collect()
        gc.freeze()
        yield
        if work is not None:
            await work.stop()
        pages_listener.cancel()
        await asyncio.gather(pages_listener, return_exceptions=True)
        await app.state.database.dispose()

    app = FastAPI(
        title="Placer",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    metrics = HttpMetrics(CollectorRegistry())
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.database = Database.connect(
        database_url or resolve_database_url(settings), pool_size=settings.db_pool_size
    )
    app.state.cluster_policy = policy or cluster_policy(settings)
    app.state.cluster_pages = ClusterPageCache(max_age=settings.cluster_list_max_age_seconds)
    attach_cluster_page_cache(app.state.database.engine.sync_engine, app.state.cluster_pages)
    app.state.scheduler = load_scheduler(settings.resolved_policies_dir)
    install_error_handlers(app)
    mount_routers(app)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log=settings.access_log,
    )
    return app


def serve_app() -> FastAPI:
    """The factory ``placer serve`` hands to uvicorn: JSON logs, settings from the environment."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
