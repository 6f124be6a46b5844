"""The ``labelSelector`` query parameter that list routes share."""

from typing import Annotated

from fastapi import Query

from app.errors import InvalidInput
from app.kubetypes import KubeSyntaxError, LabelSelector, parse_label_selector

LabelSelectorQuery = Annotated[
    str | None,
    Query(
        alias="labelSelector",
        max_length=4096,
        description="Kubernetes syntax: `env=prod,tier in (web,api),!legacy`.",
    ),
]


def parse_selector_query(text: str | None) -> LabelSelector | None:
    """The parsed selector, or ``None`` when absent; bad syntax is a 422 naming the parameter."""
    if text is None:
        return None
    try:
        return parse_label_selector(text)
    except KubeSyntaxError as exc:
        raise InvalidInput(exc.message, field="labelSelector") from exc
