"""Kubernetes labels and label selectors, in both the string and the structured syntax.

The string syntax is the one ``kubectl -l`` and ``?labelSelector=`` take::

    env=prod,tier in (web,api),!legacy,version>3

The structured syntax is a ``LabelSelector`` object as it appears in Kubernetes specs
(``{"matchLabels": {...}, "matchExpressions": [{"key", "operator", "values"}]}``).
Both parse to the same immutable :class:`LabelSelector`.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.kubetypes.errors import KubeSyntaxError
from app.kubetypes.names import DNS1123_SUBDOMAIN_MAX, InvalidNameError, validate_dns1123_subdomain

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
NAME_MAX = 63


class LabelError(KubeSyntaxError):
    """A label key, label value or label selector is not valid Kubernetes syntax."""


class Operator(StrEnum):
    """How a requirement compares a label; the names are those of the Kubernetes API."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"
    GT = "Gt"
    LT = "Lt"


def validate_label_key(key: str) -> None:
    """Accept ``[prefix/]name``: a DNS-1123 subdomain prefix and a name of at most 63."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            raise LabelError(f"label key {key!r} has an empty prefix before '/'")
        try:
            validate_dns1123_subdomain(prefix)
        except InvalidNameError as exc:
            raise LabelError(f"label key {key!r} has an invalid prefix: {exc.message}") from exc
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise LabelError(
            f"label key {key!r} is invalid: the name part must be at most {NAME_MAX} characters of "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    if len(prefix) > DNS1123_SUBDOMAIN_MAX:
        raise LabelError(f"label key {key!r} has a prefix longer than {DNS1123_SUBDOMAIN_MAX}")


def validate_label_value(value: str) -> None:
    """Accept an empty value or at most 63 letters, digits, '-', '_' and '.', alphanumeric ends."""
    if value and (len(value) > NAME_MAX or not _NAME.fullmatch(value)):
        raise LabelError(
            f"label value {value!r} is invalid: at most {NAME_MAX} characters of letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )


def validate_labels(labels: Mapping[str, str]) -> None:
    """Check every key and value; the error's field is the offending key."""
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise LabelError("label keys and values must be strings", str(key))
        try:
            validate_label_key(key)
            validate_label_value(value)
        except LabelError as exc:
            raise LabelError(exc.message, key) from exc


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition on one label key; ``values`` is sorted and empty for (Does)Exist."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_label_key(self.key)
        if self.operator in (Operator.IN, Operator.NOT_IN):
            if not self.values:
                raise LabelError(f"{self.operator} needs at least one value", "values")
            for value in self.values:
                validate_label_value(value)
        elif self.operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            if self.values:
                raise LabelError(f"{self.operator} takes no values", "values")
        elif len(self.values) != 1 or not _is_integer(self.values[0]):
            raise LabelError(f"{self.operator} needs exactly one integer value", "values")
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Apply the Kubernetes semantics: ``NotIn`` and ``DoesNotExist`` match a missing key."""
        value = labels.get(self.key)
        match self.operator:
            case Operator.IN:
                return value is not None and value in self.values
            case Operator.NOT_IN:
                return value is None or value not in self.values
            case Operator.EXISTS:
                return value is not None
            case Operator.DOES_NOT_EXIST:
                return value is None
            case Operator.GT | Operator.LT:
                if value is None or not _is_integer(value):
                    return False
                bound = int(self.values[0])
                return int(value) > bound if self.operator is Operator.GT else int(value) < bound

    def __str__(self) -> str:
        match self.operator:
            case Operator.IN if len(self.values) == 1:
                return f"{self.key}={self.values[0]}"
            case Operator.NOT_IN if len(self.values) == 1:
                return f"{self.key}!={self.values[0]}"
            case Operator.IN:
                return f"{self.key} in ({','.join(self.values)})"
            case Operator.NOT_IN:
                return f"{self.key} notin ({','.join(self.values)})"
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"
            case Operator.GT:
                return f"{self.key}>{self.values[0]}"
            case Operator.LT:
                return f"{self.key}<{self.values[0]}"


def _is_integer(text: str) -> bool:
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """All requirements must hold; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Return whether every requirement holds for ``labels``."""
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "LabelSelector":
        """Parse the structured form; errors name the field (``matchExpressions[0].operator``)."""
        unknown = set(spec) - {"matchLabels", "matchExpressions"}
        if unknown:
            field = sorted(unknown)[0]
            raise LabelError("unknown field; expected matchLabels or matchExpressions", field)
        requirements: list[Requirement] = []
        match_labels = spec.get("matchLabels") or {}
        if not isinstance(match_labels, Mapping):
            raise LabelError("must be a mapping of label keys to values", "matchLabels")
        for key, value in match_labels.items():
            if not isinstance(value, str):
                raise LabelError("label values must be strings", f"matchLabels.{key}")
            requirements.append(_requirement(f"matchLabels.{key}", key, Operator.IN, (value,)))
        expressions = spec.get("matchExpressions") or []
        if not isinstance(expressions, list):
            raise LabelError("must be a list", "matchExpressions")
        for index, expression in enumerate(expressions):
            requirements.append(_expression(f"matchExpressions[{index}]", expression))
        return cls(tuple(requirements))

    def to_spec(self) -> dict[str, Any]:
        """Return the structured form, with every requirement as a match expression."""
        return {
            "matchExpressions": [
                {"key": r.key, "operator": str(r.operator), "values": list(r.values)}
                for r in self.requirements
            ]
        }


def _requirement(field: str, key: str, operator: Operator, values: tuple[str, ...]) -> Requirement:
    try:
        return Requirement(key, operator, values)
    except LabelError as exc:
        raise exc.within(field) from exc


def _expression(field: str, expression: object) -> Requirement:
    if not isinstance(expression, Mapping):
        raise LabelError("must be an object with key, operator and values", field)
    unknown = set(expression) - {"key", "operator", "values"}
    if unknown:
        raise LabelError("unknown field", f"{field}.{sorted(unknown)[0]}")
    key = expression.get("key")
    if not isinstance(key, str):
        raise LabelError("is required and must be a string", f"{field}.key")
    try:
        operator = Operator(str(expression.get("operator")))
    except ValueError as exc:
        choices = ", ".join(op.value for op in Operator)
        raise LabelError(f"must be one of {choices}", f"{field}.operator") from exc
    values = expression.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise LabelError("must be a list of strings", f"{field}.values")
    return _requirement(field, key, operator, tuple(values))


_TOKEN = re.compile(r"\s*(?:(?P<op>!=|==|=|>|<|!|\(|\)|,)|(?P<word>[^\s!=<>(),]+))")


def _tokens(text: str) -> Iterator[str]:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise LabelError(f"unexpected character at position {position} in {text!r}")
            return
        position = match.end()
        token = match["op"] or match["word"]
        if token:
            yield token


class _SelectorParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, what: str) -> str:
        symbol = self.peek()
        if symbol is None:
            raise LabelError(f"{self.text!r} ends where {what} was expected")
        self.index += 1
        return symbol

    def word(self, what: str) -> str:
        symbol = self.take(what)
        if symbol in {"!=", "==", "=", ">", "<", "!", "(", ")", ","}:
            raise LabelError(f"expected {what} but found {symbol!r} in {self.text!r}")
        return symbol

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        if self.peek() is None:
            return LabelSelector()
        while True:
            requirements.append(self.requirement())
            symbol = self.peek()
            if symbol is None:
                return LabelSelector(tuple(requirements))
            if symbol != ",":
                raise LabelError(f"expected ',' but found {symbol!r} in {self.text!r}")
            self.index += 1

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.index += 1
            return self.build(self.word("a label key"), Operator.DOES_NOT_EXIST, ())
        key = self.word("a label key")
        symbol = self.peek()
        if symbol is None or symbol == ",":
            return self.build(key, Operator.EXISTS, ())
        self.index += 1
        if symbol in {"=", "=="}:
            return self.build(key, Operator.IN, (self.value(),))
        if symbol == "!=":
            return self.build(key, Operator.NOT_IN, (self.value(),))
        if symbol in {">", "<"}:
            operator = Operator.GT if symbol == ">" else Operator.LT
            return self.build(key, operator, (self.word("an integer"),))
        if symbol in {"in", "notin"}:
            operator = Operator.IN if symbol == "in" else Operator.NOT_IN
            return self.build(key, operator, self.value_set())
        raise LabelError(f"unexpected {symbol!r} after {key!r} in {self.text!r}")

    def value(self) -> str:
        symbol = self.peek()
        if symbol is None or symbol == ",":
            return ""
        return self.word("a label value")

    def value_set(self) -> tuple[str, ...]:
        if self.take("'('") != "(":
            raise LabelError(f"expected '(' after in/notin in {self.text!r}")
        values: list[str] = []
        while True:
            symbol = self.peek()
            if symbol in {",", ")"}:
                values.append("")
            else:
                values.append(self.word("a label value"))
            closing = self.take("')'")
            if closing == ")":
                return tuple(values)
            if closing != ",":
                raise LabelError(f"expected ',' or ')' but found {closing!r} in {self.text!r}")

    def build(self, key: str, operator: Operator, values: tuple[str, ...]) -> Requirement:
        try:
            return Requirement(key, operator, values)
        except LabelError as exc:
            raise LabelError(f"{exc.message} (in {self.text!r})") from exc


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the string syntax, e.g. ``parse_label_selector("env=prod,tier in (web,api)")``."""
    return _SelectorParser(text).parse()
