"""The scheduler the service decides with: the shipped profile and the policies loaded at start."""

from pathlib import Path

from fastapi import Request

from app.policies import PolicyError, PolicySet, load_directory
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.scheduler import Scheduler


class PolicyLoadError(RuntimeError):
    """The policy directory cannot be loaded; the service refuses to start."""


def load_scheduler(policies_dir: Path) -> Scheduler:
    """A scheduler over every ``*.yaml`` document in ``policies_dir``.

    Raises :class:`PolicyLoadError` naming the directory, file, document and field when the
    directory is missing or a document is invalid: deciding without a policy someone meant to
    enforce would place workloads where they must not run.
    """
    if not policies_dir.is_dir():
        raise PolicyLoadError(
            f"policy directory {policies_dir} does not exist; set PLACER_POLICIES_DIR"
        )
    try:
        documents = load_directory(policies_dir)
    except PolicyError as exc:
        raise PolicyLoadError(f"invalid policy in {policies_dir}: {exc}") from exc
    return Scheduler(DEFAULT_PROFILE, PolicySet(documents))


def current_scheduler(request: Request) -> Scheduler:
    """The scheduler the application loaded at start (a request dependency)."""
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler
