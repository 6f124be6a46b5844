"""Batch optimizer benchmark: time, certified gap, cost and placements against greedy.

Run: ``.venv/bin/python bench/bench_optimizer.py`` (all sizes) or
``.venv/bin/python bench/bench_optimizer.py --sizes 1000x20 --seeds 1 2 3``.

Instances come from :mod:`bench.optimizer_instances` (its docstring describes them). Per
size the solver gets the goal's time limit and stops as soon as its certified gap meets the
goal, so ``time`` is the time to an answer that meets it. Columns:

* ``time``: wall time to the answer, instance generation excluded;
* ``gap``: (cost - certified lower bound) / |lower bound| (see ``app.scheduling.optimizer
  .bound`` for what the bound is);
* ``vs greedy``: the answer's cost relative to the largest-first greedy's cost; greedy pays
  nothing for the workloads it leaves Pending, so a positive figure is the price of placing
  them;
* ``greedy pending`` / ``pending``: workloads each leaves unplaced;
* ``load``: the 1-minute load average when the answer came (the goals assume 2 idle cores;
  figures measured above a load of 2 are slower than the goals mean).
"""

import argparse
import os
import time

from optimizer_instances import generate

from app.scheduling.optimizer import SolverConfig, solve_batch, violations

GOALS = {
    (1_000, 20): (5.0, 0.001),
    (10_000, 100): (10.0, 0.01),
    (50_000, 200): (60.0, 0.02),
}
"""(workloads, clusters) -> (seconds, gap) from the issue."""


def _size(text: str) -> tuple[int, int]:
    workloads, clusters = text.lower().split("x")
    return int(workloads), int(clusters)


def main() -> None:
    """Print one row per (size, seed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [_size(t) for t in s.split(",")])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = args.sizes or list(GOALS)
    print(
        f"{'size':>12} {'seed':>4} {'time s':>7} {'gap %':>7} {'vs greedy %':>11} "
        f"{'greedy pending':>15} {'pending':>7} {'status':>10} {'load':>5} {'goal':>14}"
    )
    for n_workloads, n_clusters in sizes:
        seconds, gap_goal = GOALS.get((n_workloads, n_clusters), (60.0, 0.02))
        for seed in args.seeds:
            problem = generate(n_workloads, n_clusters, seed)
            config = SolverConfig(
                time_limit=seconds, num_workers=args.workers, relative_gap_limit=gap_goal
            )
            started = time.monotonic()
            result = solve_batch(problem, config)
            elapsed = time.monotonic() - started
            assert not violations(problem, result.x)
            gap = "n/a" if result.gap is None else f"{100 * result.gap:.3f}"
            versus = 100 * (result.cost - result.greedy_cost) / max(abs(result.greedy_cost), 1)
            print(
                f"{n_workloads:>6}x{n_clusters:<5} {seed:>4} {elapsed:>7.2f} {gap:>7} "
                f"{versus:>+11.2f} {result.greedy_unplaced:>15} {len(result.unplaced):>7} "
                f"{result.status:>10} {os.getloadavg()[0]:>5.1f} "
                f"{f'{100 * gap_goal:g}% in {seconds:g}s':>14}",
                flush=True,
            )


if __name__ == "__main__":
    main()
