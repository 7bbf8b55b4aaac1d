"""People and scopes: organisations, users, roles, sessions, tokens, masking of personal data."""

from __future__ import annotations

from govwatch.auth.principal import PUBLIC, ROLES, Principal

__all__ = ["PUBLIC", "ROLES", "Principal"]
