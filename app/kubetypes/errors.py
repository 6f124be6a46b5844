"""The error every kubetypes parser raises."""


class KubeSyntaxError(ValueError):
    """A value does not follow Kubernetes syntax.

    ``field`` is the path of the offending part relative to the value that was parsed
    (``""`` for the value itself, ``"matchExpressions[1].values"`` inside a selector); callers
    prefix it with the name of the field they parsed so a client is told exactly what to fix.
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def within(self, prefix: str) -> "KubeSyntaxError":
        """Return the same error with ``prefix`` put in front of its field path."""
        joined = prefix if not self.field else f"{prefix}.{self.field}"
        if self.field.startswith("["):
            joined = f"{prefix}{self.field}"
        return type(self)(self.message, joined)
