"""Fixtures the real-Kubernetes tests share: Placer's database, cluster policy and cluster
access, the test fleet registered, and a reconciler over them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.session import Database
from app.inventory.access import ClusterAccess
from app.kube import KubeClientPool, Timeouts
from app.reconciler import Reconciler, ReconcilerSettings
from app.runtime import cluster_policy
from tests.kube.placer_fleet import register_fleet
from tests.support.kubefleet import Fleet


@pytest.fixture
def policy(settings: Settings) -> ClusterPolicy:
    return cluster_policy(settings)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database.connect(db_url, pool_size=4)
    yield db
    await db.dispose()


@pytest.fixture
def kube_timeouts() -> Timeouts:
    """The client timeouts ``access`` uses; a module overrides this to give up sooner."""
    return Timeouts()


@pytest.fixture
def access(policy: ClusterPolicy, kube_timeouts: Timeouts) -> Iterator[ClusterAccess]:
    pool = KubeClientPool(address_guard=None, timeouts=kube_timeouts)
    yield ClusterAccess(pool, policy.secret_box)
    pool.close()


@pytest.fixture
async def cluster_ids(
    database: Database, policy: ClusterPolicy, kube_fleet: Fleet
) -> dict[str, uuid.UUID]:
    """Every fleet cluster registered with its credentials; ids by name."""
    return await register_fleet(database, policy, kube_fleet)


@pytest.fixture
def reconciler(
    database: Database, access: ClusterAccess, policy: ClusterPolicy, reconciler_holder: str
) -> Reconciler:
    """A reconciler with default settings, driven step by step; a module using it names its
    holder with a ``reconciler_holder`` fixture."""
    return Reconciler(
        database, access, ReconcilerSettings(holder=reconciler_holder), secret_box=policy.secret_box
    )
