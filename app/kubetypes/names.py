"""Kubernetes object names: DNS-1123 labels and subdomains."""

import re

from app.kubetypes.errors import KubeSyntaxError

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253


class InvalidNameError(KubeSyntaxError):
    """A name is not a valid DNS-1123 label or subdomain."""


def validate_dns1123_label(value: str) -> None:
    """Accept lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63."""
    if len(value) > DNS1123_LABEL_MAX:
        raise InvalidNameError(f"{value!r} is longer than {DNS1123_LABEL_MAX} characters")
    if not _DNS1123_LABEL.fullmatch(value):
        raise InvalidNameError(
            f"{value!r} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )


def validate_dns1123_subdomain(value: str) -> None:
    """Accept dot-separated DNS-1123 labels, at most 253 characters in all."""
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        raise InvalidNameError(f"{value!r} is longer than {DNS1123_SUBDOMAIN_MAX} characters")
    if not value or not all(_DNS1123_LABEL.fullmatch(part) for part in value.split(".")):
        raise InvalidNameError(
            f"{value!r} is not a DNS-1123 subdomain: use lowercase letters, digits, '-' and '.'"
        )
