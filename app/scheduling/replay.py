"""Replay: decide again from a stored decision's own inputs, to check or explain it later."""

from app.policies.evaluation import PolicySet
from app.scheduling.decision import Decision
from app.scheduling.scheduler import Scheduler


def replay(decision: Decision) -> Decision:
    """Re-run ``decision`` from its snapshot, profile, policy sources and time.

    The result's :meth:`Decision.outcome` equals the original's when nothing changed in the
    scheduler's code.
    """
    scheduler = Scheduler(decision.profile, PolicySet.from_sources(decision.policy_sources))
    return scheduler.decide(decision.snapshot, decision.workload, decision.now)
