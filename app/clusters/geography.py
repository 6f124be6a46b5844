"""Countries and the jurisdictions a cluster's country puts it in (§2).

A cluster's jurisdictions are its ISO 3166-1 alpha-2 country code, every built-in group the
country belongs to (``EU``, ``EEA``, from ``data/jurisdictions.yaml``) and every group an admin
defined that lists it. Group names are upper case, and never an ISO country code, so a policy
reading ``"JP" in cluster.jurisdictions`` cannot be fooled by a group called ``JP``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

import pycountry
import yaml

_ALPHA_2 = re.compile(r"[A-Z]{2}")
_GROUP_NAME = re.compile(r"[A-Z][A-Z0-9-]{0,61}[A-Z0-9]")


class UnknownCountryError(ValueError):
    """``value`` is not an ISO 3166-1 alpha-2 country code."""

    def __init__(self, value: object) -> None:
        super().__init__(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        self.value = value


class InvalidGroupError(ValueError):
    """A jurisdiction group's name or members break a rule; ``group`` names it."""

    def __init__(self, group: str, message: str) -> None:
        super().__init__(f"jurisdiction group {group!r}: {message}")
        self.group = group
        self.message = message


def normalize_country(code: str) -> str:
    """The upper-case ISO 3166-1 alpha-2 code for ``code`` (``jp`` -> ``JP``)."""
    if not isinstance(code, str):
        raise UnknownCountryError(code)
    upper = code.upper()
    if _ALPHA_2.fullmatch(upper) is None or pycountry.countries.get(alpha_2=upper) is None:
        raise UnknownCountryError(code)
    return upper


def _is_country_code(name: str) -> bool:
    return _ALPHA_2.fullmatch(name) is not None and (
        pycountry.countries.get(alpha_2=name) is not None
    )


def validate_group(name: str, members: Collection[str]) -> tuple[str, frozenset[str]]:
    """An admin-defined group, normalized: upper-case name, member codes checked.

    Refused: names that are not upper-case words (letters, digits, ``-``), names of built-in
    groups, names that are country codes, and members that are not country codes.
    """
    upper = name.upper() if isinstance(name, str) else ""
    if _GROUP_NAME.fullmatch(upper) is None:
        raise InvalidGroupError(
            str(name), "name must be 2-63 letters, digits or '-', starting with a letter"
        )
    if _is_country_code(upper):
        raise InvalidGroupError(upper, "name is a country code")
    if upper in builtin_groups():
        raise InvalidGroupError(upper, "name is a built-in group")
    if isinstance(members, str):
        raise InvalidGroupError(upper, "members must be a list of country codes")
    normalized: set[str] = set()
    for member in members:
        try:
            normalized.add(normalize_country(member))
        except UnknownCountryError as error:
            raise InvalidGroupError(upper, str(error)) from None
    return upper, frozenset(normalized)


@cache
def builtin_groups() -> Mapping[str, frozenset[str]]:
    """The shipped groups by name, members as ISO codes."""
    text = resources.files(__package__).joinpath("data", "jurisdictions.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["groups"]
    groups: dict[str, frozenset[str]] = {}
    for name, spec in raw.items():
        members = {normalize_country(code) for code in spec.get("members", [])}
        for included in spec.get("includes", []):
            members |= groups[included]
        groups[name] = frozenset(members)
    return MappingProxyType(groups)


def jurisdictions_for(
    country: str, extra_groups: Mapping[str, Collection[str]] = MappingProxyType({})
) -> tuple[str, ...]:
    """Sorted jurisdictions of a cluster in ``country``: the country and its groups."""
    code = normalize_country(country)
    names = {code}
    names.update(name for name, members in builtin_groups().items() if code in members)
    for name, members in extra_groups.items():
        group, codes = validate_group(name, members)
        if code in codes:
            names.add(group)
    return tuple(sorted(names))
