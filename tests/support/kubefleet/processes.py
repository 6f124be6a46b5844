"""Child processes of a fleet that never outlive it.

Each child runs in its own session (so a terminal's Ctrl-C reaches only the test runner,
which then stops the fleet in order) and leaves a pid file beside its log, so that
``testclusters down`` or the next test session can stop it even after its parent was killed.
Children of a fleet owned by a running process also get SIGKILL from the kernel when that
process dies (``PR_SET_PDEATHSIG``), which covers ``kill -9`` of the test runner.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_STOP_TIMEOUT_SECONDS = 15.0


class ProcessExitedError(RuntimeError):
    """A child process exited while it was expected to run; the message quotes its log."""


class ManagedProcess:
    """One long-running child with a log file and a pid file named after it in directory."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        directory: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = directory / f"{name}.log"
        self.pid_path = directory / f"{name}.pid"
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self, *, die_with_parent: bool) -> None:
        if self.running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if die_with_parent else None,  # noqa: PLW1509
            )
        self.pid_path.write_text(f"{self._popen.pid}\n")

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def ensure_running(self) -> None:
        """Raise ProcessExitedError, quoting the log's tail, if the process has exited."""
        if self._popen is None:
            raise ProcessExitedError(f"{self.name} was never started")
        code = self._popen.poll()
        if code is not None:
            raise ProcessExitedError(
                f"{self.name} exited with code {code}; last log lines from {self.log_path}:\n"
                + log_tail(self.log_path)
            )

    def stop(self, timeout: float = _STOP_TIMEOUT_SECONDS) -> None:
        if self._popen is not None:
            _signal_group(self._popen.pid, signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self._popen.pid, signal.SIGKILL)
                self._popen.wait()
            self._popen = None
        self.pid_path.unlink(missing_ok=True)


def stop_recorded_processes(directory: Path, timeout: float = _STOP_TIMEOUT_SECONDS) -> list[str]:
    """Stop every process that left a pid file under directory and still runs from it.

    A pid is only signalled when its command line mentions directory, so a pid reused by an
    unrelated process after a reboot is left alone. Returns the names of the stopped processes.
    """
    marker = str(directory)
    stopped: list[str] = []
    pending: dict[int, Path] = {}
    for pid_path in sorted(directory.rglob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_path.read_text().strip())
            if marker in _command_line(pid):
                _signal_group(pid, signal.SIGTERM)
                pending[pid] = pid_path
                stopped.append(pid_path.stem)
        pid_path.unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = {pid: path for pid, path in pending.items() if _alive(pid)}
        time.sleep(0.1)
    for pid in pending:
        _signal_group(pid, signal.SIGKILL)
    return stopped


def live_recorded_processes(directory: Path) -> list[str]:
    """Names of the processes with a pid file under directory that still run from it."""
    marker = str(directory)
    live = []
    for pid_path in sorted(directory.rglob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_path.read_text().strip())
            if _alive(pid) and marker in _command_line(pid):
                live.append(f"{pid_path.parent.name}/{pid_path.stem}")
    return live


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    check: Callable[[], None] = lambda: None,
    interval: float = 0.2,
) -> None:
    """Poll condition until true; check raises early (e.g. a process died); TimeoutError after."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        if condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def process_alive(pid: int) -> bool:
    return _alive(pid)


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    # Every child leads its own session, so its process group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie has exited; it only waits for a parent that may never reap it.
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
