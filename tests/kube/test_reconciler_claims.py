"""Claims through Postgres: replicas never share a workload, and a holder whose claim was taken
over while it was paused cannot write anything afterwards.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text, update

from app.db.models import Workload
from app.db.session import Database
from app.reconciler import ClaimStore, LostClaimError
from tests.kube.placer_fleet import deployment, insert_workload, workload_status


async def _expire_leases(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE reconcile_claims SET expires_at = now() - interval '1 second'")
        )


async def test_a_holder_that_lost_its_claim_cannot_write(database: Database) -> None:
    workload_id = await insert_workload(database, "shop", [deployment("web", 1)], {})
    async with database.transaction() as session:
        (paused,) = await ClaimStore(session).claim_due("replica-a", limit=10, lease=30)
    await _expire_leases(database)
    async with database.transaction() as session:
        (successor,) = await ClaimStore(session).claim_due("replica-b", limit=10, lease=30)
    assert successor.workload_id == paused.workload_id == workload_id
    assert successor.token == paused.token + 1

    async def write_as_paused_holder() -> None:
        async with database.transaction() as session:
            await ClaimStore(session).fence(paused, lease=30)
            await session.execute(
                update(Workload).where(Workload.id == workload_id).values(status="Failed")
            )

    with pytest.raises(LostClaimError):
        await write_as_paused_holder()
    assert await workload_status(database, workload_id) == ("Placed", "")
    async with database.transaction() as session:
        await ClaimStore(session).fence(successor, lease=30)


async def test_concurrent_claimers_take_disjoint_workloads(database: Database) -> None:
    ids = {await insert_workload(database, f"ns{i}", [deployment("web", 1)], {}) for i in range(6)}
    async with database.transaction() as session:
        assert await ClaimStore(session).claim_due("nobody", limit=0, lease=30) == []
    # Both transactions stay open: the second must skip the rows the first has locked.
    async with database.transaction() as first, database.transaction() as second:
        mine = await ClaimStore(first).claim_due("replica-a", limit=3, lease=30)
        theirs = await ClaimStore(second).claim_due("replica-b", limit=10, lease=30)
    claimed_a = {c.workload_id for c in mine}
    claimed_b = {c.workload_id for c in theirs}
    assert not claimed_a & claimed_b
    assert claimed_a | claimed_b == ids


async def test_a_live_lease_is_not_claimed_again_and_release_schedules_the_next_attempt(
    database: Database,
) -> None:
    await insert_workload(database, "shop", [deployment("web", 1)], {})
    async with database.transaction() as session:
        (claim,) = await ClaimStore(session).claim_due("replica-a", limit=10, lease=30)
    async with database.transaction() as session:
        assert await ClaimStore(session).claim_due("replica-b", limit=10, lease=30) == []
    async with database.transaction() as session:
        store = ClaimStore(session)
        await store.fence(claim, lease=30)
        await store.release(claim, next_attempt_in=3600, failures=2)
    async with database.transaction() as session:
        assert await ClaimStore(session).claim_due("replica-b", limit=10, lease=30) == []
    async with database.transaction() as session:
        await session.execute(
            update(Workload).values(desired_generation=Workload.desired_generation + 1)
        )
    async with database.transaction() as session:
        (again,) = await ClaimStore(session).claim_due("replica-b", limit=10, lease=30)
        assert await ClaimStore(session).failures(again) == 2
    assert isinstance(again.workload_id, uuid.UUID)
