"""Budgets placement check: enforced ``BudgetPolicy`` caps (§4).

A team's monthly spend is the attributed monthly cost of its other placed workloads in the
snapshot plus this workload's; a workload's hourly cost is its attributed cost per hour.
Audit-mode budgets never refuse; their breaches are noted in ``state.data``.
"""

from collections.abc import Mapping
from typing import Any

from app.policies.documents import Mode
from app.scheduling.cost import format_money, placement_cost
from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import HOURS_PER_MONTH

NAME = "Budgets"


def team_monthly_spend(state: CycleState) -> int:
    """Attributed monthly cost of the team's other placed workloads, computed once."""
    key = f"{NAME}.team"
    if key not in state.data:
        workload = state.workload
        total = 0
        for other in state.snapshot.workloads:
            if other.team == workload.team and other.key != workload.key and other.current:
                total += placement_cost(state.snapshot, other.requests, other.current).monthly
        state.data[key] = total
    spend: int = state.data[key]
    return spend


class BudgetsCheck:
    """Refuses assignments that break an enforced budget covering the workload."""

    name = NAME

    def check(self, state: CycleState, assignment: Mapping[str, int]) -> Status | None:
        """Compare the assignment's cost with every covering budget."""
        budgets = state.policies.budgets_for(state.workload)
        if not budgets:
            return None
        estimate = placement_cost(state.snapshot, state.workload.requests, assignment)
        breaches: list[tuple[str, str, str]] = []
        for budget in budgets:
            money = budget.currency
            hourly_limit = budget.workload_hourly_limit
            if hourly_limit is not None and estimate.hourly > hourly_limit:
                breaches.append(
                    (
                        budget.name,
                        f"{budget.name}: the workload would cost "
                        f"{format_money(estimate.hourly, money)}/h, over its "
                        f"{format_money(hourly_limit, money)}/h limit",
                        str(budget.mode),
                    )
                )
            if budget.monthly_limit is not None:
                team_total = team_monthly_spend(state) + estimate.hourly * HOURS_PER_MONTH
                if team_total > budget.monthly_limit:
                    breaches.append(
                        (
                            budget.name,
                            f"{budget.name}: team {state.workload.team} would spend "
                            f"{format_money(team_total, money)}/month, over its "
                            f"{format_money(budget.monthly_limit, money)} budget",
                            str(budget.mode),
                        )
                    )
        audit = [text for _, text, mode in breaches if mode == Mode.AUDIT]
        if audit:
            state.data.setdefault(f"{NAME}.audit", []).extend(audit)
        enforced = [(name, text) for name, text, mode in breaches if mode == Mode.ENFORCE]
        if not enforced:
            return None
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            "; ".join(text for _, text in enforced),
            f"rejected by budget {enforced[0][0]}",
            f"raise budget {enforced[0][0]} or grant an exception",
        )


def new(args: Mapping[str, Any]) -> BudgetsCheck:
    """Factory for the registry."""
    return BudgetsCheck()
