"""The reconciler and the inventory sync as background tasks of one service process.

Started by the application's lifespan when ``PLACER_RECONCILE`` is on (the default); every
replica runs both, and they coordinate through Postgres alone. Stopping cancels both tasks,
releases the reconciler's claims and closes every Kubernetes client.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from app.clusters.credentials import check_connect_address
from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.session import Database
from app.inventory.access import ClusterAccess
from app.inventory.sync import SYNC_ACTOR, InventoryChanged, InventorySync
from app.kube import KubeClientPool
from app.reconciler.loop import Reconciler, ReconcilerSettings, default_holder
from app.scheduling.scheduler import Scheduler
from app.workloads.service import WorkloadService


def rescheduler(database: Database, scheduler: Scheduler) -> InventoryChanged:
    """Re-decide unschedulable workloads, as the inventory sync does after a change."""

    async def reschedule(now: datetime) -> None:
        async with database.transaction() as session:
            await WorkloadService(session, scheduler, SYNC_ACTOR).reschedule_unschedulable(now)

    return reschedule


@dataclass
class BackgroundWork:
    """The running reconciler and inventory sync of this process."""

    pool: KubeClientPool
    reconciler: Reconciler
    sync: InventorySync
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        settings: Settings,
        database: Database,
        policy: ClusterPolicy,
        *,
        on_inventory_change: InventoryChanged | None = None,
    ) -> "BackgroundWork":
        """Build both loops from the settings and start them on the running event loop."""
        networks = policy.allowed_networks
        pool = KubeClientPool(
            address_guard=lambda address: check_connect_address(address, networks)
        )
        access = ClusterAccess(pool, policy.secret_box)
        reconciler = Reconciler(
            database,
            access,
            ReconcilerSettings(
                holder=settings.reconciler_id or default_holder(),
                poll_interval=settings.reconcile_interval_seconds,
            ),
            secret_box=policy.secret_box,
        )
        sync = InventorySync(
            database,
            access,
            interval=settings.sync_interval_seconds,
            on_change=on_inventory_change,
        )
        work = cls(pool, reconciler, sync)
        work.tasks = [
            asyncio.create_task(reconciler.run(), name="placer-reconciler"),
            asyncio.create_task(sync.run(), name="placer-inventory-sync"),
        ]
        return work

    async def stop(self) -> None:
        """Cancel both loops, wait for them to wind down, and close the clients."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.pool.close()
