"""The CP-SAT model over groups of interchangeable workloads, and its translation back.

One integer per (group, cluster) counts the group's members there (``single``,
``duplicated``) or its replicas there (``divided``); workloads alone in their group get the
full per-workload model (presence booleans for spread and anti-affinity, move variables).
Each group may be restricted to a subset of its allowed clusters (its *columns*): the answer
is then optimal for that restriction only, and CP-SAT's bound is only valid when every
group keeps all its allowed clusters (the caller knows which).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from app.scheduling.optimizer.aggregation import Groups
from app.scheduling.optimizer.problem import BatchProblem, IntArray, Layout


@dataclass(frozen=True)
class CpSatParameters:
    """What CP-SAT may spend: wall time, workers, seed, when to stop, determinism.

    ``stop_at_objective``: stop at the first solution at or below it (a target met against
    a bound CP-SAT does not know, such as the Lagrangian bound of the full batch).
    """

    time_limit: float
    num_workers: int
    random_seed: int
    relative_gap_limit: float
    deterministic_time_limit: float | None = None
    stop_at_objective: float | None = None


class _StopAtObjective(cp_model.CpSolverSolutionCallback):
    def __init__(self, target: float) -> None:
        super().__init__()
        self._target = target

    def on_solution_callback(self) -> None:
        if self.objective_value <= self._target:
            self.stop_search()


@dataclass(frozen=True)
class CpSatAnswer:
    """CP-SAT's outcome. ``x`` is ``None`` when it found no solution.

    ``deterministic_time`` is the work CP-SAT spent, in its machine-independent units.
    """

    x: IntArray | None
    status: str
    objective: int | None
    bound: float
    wall_time: float
    deterministic_time: float


@dataclass
class _GroupVars:
    columns: IntArray
    counts: list[cp_model.IntVar]
    placed: cp_model.IntVar
    presence: list[cp_model.IntVar] | None = None
    moves: dict[int, cp_model.IntVar] | None = None


class GroupModel:
    """A CP-SAT model of ``problem`` over ``groups``, each restricted to ``columns[g]``.

    Solved lexicographically: :meth:`most_placed`, then :meth:`cheapest` with the count of
    placed workloads held (CP-SAT handles the two objectives far better apart than as one
    big-M sum).
    """

    def __init__(self, problem: BatchProblem, groups: Groups, columns: Sequence[IntArray]) -> None:
        self.problem = problem
        self.groups = groups
        self.model = cp_model.CpModel()
        self.vars: list[_GroupVars] = []
        self._terms: list[tuple[cp_model.IntVar, int]] = []
        self._constant = 0
        n_c, n_r = problem.n_clusters, len(problem.resource_names)
        self._usage: list[list[list[tuple[cp_model.IntVar, int]]]] = [
            [[] for _ in range(n_r)] for _ in range(n_c)
        ]
        n_teams = 0 if problem.team_budget is None else len(problem.team_budget)
        self._team_spend: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(n_teams)]
        self._placed: list[cp_model.IntVar] = []
        self._cost = problem.effective_cost()
        self._current = problem.current_or_zero()
        self._spend = problem.spend_rate()
        for g, cols in enumerate(columns):
            self.vars.append(self._add_group(g, np.asarray(cols, dtype=np.int64)))
        self._add_shared_constraints()

    def _add_group(self, g: int, cols: IntArray) -> _GroupVars:
        problem, model = self.problem, self.model
        w = int(self.groups.first[g])
        size = len(self.groups.members[g])
        layout = Layout(problem.layout[w])
        replicas, copies = int(problem.replicas[w]), int(problem.count[w])
        cost = self._cost[w]
        current = self._current[w]
        pen = problem.move_penalty
        self._constant += size * pen * int(current.sum())
        placed = model.new_int_var(0, size, "")
        self._placed.append(placed)
        if layout in (Layout.SINGLE, Layout.DUPLICATED):
            counts = [model.new_int_var(0, size, "") for _ in cols]
            need = 1 if layout is Layout.SINGLE else copies
            model.add(sum(counts) == need * placed)
            if layout is Layout.DUPLICATED:
                for v in counts:
                    model.add(v <= placed)
            for v, c in zip(counts, cols, strict=True):
                kept = pen * min(int(current[c]), replicas)
                self._terms.append((v, replicas * int(cost[c]) - kept))
                self._account(w, v, int(c), replicas)
            self._cap_spend(w, counts, cols, replicas, size)
            return _GroupVars(cols, counts, placed, presence=counts if size == 1 else None)
        counts = [model.new_int_var(0, size * replicas, "") for _ in cols]
        model.add(sum(counts) == replicas * placed)
        for y, c in zip(counts, cols, strict=True):
            self._terms.append((y, int(cost[c])))
            self._account(w, y, int(c), 1)
        self._cap_spend(w, counts, cols, 1, size)
        if size > 1:
            return _GroupVars(cols, counts, placed)
        presence = [model.new_bool_var("") for _ in cols]
        for y, b in zip(counts, presence, strict=True):
            model.add(y <= replicas * b)
            model.add(y >= b)
        if layout is Layout.SPREAD:
            model.add(sum(presence) >= copies * placed)
        moves: dict[int, cp_model.IntVar] = {}
        column_of = {int(c): i for i, c in enumerate(cols)}
        for c in np.flatnonzero(current):
            if int(c) not in column_of:
                continue
            m = model.new_int_var(0, int(current[c]), "")
            model.add(m >= int(current[c]) - counts[column_of[int(c)]])
            moves[int(c)] = m
            self._terms.append((m, pen))
            self._constant -= pen * int(current[c])
        return _GroupVars(cols, counts, placed, presence=presence, moves=moves)

    def _account(self, w: int, var: cp_model.IntVar, c: int, per_unit: int) -> None:
        for r in np.flatnonzero(self.problem.requests[w]):
            self._usage[c][r].append((var, per_unit * int(self.problem.requests[w, r])))

    def _cap_spend(
        self, w: int, counts: list[cp_model.IntVar], cols: IntArray, per_unit: int, size: int
    ) -> None:
        problem = self.problem
        spend = [(v, per_unit * int(self._spend[w, c])) for v, c in zip(counts, cols, strict=True)]
        spend = [(v, k) for v, k in spend if k]
        if not spend:
            return
        cap = -1 if problem.max_hourly_cost is None else int(problem.max_hourly_cost[w])
        if cap >= 0 and size == 1:
            self.model.add(
                cp_model.LinearExpr.weighted_sum([v for v, _ in spend], [k for _, k in spend])
                <= cap
            )
        if problem.team_budget is not None and problem.team is not None:
            self._team_spend[int(problem.team[w])].extend(spend)

    def _add_shared_constraints(self) -> None:
        problem, model = self.problem, self.model
        for c, per_resource in enumerate(self._usage):
            for r, terms in enumerate(per_resource):
                if terms:
                    expr = cp_model.LinearExpr.weighted_sum(
                        [v for v, _ in terms], [k for _, k in terms]
                    )
                    model.add(expr <= int(problem.capacity[c, r]))
        if problem.team_budget is not None:
            for t, terms in enumerate(self._team_spend):
                budget = int(problem.team_budget[t])
                if budget >= 0 and terms:
                    expr = cp_model.LinearExpr.weighted_sum(
                        [v for v, _ in terms], [k for _, k in terms]
                    )
                    model.add(expr <= budget)
        for a, b in problem.anti_affinity:
            va, vb = self.vars[self.groups.of[a]], self.vars[self.groups.of[b]]
            if va.presence is None or vb.presence is None:
                raise ValueError("anti-affine workloads must be alone in their groups")
            index_b = {int(c): i for i, c in enumerate(vb.columns)}
            for i, c in enumerate(va.columns):
                j = index_b.get(int(c))
                if j is not None:
                    model.add(va.presence[i] + vb.presence[j] <= 1)
        self.cost = (
            cp_model.LinearExpr.weighted_sum(
                [v for v, _ in self._terms], [k for _, k in self._terms]
            )
            + self._constant
        )
        self.placed = cp_model.LinearExpr.sum(self._placed)

    def hint(self, x: IntArray) -> None:
        """Hint a complete placement ``x`` (its clusters must be among the columns)."""
        current = self.problem.current_or_zero()
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for g, gv in enumerate(self.vars):
            members = self.groups.members[g]
            sub = x[np.ix_(members, gv.columns)]
            self.model.add_hint(gv.placed, int((x[members].sum(axis=1) > 0).sum()))
            w = int(self.groups.first[g])
            if Layout(self.problem.layout[w]) in (Layout.SINGLE, Layout.DUPLICATED):
                values = (sub > 0).sum(axis=0)
            else:
                values = sub.sum(axis=0)
            for v, value in zip(gv.counts, values, strict=True):
                self.model.add_hint(v, int(value))
            if gv.presence is not None and gv.presence is not gv.counts:
                for b, value in zip(gv.presence, sub[0] > 0, strict=True):
                    self.model.add_hint(b, bool(value))
            for c, m in (gv.moves or {}).items():
                self.model.add_hint(m, max(0, int(current[w, c] - x[w, c])))

    def most_placed(self, params: CpSatParameters) -> CpSatAnswer:
        """Maximize the number of placed workloads (objective and bound count workloads)."""
        self.model.maximize(self.placed)
        return self._run(params)

    def cheapest(self, params: CpSatParameters, min_placed: int) -> CpSatAnswer:
        """Minimize cost among placements that place at least ``min_placed`` workloads."""
        self.model.add(self.placed >= min_placed)
        self.model.minimize(self.cost)
        return self._run(params)

    def _run(self, params: CpSatParameters) -> CpSatAnswer:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(params.time_limit, 0.01)
        solver.parameters.num_workers = params.num_workers
        solver.parameters.random_seed = params.random_seed
        solver.parameters.relative_gap_limit = params.relative_gap_limit
        if params.deterministic_time_limit is not None:
            solver.parameters.max_deterministic_time = params.deterministic_time_limit
        callback = None
        if params.stop_at_objective is not None:
            callback = _StopAtObjective(params.stop_at_objective)
        status = solver.solve(self.model, callback)
        name = solver.status_name(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return CpSatAnswer(
                None, name, None, float("-inf"), solver.wall_time, solver.deterministic_time
            )
        return CpSatAnswer(
            self._placement(solver),
            name,
            int(solver.objective_value),
            float(solver.best_objective_bound),
            solver.wall_time,
            solver.deterministic_time,
        )

    def _placement(self, solver: cp_model.CpSolver) -> IntArray:
        problem = self.problem
        x = np.zeros((problem.n_workloads, problem.n_clusters), dtype=np.int64)
        for g, gv in enumerate(self.vars):
            members = self.groups.members[g]
            w = int(self.groups.first[g])
            layout = Layout(problem.layout[w])
            replicas = int(problem.replicas[w])
            placed = int(solver.value(gv.placed))
            values = [int(solver.value(v)) for v in gv.counts]
            if layout is Layout.SINGLE:
                slots = np.repeat(gv.columns, values)
                x[members[: len(slots)], slots] = replicas
            elif layout is Layout.DUPLICATED:
                slots = np.repeat(gv.columns, values)
                owners = members[np.arange(len(slots)) % max(placed, 1)]
                x[owners, slots] = replicas
            else:
                pool = np.repeat(gv.columns, values)
                for i, w_member in enumerate(members[:placed]):
                    np.add.at(x[w_member], pool[i * replicas : (i + 1) * replicas], 1)
        return x
