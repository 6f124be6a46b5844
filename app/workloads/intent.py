"""Placement intent as the API takes it, checked and turned into the scheduler's form.

Every error is an :class:`~app.errors.InvalidInput` naming the field as the client spelled
it, e.g. ``placement.clusterSelector.matchExpressions[0].operator``.
"""

from collections.abc import Mapping
from typing import Any

from app.errors import InvalidInput
from app.kubetypes import (
    InvalidNameError,
    KubeSyntaxError,
    LabelSelector,
    Toleration,
    validate_dns1123_label,
)
from app.scheduling.types import (
    MICROS,
    AffinityTerm,
    DivideBy,
    PlacementSpec,
    SpreadBy,
    Strategy,
)
from app.workloads.schemas import AffinityTermSpec, LabelSelectorSpec, PlacementIntent

_PARAMETERS: Mapping[str, Strategy] = {
    "min_spread": Strategy.SPREAD,
    "spread_by": Strategy.SPREAD,
    "divide_by": Strategy.DIVIDED,
    "weights": Strategy.DIVIDED,
    "copies": Strategy.DUPLICATED,
}
_API_NAMES = {
    "min_spread": "minSpread",
    "spread_by": "spreadBy",
    "divide_by": "divideBy",
    "weights": "weights",
    "copies": "copies",
}


def _selector(spec: LabelSelectorSpec, field: str) -> LabelSelector:
    try:
        return LabelSelector.from_spec(spec.model_dump(mode="json", by_alias=True))
    except KubeSyntaxError as exc:
        raise InvalidInput(exc.message, field=f"{field}.{exc.field}".rstrip(".")) from exc


def _terms(terms: list[AffinityTermSpec], field: str) -> tuple[AffinityTerm, ...]:
    parsed = []
    for index, term in enumerate(terms):
        where = f"{field}[{index}]"
        for position, namespace in enumerate(term.namespaces):
            if namespace == "*":
                continue
            try:
                validate_dns1123_label(namespace)
            except InvalidNameError as exc:
                raise InvalidInput(exc.message, field=f"{where}.namespaces[{position}]") from exc
        selector = _selector(term.label_selector, f"{where}.labelSelector")
        parsed.append(AffinityTerm(selector, term.weight, tuple(term.namespaces)))
    return tuple(parsed)


def _tolerations(intent: PlacementIntent) -> tuple[Toleration, ...]:
    parsed = []
    for index, toleration in enumerate(intent.tolerations):
        spec = toleration.model_dump(mode="json", by_alias=True, exclude_none=True)
        try:
            parsed.append(Toleration.from_spec(spec))
        except KubeSyntaxError as exc:
            raise InvalidInput(
                exc.message, field=f"placement.tolerations[{index}].{exc.field}"
            ) from exc
    return tuple(parsed)


def _check_parameters(intent: PlacementIntent) -> None:
    for name, strategy in _PARAMETERS.items():
        if getattr(intent, name) is not None and intent.strategy is not strategy:
            raise InvalidInput(
                f"only applies to strategy {strategy}, not {intent.strategy}",
                field=f"placement.{_API_NAMES[name]}",
            )
    if intent.strategy is Strategy.DIVIDED:
        if intent.divide_by is DivideBy.WEIGHTS and not intent.weights:
            raise InvalidInput("dividing by weights needs weights", field="placement.weights")
        if intent.weights and intent.divide_by is not DivideBy.WEIGHTS:
            raise InvalidInput("weights need divideBy: weights", field="placement.divideBy")
    for cluster, weight in (intent.weights or {}).items():
        try:
            validate_dns1123_label(cluster)
        except InvalidNameError as exc:
            raise InvalidInput(exc.message, field=f"placement.weights.{cluster}") from exc
        if weight < 0:
            raise InvalidInput("must be zero or more", field=f"placement.weights.{cluster}")


def placement_spec(intent: PlacementIntent) -> PlacementSpec:
    """The scheduler's form of ``intent``: money in micro-units, selectors parsed."""
    _check_parameters(intent)
    cost = intent.max_hourly_cost
    return PlacementSpec(
        strategy=intent.strategy,
        min_spread=intent.min_spread or 1,
        spread_by=intent.spread_by or SpreadBy.CLUSTER,
        divide_by=intent.divide_by or DivideBy.CAPACITY,
        weights=intent.weights or {},
        copies=intent.copies or 1,
        cluster_selector=(
            _selector(intent.cluster_selector, "placement.clusterSelector")
            if intent.cluster_selector is not None
            else None
        ),
        tolerations=_tolerations(intent),
        affinity=_terms(intent.affinity, "placement.affinity"),
        anti_affinity=_terms(intent.anti_affinity, "placement.antiAffinity"),
        max_hourly_cost=None if cost is None else int(cost * MICROS),
    )


def intent_document(intent: PlacementIntent) -> dict[str, Any]:
    """The intent as stored and shown: what the client sent, defaults filled, nulls dropped."""
    return intent.model_dump(mode="json", by_alias=True, exclude_none=True)
