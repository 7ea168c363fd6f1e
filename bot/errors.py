"""The kinds of domain error. Each domain's own errors derive from one of these, so the API maps
them to HTTP status codes in one place (api/errors.py) and the actions can catch them by domain."""

from __future__ import annotations


class DomainError(ValueError):
    """A request the domain refuses, in words fit to show the person who made it."""


class Invalid(DomainError):
    """The request itself is wrong: an unknown value, an empty or missing field."""


class TooLong(Invalid):
    """A text longer than the limit for it."""


class NotFound(DomainError, LookupError):
    """No such thing (or not one this caller may know of)."""


class Unauthenticated(DomainError):
    """The caller's credentials do not open this thing; said the same way whether or not it exists."""


class Forbidden(DomainError):
    """It exists, but it is not this caller's to act on."""


class Conflict(DomainError):
    """A change the thing's current state does not allow."""
