"""``scripts/testclusters``: build the binaries and run test clusters from a shell.

scripts/testclusters build        # go build whatever is missing from the cache
scripts/testclusters up 3         # start 3 clusters; prints one kubeconfig path per line
scripts/testclusters status
scripts/testclusters down         # stop them (--all: also fleets left by killed test runs)
"""

from __future__ import annotations

import argparse
import sys

from tests.support.kubefleet.build import (
    KUBERNETES_VERSION,
    BuildFailedError,
    GoToolchainMissingError,
    ensure_binaries,
)
from tests.support.kubefleet.fleet import (
    Fleet,
    FleetAlreadyRunningError,
    read_fleet_state,
    runs_directory,
    stop_fleet_directory,
)
from tests.support.kubefleet.processes import ProcessExitedError, live_recorded_processes
from tests.support.kubefleet.specs import default_fleet

CLI_FLEET = "cli"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="testclusters", description="Real Kubernetes clusters for Placer's tests."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help=f"build etcd and Kubernetes {KUBERNETES_VERSION} binaries")
    up = commands.add_parser("up", help="start clusters and print their kubeconfig paths")
    up.add_argument("count", type=int, nargs="?", default=3, help="number of clusters (3)")
    down = commands.add_parser("down", help="stop the clusters started with `up`")
    down.add_argument(
        "--all", action="store_true", help="also stop fleets left behind by killed test runs"
    )
    commands.add_parser("status", help="list running fleets")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "build":
            binaries = ensure_binaries()
            for path in binaries.all():
                print(path)
        elif arguments.command == "up":
            _up(arguments.count)
        elif arguments.command == "down":
            _down(everything=arguments.all)
        else:
            _status()
    except GoToolchainMissingError as error:
        print(f"testclusters: {error}", file=sys.stderr)
        return 3
    except (
        BuildFailedError,
        FleetAlreadyRunningError,
        ProcessExitedError,
        TimeoutError,
        ValueError,
    ) as error:
        print(f"testclusters: {error}", file=sys.stderr)
        return 1
    return 0


def _up(count: int) -> None:
    binaries = ensure_binaries()
    fleet = Fleet.start(default_fleet(count), CLI_FLEET, detached=True, binaries=binaries)
    for cluster in fleet.clusters:
        print(cluster.kubeconfig_path)
    print(
        f"{len(fleet.clusters)} clusters up ({', '.join(c.name for c in fleet.clusters)}).\n"
        f"All contexts: KUBECONFIG={fleet.kubeconfig_path} kubectl --context "
        f"{fleet.clusters[0].name} get nodes\nStop with: scripts/testclusters down",
        file=sys.stderr,
    )


def _down(*, everything: bool) -> None:
    root = runs_directory()
    directories = sorted(root.iterdir()) if everything and root.is_dir() else [root / CLI_FLEET]
    for directory in directories:
        if directory.is_dir():
            stopped = stop_fleet_directory(directory)
            print(f"{directory.name}: stopped {len(stopped)} processes", file=sys.stderr)


def _status() -> None:
    root = runs_directory()
    fleets = sorted(root.iterdir()) if root.is_dir() else []
    if not fleets:
        print("no fleets", file=sys.stderr)
    for directory in fleets:
        live = live_recorded_processes(directory)
        print(f"{directory.name}: {len(live)} processes running")
        try:
            state = read_fleet_state(directory)
        except (OSError, ValueError):
            continue
        for cluster in state["clusters"]:
            print(f"  {cluster['name']:<16} {cluster['server']:<26} {cluster['kubeconfig']}")


if __name__ == "__main__":
    sys.exit(main())
