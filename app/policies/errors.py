"""The one error every policy parser raises."""


class PolicyError(ValueError):
    """A policy document is invalid.

    ``document`` names it (``metadata.name``, or ``document 2`` when it has none), ``field`` is
    the path inside it (``spec.rules[0].require``), and for a CEL expression ``line`` and
    ``column`` (1-based) point into the expression text.
    """

    def __init__(
        self,
        message: str,
        *,
        document: str = "",
        field: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.document = document
        self.field = field
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.document,
                self.field,
                f"line {self.line} column {self.column}" if self.line is not None else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message

    def located(self, *, document: str | None = None, field: str | None = None) -> "PolicyError":
        """Return the same error with its document and/or field path prefix filled in."""
        joined = self.field
        if field:
            joined = f"{field}.{self.field}" if self.field else field
        return PolicyError(
            self.message,
            document=document if document is not None else self.document,
            field=joined,
            line=self.line,
            column=self.column,
        )
