"""The one exception hierarchy of wangge.

Every domain error carries a machine ``code``, a user-safe ``message`` and, when one
input is to blame, the ``field``. ``api.errors`` maps the classes to HTTP statuses in
one table; the CLI prints ``message`` on one line. Each class also subclasses the
builtin it refines (as h3 does), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    """Base of all wangge domain errors."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        """The JSON error body's inner object (API.md)."""
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidInput(WanggeError, ValueError):
    """The caller sent something malformed (bad number, bad code, bad file)."""

    code = "invalid_input"


class InvalidCoordinates(InvalidInput):
    """A coordinate is missing, not finite or outside its system's range."""

    code = "invalid_coordinates"


class UnknownCRS(InvalidInput):
    """A coordinate reference system the platform does not accept."""

    code = "unknown_crs"


class InvalidGeometry(InvalidInput):
    """A geometry is empty, invalid, of the wrong type or badly nested."""

    code = "invalid_geometry"


class NotFound(WanggeError, LookupError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(WanggeError):
    """The request contradicts what is stored (duplicate code, wrong state)."""

    code = "conflict"


class Unauthorized(WanggeError, PermissionError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    code = "unauthorized"


class Forbidden(WanggeError, PermissionError):
    """The caller is known but their role may not do this."""

    code = "forbidden"


class TooLarge(InvalidInput):
    """An upload, batch or geometry exceeds a configured limit."""

    code = "too_large"


class RateLimited(WanggeError):
    """The caller's budget does not hold this request now; ``retry_after`` says when it will."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float, *, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class Busy(RateLimited):
    """The platform is doing as many of these as it may at once (printing reports)."""

    code = "busy"


class Unavailable(WanggeError, ConnectionError):
    """A service the platform needs (the database) cannot be reached."""

    code = "unavailable"


class SetupError(WanggeError, RuntimeError):
    """The machine is not set up to do what was asked; the message says what to do."""

    code = "setup"
