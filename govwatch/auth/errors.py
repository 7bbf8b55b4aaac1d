"""Refusals that the API turns into HTTP statuses: 401, 403, 404 and 409.

They descend from :class:`govwatch.errors.GovwatchError`, so the CLI prints them as one line.
"""

from __future__ import annotations

from govwatch.errors import GovwatchError


class AuthenticationError(GovwatchError):
    """No valid credentials (HTTP 401)."""


class ForbiddenError(GovwatchError):
    """The principal is known but may not do this (HTTP 403)."""


class NotFoundError(GovwatchError):
    """The thing named does not exist, or is outside what the caller may see (HTTP 404)."""


class ConflictError(GovwatchError):
    """The operation is not allowed in the current state, or someone else got there first (409)."""
