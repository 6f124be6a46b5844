"""JSON forms of stored workloads and decisions (the ``WorkloadRead`` and ``DecisionRead``
schemas), built as plain data: lists render many of them, and pydantic models would cost
several times more than the query."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.api.etag import etag_for
from app.audit.redaction import REDACTED
from app.db.models import Decision as DecisionRecord
from app.db.models import Workload
from app.kubetypes import format_resource
from app.scheduling.decision import Decision
from app.scheduling.serialization import workload_to_dict
from app.workloads.manifests import SECRET_FIELDS, ManifestError
from app.workloads.repository import PlacementView


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def restore_redacted_secrets(
    submitted: Sequence[Mapping[str, Any]], stored: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The submitted manifests with every redaction marker replaced by the stored value.

    A client that reads a workload, changes it and sends it back returns Secret values as
    ``[redacted]``; those mean "keep what is stored", so a read-modify-write never overwrites a
    secret with the marker. A marker for a value that is not stored is refused.
    """
    stored_secrets = {
        str(m.get("metadata", {}).get("name")): m for m in stored if m.get("kind") == "Secret"
    }
    restored: list[dict[str, Any]] = []
    for index, manifest in enumerate(submitted):
        copy = dict(manifest)
        if copy.get("kind") == "Secret" and isinstance(copy.get("metadata"), Mapping):
            previous = stored_secrets.get(str(copy["metadata"].get("name")), {})
            for field in SECRET_FIELDS:
                values = copy.get(field)
                if not isinstance(values, Mapping):
                    continue
                kept = previous.get(field) or {}
                copy[field] = {}
                for key, value in values.items():
                    if value == REDACTED and key not in kept:
                        raise ManifestError(
                            f"is {REDACTED!r}, which keeps a stored value, but the stored "
                            "Secret has none: send the value itself",
                            f"manifests[{index}].{field}.{key}",
                        )
                    copy[field][key] = kept[key] if value == REDACTED else value
        restored.append(copy)
    return restored


def redact_secrets(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The manifests with every Secret's values hidden: reads and the audit trail show which
    keys a Secret has, never what they hold (only the reconciler reads the stored values)."""
    shown: list[dict[str, Any]] = []
    for manifest in manifests:
        if manifest.get("kind") == "Secret":
            copy = dict(manifest)
            for field in SECRET_FIELDS:
                values = copy.get(field)
                if isinstance(values, Mapping):
                    copy[field] = dict.fromkeys(values, REDACTED)
            shown.append(copy)
        else:
            shown.append(dict(manifest))
    return shown


def unpriced_note(cluster: str) -> str:
    """What a decision and a workload read say about a cluster priced at zero for want of a
    price book: its cost is not free, only unknown."""
    return f"cluster {cluster} has no price book: cost unknown, treated as 0"


def workload_document(workload: Workload, placements: Sequence[PlacementView]) -> dict[str, Any]:
    """A stored workload with its desired placements."""
    requests = workload.spec["requests"]
    return {
        "id": str(workload.id),
        "name": workload.name,
        "namespace": workload.namespace,
        "team": workload.team,
        "labels": workload.labels,
        "kind": workload.kind,
        "replicas": workload.replicas,
        "requests": {
            resource: {"amount": amount, "quantity": format_resource(resource, amount)}
            for resource, amount in requests.items()
        },
        "manifests": redact_secrets(workload.manifests),
        "placement": workload.placement,
        "disruption": workload.disruption,
        "revision": workload.revision,
        "status": workload.status,
        "statusMessage": workload.status_message,
        "deletionRequested": workload.deletion_requested,
        "desiredGeneration": workload.desired_generation,
        "placements": [
            {
                "cluster": placement.cluster,
                "replicas": placement.replicas,
                "readyReplicas": placement.ready,
                "priceBook": placement.price_book,
            }
            for placement in placements
        ],
        "notes": [unpriced_note(p.cluster) for p in placements if p.price_book is None],
        "resourceVersion": workload.version,
        "etag": etag_for(workload.id, workload.version),
        "createdAt": timestamp(workload.created_at),
        "updatedAt": timestamp(workload.updated_at),
    }


_INPUTS = ("workload", "snapshot", "profile", "policies", "now")


def decision_record(decision: Decision, snapshot_document: Mapping[str, Any]) -> dict[str, Any]:
    """``decision.to_dict()``, with the snapshot's JSON form given rather than rebuilt: many
    decisions share one snapshot, and rendering it costs more than deciding."""
    return {
        "workload": workload_to_dict(decision.workload),
        "snapshot": snapshot_document,
        "profile": decision.profile.to_dict(),
        "policies": {
            "sources": list(decision.policy_sources),
            "versions": decision.policy_versions,
        },
        "now": decision.now.isoformat(),
        **decision.outcome(),
    }


def decision_document(
    stored: Mapping[str, Any],
    *,
    method: str,
    decided_at: datetime,
    price_book_versions: Mapping[str, int],
    record: DecisionRecord | None = None,
) -> dict[str, Any]:
    """A decision as the API shows it; ``stored`` is what the ``decisions.decision`` column
    holds (``Decision.to_dict()`` for the scheduler), ``record`` its row once stored."""
    return {
        "id": None if record is None else str(record.id),
        "workloadId": None if record is None else str(record.workload_id),
        "revision": None if record is None else record.revision,
        "method": method,
        "outcome": "placed" if stored["placed"] else "unschedulable",
        "decidedAt": timestamp(decided_at),
        "summary": stored["summary"],
        "assignment": stored["assignment"],
        "cost": stored["cost"],
        "alternative": stored["alternative"],
        "verdicts": stored["verdicts"],
        "remedies": stored["remedies"],
        "notes": [*stored["notes"], *_unpriced_notes(stored)],
        "policyVersions": stored["policies"]["versions"],
        "priceBookVersions": dict(price_book_versions),
        "batch": stored.get("batch"),
        "inputs": {key: stored[key] for key in _INPUTS if key in stored},
    }


def _unpriced_notes(stored: Mapping[str, Any]) -> list[str]:
    """Notes on the clusters of the placement and of its alternative that the snapshot priced
    at zero for want of a price book (``UNPRICED`` in :mod:`app.placements.snapshot`), read
    from the stored snapshot: the scheduling core compares their zero like any other cost."""
    involved = set(stored["assignment"])
    if stored["alternative"] is not None:
        involved.update(stored["alternative"]["assignment"])
    return [
        unpriced_note(cluster["name"])
        for cluster in stored["snapshot"]["clusters"]
        if cluster["name"] in involved and not cluster["price"]["book"]
    ]


def stored_decision_document(record: DecisionRecord) -> dict[str, Any]:
    """The JSON form of a stored decision row."""
    return decision_document(
        record.decision,
        method=record.method,
        decided_at=record.created_at,
        price_book_versions=record.price_book_versions,
        record=record,
    )
