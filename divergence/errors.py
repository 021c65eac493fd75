"""Errors with stable codes, so tools can match on them and people can search them."""

from __future__ import annotations


class DivergenceError(Exception):
    """Base class: a problem the user can fix, reported as one line."""

    code = "E000"

    def __init__(self, message: str, path: str | None = None):
        self.message = message
        self.path = path
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"[{self.code}] {where}{self.message}"


class InputError(DivergenceError):
    """A document could not be read or is not usable."""

    code = "E100"


class EmptyDocument(InputError):
    code = "E101"


class BinaryDocument(InputError):
    code = "E102"


class UnsupportedFormat(InputError):
    code = "E103"


class MalformedRecord(InputError):
    code = "E104"


class MissingPath(InputError):
    code = "E105"


class NotEnoughDocuments(DivergenceError):
    code = "E200"


class ModelError(DivergenceError):
    """The encoder could not be materialised or loaded."""

    code = "E300"


class ConfigError(DivergenceError):
    code = "E400"
