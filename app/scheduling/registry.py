"""The plugin registry (name → factory) and the default profile.

Each plugin module exposes ``NAME`` and ``new(args)``; adding a plugin means adding it here.
"""

from collections.abc import Mapping

from app.scheduling.framework import PluginFactory, Profile
from app.scheduling.plugins import (
    balance,
    budgets,
    capacity_fit,
    cluster_selector,
    cluster_state,
    cost,
    max_hourly_cost,
    policy_prefer,
    policy_require,
    stickiness,
    taint_toleration,
    workload_affinity,
)

REGISTRY: Mapping[str, PluginFactory] = {
    module.NAME: module.new
    for module in (
        balance,
        budgets,
        capacity_fit,
        cluster_selector,
        cluster_state,
        cost,
        max_hourly_cost,
        policy_prefer,
        policy_require,
        stickiness,
        taint_toleration,
        workload_affinity,
    )
}
"""Every plugin by name."""

DEFAULT_PROFILE = Profile(
    name="default",
    filters=(
        cluster_state.NAME,
        cluster_selector.NAME,
        taint_toleration.NAME,
        policy_require.NAME,
        capacity_fit.NAME,
        workload_affinity.NAME,
        max_hourly_cost.NAME,
    ),
    scores=(
        (cost.NAME, 3),
        (policy_prefer.NAME, 2),
        (balance.NAME, 1),
        (stickiness.NAME, 1),
        (workload_affinity.NAME, 1),
        (taint_toleration.NAME, 1),
    ),
    checks=(max_hourly_cost.NAME, budgets.NAME),
)
"""Cheapest compliant placement first, then policy preferences, balance and stickiness.

Filters run cheapest first; ``CapacityFit`` must run before scoring (it records how many
replicas fit)."""
