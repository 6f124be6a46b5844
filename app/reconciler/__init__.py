"""The loop that converges clusters to the desired placements, coordinated through Postgres."""

from app.reconciler.claims import Claim, ClaimStore, LostClaimError
from app.reconciler.loop import Reconciler, ReconcilerSettings, default_holder

__all__ = [
    "Claim",
    "ClaimStore",
    "LostClaimError",
    "Reconciler",
    "ReconcilerSettings",
    "default_holder",
]
