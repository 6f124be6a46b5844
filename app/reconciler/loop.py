"""The reconciler: converges every cluster to the desired placements, level-triggered.

A workload is due when its desired generation or deletion is new to the reconciler, or when
its next attempt has come (still deploying, a retry after a temporary error, or the periodic
resync). One reconcile of a claimed workload:

1. fenced transaction: read the workload, its desired placements and what each cluster last
   reported; record an intent row for every desired cluster before touching it, so a cluster
   applied to by a reconciler killed right after is known and cleaned up later;
2. Kubernetes, off the event loop: ensure the namespace and server-side apply to each desired
   cluster with credentials (when its generation is new, the object is missing, or a resync
   is due), then prune there the workload's objects its manifests no longer have, read status
   back; delete owned objects from clusters no longer desired;
3. fenced transaction: per-cluster status, the aggregated workload status, events, and the
   next attempt (exponential backoff after temporary errors, kept in the database so a
   restart keeps it). A deleted workload's row goes once no cluster holds any of its objects.

Killing the process anywhere is safe: nothing is remembered outside Postgres and the
clusters, and every step repeats without effect.

    >>> reconciler = Reconciler(
    ...     database, access, ReconcilerSettings(holder="api-1"), secret_box=box
    ... )
    >>> task = asyncio.create_task(reconciler.run())
    >>> await reconciler.stop()  # at shutdown
"""

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, delete, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import (
    Cluster,
    Workload,
    WorkloadClusterStatus,
    WorkloadPlacement,
)
from app.db.session import Database
from app.inventory.access import ClusterAccess, UnusableCredentialsError
from app.reconciler.actuation import Deployment, converge, remove
from app.reconciler.aggregate import ClusterOutcome, Phase, WorkloadStatus, aggregate
from app.reconciler.claims import Claim, ClaimStore, LostClaimError
from app.security.secretbox import DecryptionError, SecretBox
from app.workloads.events import record_event
from app.workloads.manifests import ManifestError, parse_manifests
from app.workloads.sealing import unseal_secrets

NOTIFY_CHANNEL = "placer_reconcile"

logger = logging.getLogger(__name__)


