"""Kubernetes resource quantities (``500m``, ``64Gi``, ``1.5``, ``2e3``) as exact integers.

Placer stores every amount as an integer in the resource's base unit: millicores for ``cpu``,
bytes for memory and storage, plain counts for everything else (``pods``, ``nvidia.com/gpu``).
Parsing is exact (``Decimal``) and refuses amounts that the base unit cannot hold, such as
``0.5`` GPUs or ``100m`` bytes of memory, instead of rounding them silently.
"""

import re
from decimal import Decimal, InvalidOperation

from app.kubetypes.errors import KubeSyntaxError

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exponent>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]?))"
)
_BYTE_RESOURCES = frozenset({"memory", "ephemeral-storage", "storage"})
MAX_AMOUNT = 2**63 - 1


class QuantityError(KubeSyntaxError):
    """A quantity is malformed, negative, too large, or finer than its resource's base unit."""


def parse_quantity(value: str | int | float) -> Decimal:
    """Return the exact value of a quantity: ``"1.5Gi"`` gives ``Decimal(1610612736)``."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        raise QuantityError(
            f"{value!r} is not a Kubernetes quantity (examples: 500m, 2, 1.5, 64Gi, 10G)"
        )
    try:
        number = Decimal(match["number"])
        if match["binary"]:
            return number * _BINARY_SUFFIXES[match["binary"]]
        if match["exponent"]:
            return number.scaleb(int(match["exponent"][1:]))
        return number * _DECIMAL_SUFFIXES[match["decimal"] or ""]
    except (InvalidOperation, OverflowError) as exc:
        raise QuantityError(f"{value!r} is out of range") from exc


def _base_unit(resource: str) -> tuple[Decimal, str]:
    if resource == "cpu":
        return Decimal(1000), "a whole number of millicores (1m)"
    if resource in _BYTE_RESOURCES:
        return Decimal(1), "a whole number of bytes"
    return Decimal(1), "a whole number"


def parse_resource(resource: str, value: str | int | float) -> int:
    """Return ``value`` in the base unit: ``parse_resource("cpu", "1.5") == 1500``."""
    scale, unit = _base_unit(resource)
    amount = parse_quantity(value) * scale
    if amount < 0:
        raise QuantityError(f"{value!r} is negative; {resource} must be zero or more")
    if amount != amount.to_integral_value():
        raise QuantityError(f"{value!r} is not {unit} of {resource}")
    if amount > MAX_AMOUNT:
        raise QuantityError(f"{value!r} is too large for {resource}")
    return int(amount)


def format_resource(resource: str, amount: int) -> str:
    """Return the Kubernetes form of an amount: ``format_resource("memory", 2**30) == "1Gi"``."""
    if resource == "cpu":
        return str(amount // 1000) if amount % 1000 == 0 else f"{amount}m"
    if resource in _BYTE_RESOURCES and amount:
        for suffix, size in reversed(_BINARY_SUFFIXES.items()):
            if amount % size == 0:
                return f"{amount // size}{suffix}"
        for suffix in ("E", "P", "T", "G", "M", "k"):
            size = int(_DECIMAL_SUFFIXES[suffix])
            if amount % size == 0:
                return f"{amount // size}{suffix}"
    return str(amount)
