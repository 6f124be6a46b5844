"""A reconciler process killed with SIGKILL after applying and before writing status converges
when a new process starts, leaving no duplicate objects.

The reconciler runs in a real child process (this module's ``main``). The test holds a row lock
on the workload that blocks its status write (not its reads or claims), so the kill lands
exactly between the apply, seen in the API server, and the status write.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kubernetes import client
from sqlalchemy import select

from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.models import WorkloadEvent
from app.db.session import Database
from app.inventory.access import ClusterAccess
from app.kube import KubeClientPool
from app.reconciler import Reconciler, ReconcilerSettings
from app.security.secretbox import SecretBox, parse_keys
from tests.kube.placer_fleet import (
    deployment,
    deployments,
    eventually,
    insert_workload,
    register_fleet,
    workload_status,
)
from tests.support.kubefleet import Fleet

pytestmark = pytest.mark.kube

REPOSITORY = Path(__file__).resolve().parents[2]


async def _reconcile_forever(database_url: str, secret_key: str, holder: str) -> None:
    database = Database.connect(database_url, pool_size=2)
    box = SecretBox(parse_keys(secret_key))
    pool = KubeClientPool(address_guard=None)
    settings = ReconcilerSettings(holder=holder, poll_interval=0.1, lease=1.5)
    await Reconciler(database, ClusterAccess(pool, box), settings, secret_box=box).run()


def main() -> None:
    """``python -m tests.kube.test_reconciler_process DATABASE_URL HOLDER``; the key comes
    from ``PLACER_SECRET_KEY``."""
    database_url, holder = sys.argv[1:3]
    asyncio.run(_reconcile_forever(database_url, os.environ["PLACER_SECRET_KEY"], holder))


class Processes:
    """Reconciler processes started by one test, all killed at its end."""

    def __init__(self, database_url: str, secret_key: str) -> None:
        self._database_url = database_url
        self._secret_key = secret_key
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, holder: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.kube.test_reconciler_process",
                self._database_url,
                holder,
            ],
            cwd=REPOSITORY,
            env={**os.environ, "PLACER_SECRET_KEY": self._secret_key},
        )
        self.started.append(process)
        return process


@pytest.fixture
def processes(db_url: str, settings: Settings) -> Iterator[Processes]:
    assert settings.secret_key is not None
    running = Processes(db_url, settings.secret_key.get_secret_value())
    yield running
    for process in running.started:
        process.kill()
        process.wait()


async def _event_kinds(database: Database, workload_id: object) -> list[str]:
    async with database.transaction() as session:
        kinds = await session.scalars(
            select(WorkloadEvent.kind)
            .where(WorkloadEvent.workload_id == workload_id)
            .order_by(WorkloadEvent.id)
        )
        return list(kinds)


async def test_process_killed_between_apply_and_status_write_converges_without_duplicates(
    kube_fleet: Fleet,
    kube_namespace: str,
    *,
    db_url: str,
    database: Database,
    policy: ClusterPolicy,
    processes: Processes,
) -> None:
    ids = await register_fleet(database, policy, kube_fleet)
    workload_id = await insert_workload(
        database, kube_namespace, [deployment("crash", 2)], {ids["iaas-tokyo"]: 2}
    )
    tokyo = kube_fleet.cluster("iaas-tokyo")

    with psycopg.connect(db_url) as blocker:
        # Conflicts with the status UPDATE; not with reads, claims or foreign-key checks.
        blocker.execute("SELECT 1 FROM workloads WHERE id = %s FOR NO KEY UPDATE", (workload_id,))
        doomed = processes.start("doomed")
        await eventually(
            lambda: deployments(tokyo, kube_namespace), lambda d: "crash" in d, what="applied"
        )
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL
        blocker.rollback()

    assert await workload_status(database, workload_id) == ("Placed", "")
    assert "applied" not in await _event_kinds(database, workload_id)

    processes.start("successor")
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s == ("Running", "2/2 replicas ready (iaas-tokyo 2/2)"),
        what="Running after restart",
    )
    assert list(await deployments(tokyo, kube_namespace)) == ["crash"]
    with tokyo.api_client() as api:
        replica_sets = client.AppsV1Api(api).list_namespaced_replica_set(kube_namespace).items
    assert [rs.spec.replicas for rs in replica_sets] == [2]
    assert (await _event_kinds(database, workload_id)).count("applied") == 1


if __name__ == "__main__":
    main()
