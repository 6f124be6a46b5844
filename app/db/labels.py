"""Kubernetes label selectors as SQL conditions on a ``jsonb`` labels column."""

import typing

from sqlalchemy import ColumnElement, Numeric, case, cast, false, not_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.kubetypes import LabelSelector, Operator, Requirement

_INTEGER = r"^-?[0-9]+$"
LabelsColumn = InstrumentedAttribute[dict[str, typing.Any]]


def label_clause(labels: LabelsColumn, requirement: Requirement) -> ColumnElement[bool]:
    """The SQL form of one selector requirement on a ``jsonb`` labels column, with Kubernetes
    semantics for missing keys (``NotIn`` and ``!key`` hold when the key is absent)."""
    key, values = requirement.key, list(requirement.values)
    value: ColumnElement[str] = labels[key].astext
    has_key = typing.cast(ColumnElement[bool], labels.has_key(key))
    match requirement.operator:
        case Operator.IN if len(values) == 1:
            return labels.contains({key: values[0]})
        case Operator.IN:
            return value.in_(values)
        case Operator.NOT_IN:
            return or_(not_(has_key), value.not_in(values))
        case Operator.EXISTS:
            return has_key
        case Operator.DOES_NOT_EXIST:
            return not_(has_key)
        case Operator.GT:
            comparison = cast(value, Numeric) > int(values[0])
        case Operator.LT:
            comparison = cast(value, Numeric) < int(values[0])
    return case((value.regexp_match(_INTEGER), comparison), else_=false())


def selector_clauses(labels: LabelsColumn, selector: LabelSelector) -> list[ColumnElement[bool]]:
    """One condition per requirement of ``selector``; all must hold."""
    return [label_clause(labels, requirement) for requirement in selector.requirements]
