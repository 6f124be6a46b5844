"""Kubernetes value syntax shared by every layer: quantities, names, labels, selectors, taints.

Pure functions and frozen value types with no I/O, so the scheduling core, the REST schemas and
the Kubernetes driver all read and write these values the same way Kubernetes does.
Every parse error is a :class:`KubeSyntaxError` subclass carrying the relative field it concerns.
"""

from app.kubetypes.errors import KubeSyntaxError
from app.kubetypes.labels import (
    LabelError,
    LabelSelector,
    Operator,
    Requirement,
    parse_label_selector,
    validate_label_key,
    validate_label_value,
    validate_labels,
)
from app.kubetypes.names import InvalidNameError, validate_dns1123_label, validate_dns1123_subdomain
from app.kubetypes.quantity import (
    QuantityError,
    format_resource,
    parse_quantity,
    parse_resource,
)
from app.kubetypes.taints import Taint, TaintEffect, TaintError, Toleration, untolerated_taints

__all__ = [
    "InvalidNameError",
    "KubeSyntaxError",
    "LabelError",
    "LabelSelector",
    "Operator",
    "QuantityError",
    "Requirement",
    "Taint",
    "TaintEffect",
    "TaintError",
    "Toleration",
    "format_resource",
    "parse_label_selector",
    "parse_quantity",
    "parse_resource",
    "untolerated_taints",
    "validate_dns1123_label",
    "validate_dns1123_subdomain",
    "validate_label_key",
    "validate_label_value",
    "validate_labels",
]