def default_holder() -> str:
    """This process's name among reconcilers: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class ReconcilerSettings:
    """How often and how hard the reconciler works; seconds throughout.

    ``poll_interval`` is both how often a workload still deploying is looked at and how often
    the loop looks for due work when no notification arrives; ``resync_interval`` how often a
    converged workload is checked (and re-applied, undoing drift); ``lease`` how long a claim
    lasts without renewal (a dead replica's workloads wait that long).
    """

    holder: str
    poll_interval: float = 1.0
    resync_interval: float = 60.0
    lease: float = 30.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    concurrency: int = 16


@dataclass(frozen=True, slots=True)
class _ClusterView:
    id: uuid.UUID
    name: str
    sealed_credentials: bytes | None
    desired: int | None
    applied_generation: int | None
    applied_at: datetime | None
    phase: str | None
    ready: int


@dataclass(frozen=True, slots=True)
class _WorkloadView:
    id: uuid.UUID
    namespace: str
    manifests: list[dict[str, Any]]
    status: str
    status_message: str
    generation: int
    deleting: bool
    clusters: list[_ClusterView]


class Reconciler:
    """Claims due workloads and converges them, ``concurrency`` at a time."""

    def __init__(
        self,
        database: Database,
        access: ClusterAccess,
        settings: ReconcilerSettings,
        *,
        secret_box: SecretBox,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self._access = access
        self._secret_box = secret_box
        self._settings = settings
        self._clock = clock
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def holder(self) -> str:
        return self._settings.holder

    def wake(self) -> None:
        """Look for due work now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Reconcile until cancelled; claims held are released on the way out."""
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                try:
                    await self._fill()
                except Exception:
                    logger.exception("claiming due workloads failed; retrying")
                await self._idle()
        finally:
            listener.cancel()
            for task in list(self._in_flight):
                task.cancel()
            await asyncio.gather(listener, *self._in_flight, return_exceptions=True)
            await self._release_all()

    async def reconcile_due(self) -> int:
        """Claim and reconcile everything due now, waiting for it; returns how many."""
        async with self._database.transaction() as session:
            claims = await ClaimStore(session).claim_due(
                self.holder, limit=1_000_000, lease=self._settings.lease
            )
        await asyncio.gather(*(self._reconcile_logged(claim) for claim in claims))
        return len(claims)

    async def _fill(self) -> None:
        free = self._settings.concurrency - len(self._in_flight)
        if free <= 0:
            return
        async with self._database.transaction() as session:
            claims = await ClaimStore(session).claim_due(
                self.holder, limit=free, lease=self._settings.lease
            )
        for claim in claims:
            task = asyncio.create_task(self._reconcile_logged(claim))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        if len(claims) == free:
            self._wake.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)
        self._wake.clear()

    async def _listen(self) -> None:
        """Wake on ``NOTIFY placer_reconcile`` (sent by a trigger when workloads change)."""
        while True:
            try:
                async with self._database.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver_connection: Any = raw.driver_connection
                    await driver_connection.add_listener(
                        NOTIFY_CHANNEL, lambda *_: self._wake.set()
                    )
                    closed = asyncio.Event()
                    driver_connection.add_termination_listener(lambda *_, c=closed: c.set())
                    await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("listening for workload changes failed; polling meanwhile")
            await asyncio.sleep(self._settings.poll_interval)

    async def _release_all(self) -> None:
        try:
            async with self._database.transaction() as session:
                await ClaimStore(session).release_all(self.holder)
        except Exception:
            logger.warning("could not release claims at shutdown; they expire with their lease")

    async def _reconcile_logged(self, claim: Claim) -> None:
        try:
            await self.reconcile(claim)
        except LostClaimError:
            logger.info("workload %s was claimed by another reconciler", claim.workload_id)
        except Exception:
            logger.exception("reconciling workload %s failed", claim.workload_id)
            await self._retry_later(claim)

    async def _retry_later(self, claim: Claim) -> None:
        try:
            async with self._database.transaction() as session:
                claims = ClaimStore(session)
                await claims.fence(claim, lease=self._settings.lease)
                failures = await claims.failures(claim) + 1
                await claims.release(
                    claim, next_attempt_in=self._backoff(failures, None), failures=failures
                )
        except Exception:
            logger.warning("could not schedule a retry of %s; its lease expires", claim)

    def _backoff(self, failures: int, hint: float | None) -> float:
        delay: float = self._settings.backoff_base * 2.0 ** min(failures - 1, 30)
        return min(max(delay, hint or 0.0), self._settings.backoff_max)

    async def reconcile(self, claim: Claim) -> None:
        """Converge one claimed workload; :class:`LostClaimError` if the claim was taken over."""
        async with self._database.transaction() as session:
            await ClaimStore(session).fence(claim, lease=self._settings.lease)
            view = await self._load(session, claim.workload_id)
        if view is None:
            return
        outcomes = await self._actuate(view)
        async with self._database.transaction() as session:
            claims = ClaimStore(session)
            await claims.fence(claim, lease=self._settings.lease)
            failures = await claims.failures(claim)
            if view.deleting and all(o.phase is Phase.REMOVED for o in outcomes):
                await session.execute(delete(Workload).where(Workload.id == view.id))
                logger.info("workload %s removed from every cluster and deleted", view.id)
                return
            next_attempt, failures = await self._record(session, view, outcomes, failures)
            await claims.release(claim, next_attempt_in=next_attempt, failures=failures)

    async def _load(self, session: AsyncSession, workload_id: uuid.UUID) -> _WorkloadView | None:
        workload = await session.scalar(select(Workload).where(Workload.id == workload_id))
        if workload is None:
            return None
        if not workload.deletion_requested:
            # Intent first: any cluster the reconciler may apply to has a row before it does.
            await session.execute(
                insert(WorkloadClusterStatus)
                .from_select(
                    [
                        "workload_id",
                        "cluster_id",
                        "phase",
                        "desired_replicas",
                        "ready_replicas",
                        "conditions",
                        "updated_at",
                    ],
                    select(
                        WorkloadPlacement.workload_id,
                        WorkloadPlacement.cluster_id,
                        literal(Phase.PROGRESSING.value),
                        WorkloadPlacement.replicas,
                        literal(0),
                        literal([], JSONB),
                        literal(self._clock(), DateTime(timezone=True)),
                    ).where(WorkloadPlacement.workload_id == workload_id),
                )
                .on_conflict_do_nothing()
            )
        placements = await session.execute(
            select(WorkloadPlacement.cluster_id, WorkloadPlacement.replicas).where(
                WorkloadPlacement.workload_id == workload_id
            )
        )
        desired = {row.cluster_id: row.replicas for row in placements}
        rows = await session.execute(
            select(Cluster.id, Cluster.name, Cluster.credentials_ciphertext, WorkloadClusterStatus)
            .join(WorkloadClusterStatus, WorkloadClusterStatus.cluster_id == Cluster.id)
            .where(WorkloadClusterStatus.workload_id == workload_id)
        )
        clusters = [
            _ClusterView(
                id=row.id,
                name=row.name,
                sealed_credentials=row.credentials_ciphertext,
                desired=None if workload.deletion_requested else desired.get(row.id),
                applied_generation=status.applied_generation,
                applied_at=status.applied_at,
                phase=status.phase,
                ready=status.ready_replicas,
            )
            for row in rows
            for status in (row.WorkloadClusterStatus,)
        ]
        return _WorkloadView(
            id=workload.id,
            namespace=workload.namespace,
            manifests=list(workload.manifests),
            status=workload.status,
            status_message=workload.status_message,
            generation=workload.desired_generation,
            deleting=workload.deletion_requested,
            clusters=sorted(clusters, key=lambda c: c.name),
        )

    async def _actuate(self, view: _WorkloadView) -> list[ClusterOutcome]:
        outcomes = [
            ClusterOutcome(cluster_id=c.id, cluster=c.name, desired=c.desired, phase=Phase.PLANNED)
            for c in view.clusters
        ]
        try:
            submitted = unseal_secrets(view.manifests, self._secret_box)
            manifests = parse_manifests(submitted, view.namespace)
        except ManifestError as error:
            return _failed_where_desired(outcomes, f"{error.field}: {error.message}")
        except DecryptionError as error:
            return _failed_where_desired(outcomes, f"its Secret values cannot be read: {error}")
        await asyncio.gather(
            *(
                self._actuate_cluster(view, cluster, outcome, manifests)
                for cluster, outcome in zip(view.clusters, outcomes, strict=True)
            )
        )
        return outcomes

    async def _actuate_cluster(
        self, view: _WorkloadView, cluster: _ClusterView, outcome: ClusterOutcome, manifests: Any
    ) -> None:
        if cluster.sealed_credentials is None:
            outcome.phase = Phase.PLANNED if cluster.desired is not None else Phase.REMOVED
            return
        try:
            driver = self._access.driver(cluster.id, cluster.sealed_credentials)
        except UnusableCredentialsError as error:
            outcome.phase, outcome.error = Phase.FAILED, str(error)
            return
        if cluster.desired is None:
            await remove(driver, view.namespace, str(view.id), outcome)
            return
        await converge(
            driver,
            Deployment(str(view.id), view.namespace, manifests, cluster.desired),
            outcome,
            apply=self._must_apply(view, cluster),
        )
        was_ready = cluster.applied_generation == view.generation and cluster.phase in (
            Phase.READY,
            Phase.DEGRADED,
        )
        if was_ready and not outcome.applied and outcome.phase is Phase.PROGRESSING:
            outcome.phase = Phase.DEGRADED
        if was_ready and outcome.phase is Phase.UNREACHABLE:
            # Ready before and out of sight now: presumably still running, but not known to.
            outcome.phase, outcome.ready = Phase.DEGRADED, cluster.ready

    def _must_apply(self, view: _WorkloadView, cluster: _ClusterView) -> bool:
        if cluster.applied_generation != view.generation or cluster.applied_at is None:
            return True
        return self._clock() - cluster.applied_at >= timedelta(
            seconds=self._settings.resync_interval
        )

    async def _record(
        self,
        session: AsyncSession,
        view: _WorkloadView,
        outcomes: list[ClusterOutcome],
        failures: int,
    ) -> tuple[float, int]:
        """Write per-cluster status, workload status and events; returns the next attempt."""
        now = self._clock()
        by_id = {cluster.id: cluster for cluster in view.clusters}
        for outcome in outcomes:
            cluster = by_id[outcome.cluster_id]
            await self._record_cluster(session, view, cluster, outcome, now)
        verdict = None if view.deleting else aggregate(outcomes)
        if verdict is not None and (verdict.status, verdict.message) != (
            view.status,
            view.status_message,
        ):
            await session.execute(
                update(Workload)
                .where(Workload.id == view.id)
                .values(status=verdict.status.value, status_message=verdict.message, updated_at=now)
            )
            event = _STATUS_EVENTS.get(verdict.status)
            if event is not None and verdict.status != view.status:
                await record_event(session, view.id, event, verdict.message)
        temporary = [o for o in outcomes if o.temporary_failure]
        if temporary:
            failures += 1
            delay = self._backoff(failures, max((o.retry_after or 0.0) for o in temporary))
            for outcome in temporary:
                await record_event(
                    session,
                    view.id,
                    "retried",
                    f"{outcome.error}; next attempt in {delay:g}s",
                    cluster=outcome.cluster,
                )
            return delay, failures
        settling = verdict is not None and verdict.status in (
            WorkloadStatus.DEPLOYING,
            WorkloadStatus.DEGRADED,
        )
        if settling or view.deleting or any(o.phase is Phase.REMOVING for o in outcomes):
            return self._settings.poll_interval, 0
        return self._settings.resync_interval, 0

    async def _record_cluster(
        self,
        session: AsyncSession,
        view: _WorkloadView,
        cluster: _ClusterView,
        outcome: ClusterOutcome,
        now: datetime,
    ) -> None:
        key = (WorkloadClusterStatus.workload_id == view.id) & (
            WorkloadClusterStatus.cluster_id == cluster.id
        )
        if outcome.removed_objects:
            await record_event(
                session,
                view.id,
                "deleted",
                f"asked the cluster to delete {outcome.removed_objects} objects",
                cluster=cluster.name,
            )
        if outcome.phase is Phase.REMOVED:
            await session.execute(delete(WorkloadClusterStatus).where(key))
            return
        values: dict[str, Any] = {
            "phase": outcome.phase.value,
            "ready_replicas": outcome.ready,
            "conditions": outcome.conditions,
            "last_error": outcome.error,
            "updated_at": now,
        }
        if outcome.desired is not None:
            values["desired_replicas"] = outcome.desired
        if outcome.applied:
            values["applied_generation"] = view.generation
            values["applied_at"] = now
            if cluster.applied_generation != view.generation:
                await record_event(
                    session,
                    view.id,
                    "applied",
                    f"applied generation {view.generation} with {outcome.desired} replicas",
                    cluster=cluster.name,
                )
        if outcome.pruned:
            await record_event(
                session,
                view.id,
                "pruned",
                f"asked the cluster to delete {', '.join(outcome.pruned)}: no longer in the"
                " manifests",
                cluster=cluster.name,
            )
        await session.execute(update(WorkloadClusterStatus).where(key).values(**values))


def _failed_where_desired(outcomes: list[ClusterOutcome], error: str) -> list[ClusterOutcome]:
    for outcome in outcomes:
        if outcome.desired is not None:
            outcome.phase, outcome.error = Phase.FAILED, error
    return outcomes


_STATUS_EVENTS = {
    WorkloadStatus.RUNNING: "ready",
    WorkloadStatus.DEGRADED: "degraded",
    WorkloadStatus.FAILED: "failed",
}
