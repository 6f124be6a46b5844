"""Claims on workloads through Postgres: one replica reconciles a workload at a time.

A claim is a lease on the workload's ``reconcile_claims`` row. Claiming locks due rows with
``FOR UPDATE SKIP LOCKED`` (two replicas claiming at once take different rows), and each claim
increments the row's fencing token. Every write a holder makes afterwards goes through
:meth:`ClaimStore.fence` first, in the same transaction: it locks the row and checks holder
and token, so a replica that was paused past its lease, and lost the workload to another, finds
its token stale and writes nothing (:class:`LostClaimError`).

Times come from the database clock, so replicas with skewed clocks agree on leases.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from app.db.repository import Repository


class LostClaimError(Exception):
    """Another holder has claimed the workload since; this holder must not write."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to reconcile one workload, valid while ``token`` is the row's."""

    workload_id: uuid.UUID
    holder: str
    token: int


_ENSURE_ROWS = text(
    """
    INSERT INTO reconcile_claims (workload_id)
    SELECT w.id FROM workloads w
    WHERE NOT EXISTS (SELECT 1 FROM reconcile_claims c WHERE c.workload_id = w.id)
    ON CONFLICT DO NOTHING
    """
)

# Due: nobody holds it, and there is something new to converge or its next attempt has come.
_CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT c.workload_id
        FROM reconcile_claims c JOIN workloads w ON w.id = c.workload_id
        WHERE (c.expires_at IS NULL OR c.expires_at <= now())
          AND (c.attempted_generation IS DISTINCT FROM w.desired_generation
               OR (w.deletion_requested AND NOT c.attempted_deletion)
               OR c.next_attempt_at IS NULL
               OR c.next_attempt_at <= now())
        ORDER BY c.next_attempt_at NULLS FIRST
        LIMIT :limit
        FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE reconcile_claims c
    SET holder = :holder,
        fencing_token = c.fencing_token + 1,
        expires_at = now() + make_interval(secs => :lease),
        attempted_generation = w.desired_generation,
        attempted_deletion = w.deletion_requested
    FROM due, workloads w
    WHERE c.workload_id = due.workload_id AND w.id = c.workload_id
    RETURNING c.workload_id, c.fencing_token
    """
)

_FENCE = text(
    """
    UPDATE reconcile_claims
    SET expires_at = now() + make_interval(secs => :lease)
    WHERE workload_id = :workload_id AND holder = :holder AND fencing_token = :token
    RETURNING workload_id
    """
)

_RELEASE = text(
    """
    UPDATE reconcile_claims
    SET holder = NULL, expires_at = NULL, failures = :failures,
        next_attempt_at = now() + make_interval(secs => :delay)
    WHERE workload_id = :workload_id AND holder = :holder AND fencing_token = :token
    """
)

_RELEASE_ALL = text(
    """
    UPDATE reconcile_claims SET holder = NULL, expires_at = NULL
    WHERE holder = :holder AND expires_at IS NOT NULL
    """
)

_FAILURES = text("SELECT failures FROM reconcile_claims WHERE workload_id = :workload_id")


class ClaimStore(Repository):
    """Claiming, fencing and releasing, in the caller's transaction."""

    async def claim_due(self, holder: str, *, limit: int, lease: float) -> list[Claim]:
        """Claim up to ``limit`` due workloads for ``lease`` seconds."""
        await self.session.execute(_ENSURE_ROWS)
        rows = await self.session.execute(
            _CLAIM_DUE, {"holder": holder, "limit": limit, "lease": lease}
        )
        return [Claim(row.workload_id, holder, row.fencing_token) for row in rows]

    async def fence(self, claim: Claim, *, lease: float) -> None:
        """Lock the claim row and extend the lease, or raise :class:`LostClaimError`.

        Call it first in every transaction that writes on behalf of ``claim``: the row stays
        locked until that transaction ends, so no one can take the claim over in between.
        """
        renewed = await self.session.scalar(
            _FENCE,
            {
                "workload_id": claim.workload_id,
                "holder": claim.holder,
                "token": claim.token,
                "lease": lease,
            },
        )
        if renewed is None:
            raise LostClaimError(f"the claim on workload {claim.workload_id} was taken over")

    async def failures(self, claim: Claim) -> int:
        """How many attempts in a row have failed temporarily."""
        return int(await self.session.scalar(_FAILURES, {"workload_id": claim.workload_id}) or 0)

    async def release(self, claim: Claim, *, next_attempt_in: float, failures: int) -> None:
        """Give the workload up until ``next_attempt_in`` seconds from now (fence first)."""
        await self.session.execute(
            _RELEASE,
            {
                "workload_id": claim.workload_id,
                "holder": claim.holder,
                "token": claim.token,
                "delay": next_attempt_in,
                "failures": failures,
            },
        )

    async def release_all(self, holder: str) -> None:
        """Give up every claim of ``holder`` (at shutdown), so others need not wait for leases."""
        await self.session.execute(_RELEASE_ALL, {"holder": holder})
