"""What a filter or check says about a cluster or a placement: a code and reasons in words."""

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    """What happens next, as in the kube-scheduler framework.

    ``Unschedulable``: the cluster could take the workload if its state changed (capacity);
    ``UnschedulableAndUnresolvable``: it cannot without a change of intent or policy;
    ``Error``: the plugin failed, and the cluster is rejected to stay safe.
    """

    UNSCHEDULABLE = "Unschedulable"
    UNRESOLVABLE = "UnschedulableAndUnresolvable"
    ERROR = "Error"


@dataclass(frozen=True)
class Status:
    """Why ``plugin`` rejected a cluster or a placement.

    ``message`` is the detailed sentence for this cluster; ``reason`` is short and shared by
    clusters rejected for the same cause, so a summary can count them ("lack 4 CPU",
    "rejected by personal-data-stays-in-japan"); ``remedy`` says what would lift it.
    """

    code: Code
    plugin: str
    message: str
    reason: str
    remedy: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form."""
        return {
            "code": str(self.code),
            "plugin": self.plugin,
            "message": self.message,
            "reason": self.reason,
            "remedy": self.remedy,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> "Status":
        """Inverse of :meth:`to_dict`."""
        return cls(
            Code(data["code"]), data["plugin"], data["message"], data["reason"], data["remedy"]
        )
