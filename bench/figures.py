"""How the benchmarks compute and print their figures; standard library only.

bench_scheduling measures garbage-collector pauses in its own process, so what it shares
with the server benchmarks lives here, apart from :mod:`harness` and the httpx it loads.
"""

import os


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the sample ``fraction`` of the way up the sorted list."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(label: str, count: int, seconds: float, latencies_ms: list[float]) -> None:
    p50, p99 = percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.99)
    print(
        f"{label}: {count} requests in {seconds:.1f}s = {count / seconds:,.0f} req/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
