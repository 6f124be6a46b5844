"""The one place where quantities become solver integers.

CP-SAT works over integers and GLOP's numerics like coefficients of similar size, so every
amount is converted once, here, before a :class:`~.problem.BatchProblem` is built:

* cpu stays in millicores; memory goes from bytes to MiB; GPUs and pods stay counts.
  Requests round **up** and free capacity rounds **down**, so a placement that fits in
  solver units also fits in the cluster's own units.
* money stays in integer micro-units of the price book's currency per hour (the core's unit);
  the LP and the bounds work on the same numbers, so no second scale can drift.
"""

from collections.abc import Mapping

MIB = 2**20

SOLVER_UNIT: Mapping[str, int] = {"memory": MIB}
"""How many native units (bytes for memory) one solver unit holds; absent means 1."""


def request_units(resource: str, amount: int) -> int:
    """A per-replica request in solver units, rounded up."""
    unit = SOLVER_UNIT.get(resource, 1)
    return -(-amount // unit)


def capacity_units(resource: str, amount: int) -> int:
    """Free capacity in solver units, rounded down (never below zero)."""
    unit = SOLVER_UNIT.get(resource, 1)
    return max(amount, 0) // unit
