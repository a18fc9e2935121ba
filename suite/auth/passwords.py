"""argon2id password hashing with costs from the config (lower in tests, never zero)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["SUITE_ARGON2_TIME_COST"], memory_cost=cfg["SUITE_ARGON2_MEMORY_COST"]
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verified against when the login does not exist, so timing does not reveal which logins exist.
_DUMMY: dict[tuple[int, int], str] = {}


def burn_time(password: str) -> None:
    key = (
        current_app.config["SUITE_ARGON2_TIME_COST"],
        current_app.config["SUITE_ARGON2_MEMORY_COST"],
    )
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-real-password")
    verify_password(_DUMMY[key], password)
