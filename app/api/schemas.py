"""Base of every API schema (camelCase JSON, unknown fields refused) and shared field types."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from app.kubetypes import InvalidNameError, validate_dns1123_label


class ApiModel(BaseModel):
    """JSON field names are camelCase, as in Kubernetes; an unknown field is a 422 naming it."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )


class ApiResponse(BaseModel):
    """Base of response schemas: camelCase JSON, built in code by field name."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def _dns_label(value: str) -> str:
    try:
        validate_dns1123_label(value)
    except InvalidNameError as exc:
        raise ValueError(exc.message) from exc
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
"""A Kubernetes DNS-1123 label: the syntax of resource names."""
