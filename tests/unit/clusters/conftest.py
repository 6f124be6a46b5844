"""A guard proving that code under test opens no connection, starts no process, reads no file.

It uses CPython audit hooks rather than patching ``socket`` or ``subprocess``: the hooks see
every connect, process start and file open, whichever module or C extension makes it. Hooks
cannot be removed, so one is installed for the session and does nothing outside the guard.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_FORBIDDEN_EVENTS = {
    "socket.connect",
    "socket.sendto",
    "socket.sendmsg",
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "urllib.Request",
}


class SideEffectError(RuntimeError):
    pass


@dataclass
class Guard:
    """What the code under test tried; ``forbidden_dir`` holds files it must not open."""

    forbidden_dir: Path
    violations: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


_active: list[Guard] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _active:
        return
    guard = _active[-1]
    if event == "socket.getaddrinfo":
        guard.resolved.append(str(args[0]))
    elif event in _FORBIDDEN_EVENTS:
        guard.violations.append(event)
        raise SideEffectError(f"code under test attempted {event}")
    elif event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(str(guard.forbidden_dir)):
            guard.violations.append(f"open {path}")
            raise SideEffectError(f"code under test opened {path}")


sys.addaudithook(_audit)


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    """Files a hostile kubeconfig names; the code under test must never open them."""
    directory = tmp_path / "hostile"
    directory.mkdir()
    for name in ("token", "ca.crt", "client.crt", "client.key"):
        (directory / name).write_text("not to be read\n")
    return directory


@pytest.fixture
def no_side_effects(hostile_dir: Path) -> Iterator[Guard]:
    """Fail the test if what it runs connects, spawns a process or opens a hostile file."""
    guard = Guard(forbidden_dir=hostile_dir.resolve())
    _active.append(guard)
    try:
        yield guard
    finally:
        _active.remove(guard)
    assert guard.violations == [], f"side effects: {guard.violations}"
