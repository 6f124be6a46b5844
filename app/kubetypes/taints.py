"""Taints on clusters and the tolerations a workload declares for them (Kubernetes semantics)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.kubetypes.errors import KubeSyntaxError
from app.kubetypes.labels import LabelError, validate_label_key, validate_label_value


class TaintError(KubeSyntaxError):
    """A taint or toleration is not valid Kubernetes syntax."""


class TaintEffect(StrEnum):
    """What a taint does to workloads that do not tolerate it."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


def _effect(value: object, field: str) -> TaintEffect:
    try:
        return TaintEffect(str(value))
    except ValueError as exc:
        choices = ", ".join(effect.value for effect in TaintEffect)
        raise TaintError(f"must be one of {choices}", field) from exc


def _check_key_value(key: str, value: str) -> None:
    try:
        validate_label_key(key)
    except LabelError as exc:
        raise TaintError(exc.message, "key") from exc
    try:
        validate_label_value(value)
    except LabelError as exc:
        raise TaintError(exc.message, "value") from exc


def _unknown_fields(spec: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(spec) - known
    if unknown:
        raise TaintError("unknown field", sorted(unknown)[0])


@dataclass(frozen=True, slots=True)
class Taint:
    """``key=value:effect`` on a cluster: repels workloads without a matching toleration."""

    key: str
    value: str
    effect: TaintEffect

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "Taint":
        """Parse ``{"key", "value", "effect"}``; errors name the field."""
        _unknown_fields(spec, {"key", "value", "effect"})
        key, value = spec.get("key"), spec.get("value", "")
        if not isinstance(key, str) or not isinstance(value, str):
            raise TaintError("key and value must be strings", "key")
        _check_key_value(key, value)
        return cls(key, value, _effect(spec.get("effect"), "effect"))

    def to_spec(self) -> dict[str, str]:
        """Return the Kubernetes object form."""
        return {"key": self.key, "value": self.value, "effect": str(self.effect)}

    def __str__(self) -> str:
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )


@dataclass(frozen=True, slots=True)
class Toleration:
    """Lets a workload onto clusters with matching taints.

    ``operator`` is ``Equal`` (key and value must match) or ``Exists`` (any value; with an empty
    key, every taint); an empty ``effect`` matches every effect.
    """

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: TaintEffect | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "Toleration":
        """Parse the Kubernetes object form; errors name the field."""
        _unknown_fields(spec, {"key", "operator", "value", "effect", "tolerationSeconds"})
        key, value = spec.get("key", ""), spec.get("value", "")
        operator = spec.get("operator", "Equal")
        if not isinstance(key, str) or not isinstance(value, str):
            raise TaintError("key and value must be strings", "key")
        if operator not in ("Equal", "Exists"):
            raise TaintError("must be Equal or Exists", "operator")
        if operator == "Exists" and value:
            raise TaintError("must be empty when operator is Exists", "value")
        if operator == "Equal" and not key:
            raise TaintError("is required when operator is Equal", "key")
        if key:
            _check_key_value(key, value)
        effect = spec.get("effect") or None
        return cls(key, operator, value, None if effect is None else _effect(effect, "effect"))

    def to_spec(self) -> dict[str, str]:
        """Return the Kubernetes object form."""
        spec = {"key": self.key, "operator": self.operator, "value": self.value}
        if self.effect is not None:
            spec["effect"] = str(self.effect)
        return {name: text for name, text in spec.items() if text}

    def tolerates(self, taint: Taint) -> bool:
        """Return whether this toleration matches ``taint``."""
        if self.effect is not None and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and self.value == taint.value


def untolerated_taints(tolerations: Iterable[Toleration], taints: Iterable[Taint]) -> list[Taint]:
    """Return the taints that no toleration matches, in their given order."""
    tolerations = tuple(tolerations)
    return [taint for taint in taints if not any(t.tolerates(taint) for t in tolerations)]
