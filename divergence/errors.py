"""Every error and warning code, in one place, so tools can match on them and people can search them.

Errors (``E``) are raised as :class:`DivergenceError` subclasses or reported
as a set-aside :class:`~divergence.datamodel.Problem`; warnings (``W``) are
problems with ``set_aside=False``: the document was still used.
"""

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


class RefusedInput(InputError):
    """The one input a command needed was set aside: raised with that problem's own code, path and message."""

    def __init__(self, problem):
        self.code = problem.code  # before line() is built by DivergenceError.__init__
        super().__init__(problem.message, problem.path)


class NotEnoughDocuments(DivergenceError):
    code = "E200"

    def __init__(self, message: str, path: str | None = None, problems: list | None = None):
        super().__init__(message, path)
        self.problems = list(problems or [])
        """Why the other inputs were not usable (Problem objects), printed before the error."""


class ModelError(DivergenceError):
    """The encoder could not be materialised or loaded."""

    code = "E300"


class ConfigError(DivergenceError):
    code = "E400"


class CacheError(DivergenceError):
    """The cache directory (embeddings, materialised encoder) cannot be written."""

    code = "E401"


class StoreError(DivergenceError):
    code = "E500"


class NotInStore(StoreError):
    """An event or document id the store does not hold (HTTP 404)."""

    code = "E501"


class StoreDamaged(StoreError):
    """SQLite reports the file as corrupt (or not a database): `divergence check --store FILE` says where."""

    code = "E502"


class StoreReadOnly(StoreError):
    """A command that writes was given a store it cannot write."""

    code = "E503"


class EngineError(DivergenceError):
    """The Ray cluster of --ray-address could not be reached or joined."""

    code = "E700"


class OutputError(DivergenceError):
    """The report could not be written where --output asked."""

    code = "E600"


# Codes reported as problems rather than raised.
NO_CLAIMS = "E106"
UNDATED = "W201"
UNKNOWN_SCRIPT = "W202"
MIXED_EVENTS = "W203"
FITTED_SETTINGS_DIFFER = "W301"
REQUEST_TOO_LARGE = "E413"
INVALID_REQUEST = "E422"
DECODED_WITH_REPLACEMENT = "W101"
INPUT_CUT = "W102"
NOT_FOUND = "E404"
METHOD_NOT_ALLOWED = "E405"
REQUEST_TIMEOUT = "E408"

CODES = {
    "E000": "unexpected error",
    "E100": "a document could not be read or is not usable",
    "E101": "empty document",
    "E102": "binary document",
    "E103": "unsupported file type",
    "E104": "malformed record (JSON/JSONL)",
    "E105": "path not found",
    NO_CLAIMS: "no claims left after cleaning",
    "E200": "not enough usable documents",
    UNDATED: "no event date found; grouped on content and names only",
    UNKNOWN_SCRIPT: "mostly in a script the encoder may not cover",
    MIXED_EVENTS: "compare: this document looks like another event than the others (use `analyze`)",
    "E300": "the encoder or a fitted model could not be loaded",
    FITTED_SETTINGS_DIFFER: "a fitted model runs with another encoder or other settings than it was fitted with",
    "E400": "invalid setting",
    "E401": "the cache directory cannot be written",
    REQUEST_TOO_LARGE: "HTTP request body too large",
    INVALID_REQUEST: "HTTP request invalid",
    "E500": "corpus store error",
    "E501": "not in the store",
    "E502": "the store file is damaged",
    "E503": "the store is read-only",
    "E600": "the output could not be written",
    "E700": "the Ray cluster could not be reached",
    DECODED_WITH_REPLACEMENT: "a few bytes were not valid in the file's encoding and were replaced",
    INPUT_CUT: "the input was larger than the configured cap and was cut",
    NOT_FOUND: "HTTP route not found",
    METHOD_NOT_ALLOWED: "HTTP method not allowed on this route",
    REQUEST_TIMEOUT: "HTTP request body not received in time",
}
"""Code → what it means (README and ``divergence --help`` list the same)."""
