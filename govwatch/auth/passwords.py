"""Password hashing with argon2id (argon2-cffi), and the random secrets govwatch hands out."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from govwatch.errors import InputError

_HASHER = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InputError(f"密码太短：至少需要 {MIN_LENGTH} 个字符")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return bool(_HASHER.check_needs_rehash(stored_hash))


def new_password() -> str:
    """A random password of 16 URL-safe characters (for demo accounts and resets)."""
    return secrets.token_urlsafe(12)


def new_secret() -> str:
    """A long random bearer secret (session id, API token)."""
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return secrets.token_hex(16)


def digest(secret: str) -> str:
    """Tokens and session ids are long random strings, so a plain SHA-256 suffices to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()
