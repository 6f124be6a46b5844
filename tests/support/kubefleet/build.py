"""Builds the pinned etcd and Kubernetes control-plane binaries from the Go module proxy.

The Go module files live in ``tools/kube/``; the binaries go to a cache directory outside the
repository keyed by the Kubernetes version, and only the missing ones are built.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_path

KUBERNETES_VERSION = "v1.37.2"
MODULES_DIR = Path(__file__).resolve().parents[3] / "tools" / "kube"
CACHE_ENV = "PLACER_KUBE_CACHE"

_KUBERNETES_PACKAGES = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
}
_ETCD_PACKAGE = "go.etcd.io/etcd/server/v3"
_MINIMUM_GO = (1, 26)  # the `go` line of tools/kube/*/go.mod
_COLD_MINUTES = {"etcd": 1, "k8s": 15}  # measured, see README.md


class GoToolchainMissingError(RuntimeError):
    """No usable `go` command is on PATH, so the test-cluster binaries cannot be built."""

    def __init__(self, found: str = "`go` is not on PATH") -> None:
        super().__init__(
            "The Kubernetes test clusters need Go >= 1.26 to build etcd, kube-apiserver and "
            f"kube-controller-manager once, and {found}. Install Go 1.26 or newer "
            "(https://go.dev/doc/install) and run `make test` or `scripts/testclusters build` "
            "again."
        )


class BuildFailedError(RuntimeError):
    """`go build` exited with an error; the message names the binary and the log."""


@dataclass(frozen=True)
class Binaries:
    """Paths of the control-plane executables of one Kubernetes version."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path

    @classmethod
    def in_directory(cls, directory: Path) -> Binaries:
        return cls(
            etcd=directory / "etcd",
            kube_apiserver=directory / "kube-apiserver",
            kube_controller_manager=directory / "kube-controller-manager",
        )

    def all(self) -> tuple[Path, ...]:
        return (self.etcd, self.kube_apiserver, self.kube_controller_manager)

    def missing(self) -> list[Path]:
        return [path for path in self.all() if not os.access(path, os.X_OK)]


def cache_root() -> Path:
    """Where fleets keep binaries and run directories: ``$PLACER_KUBE_CACHE`` or the user cache."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return user_cache_path("placer") / "kube"


def binaries_directory() -> Path:
    return cache_root() / KUBERNETES_VERSION / "bin"


def installed_binaries() -> Binaries:
    """The binaries of the pinned version, which must already be built."""
    binaries = Binaries.in_directory(binaries_directory())
    missing = binaries.missing()
    if missing:
        names = ", ".join(path.name for path in missing)
        raise FileNotFoundError(
            f"Kubernetes test binaries missing ({names}); run `scripts/testclusters build`"
        )
    return binaries


def ensure_binaries(*, log: bool = True) -> Binaries:
    """Build whichever pinned binaries are missing from the cache and return all their paths.

    Concurrent callers (two test runs on a fresh machine) take turns on a lock, and a binary
    appears in the cache only once complete, so nobody runs a half-written executable.
    """
    binaries = Binaries.in_directory(binaries_directory())
    if not binaries.missing():
        return binaries
    go = _go_command()
    directory = binaries.etcd.parent
    directory.mkdir(parents=True, exist_ok=True)
    with (directory.parent / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = {path.name for path in binaries.missing()}
        with tempfile.TemporaryDirectory(dir=directory.parent, prefix="building-") as staging:
            built = Path(staging)
            if "etcd" in missing:
                _go_build(
                    go, MODULES_DIR / "etcd", [_ETCD_PACKAGE], built / "etcd", "-s -w", log=log
                )
            kube_packages = [pkg for name, pkg in _KUBERNETES_PACKAGES.items() if name in missing]
            if kube_packages:
                _go_build(
                    go, MODULES_DIR / "k8s", kube_packages, built, _kubernetes_ldflags(), log=log
                )
            for name in missing:
                (built / name).replace(directory / name)
    still_missing = binaries.missing()
    if still_missing:
        raise BuildFailedError(f"go build produced no {', '.join(p.name for p in still_missing)}")
    return binaries


def _go_command() -> str:
    go = shutil.which("go")
    if go is None:
        raise GoToolchainMissingError
    reported = subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=False
    ).stdout.strip()
    version = re.match(r"go(\d+)\.(\d+)", reported)
    if version is None or (int(version[1]), int(version[2])) < _MINIMUM_GO:
        raise GoToolchainMissingError(f"{go} is {reported or 'unusable'}")
    return go


def _kubernetes_ldflags() -> str:
    # Without the version stamp `/version` reports v0.0.0-master, which clients refuse to parse.
    major, minor, _patch = KUBERNETES_VERSION.removeprefix("v").split(".")
    stamp = "k8s.io/component-base/version"
    return (
        f"-s -w -X {stamp}.gitVersion={KUBERNETES_VERSION} -X {stamp}.gitMajor={major}"
        f" -X {stamp}.gitMinor={minor} -X {stamp}.gitTreeState=clean"
    )


def _go_build(
    go: str, module: Path, packages: list[str], output: Path, ldflags: str, *, log: bool
) -> None:
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        # The module files pin everything; a newer toolchain or a flag from the developer's
        # environment (-mod=vendor, -race) would build something other than what is pinned.
        "GOTOOLCHAIN": "local",
        "GOFLAGS": "-buildvcs=false -mod=readonly",
    }
    target = f"{output}/" if output.is_dir() else str(output)
    command = [go, "build", "-p", "2", "-trimpath", "-ldflags", ldflags, "-o", target, *packages]
    names = ", ".join(
        [package.rsplit("/", 1)[-1] for package in packages] if output.is_dir() else [output.name]
    )
    if log:
        print(
            f"building {names} in tools/kube/{module.name}/ (without a Go build cache: about"
            f" {_COLD_MINUTES[module.name]} min on 2 cores) ...",
            file=sys.stderr,
        )
    started = time.monotonic()
    result = subprocess.run(command, cwd=module, env=env, check=False)
    if result.returncode != 0:
        raise BuildFailedError(f"`go build` of {names} failed with exit code {result.returncode}")
    if log:
        print(f"built {names} in {time.monotonic() - started:.0f} s", file=sys.stderr)
