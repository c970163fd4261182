"""Password hashing with argon2id (argon2-cffi): salt and parameters live in the hash."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dal.errors import InvalidData

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2-cffi's RFC 9106 "low memory" profile
# Verified when no user matches a login, so a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("dal-timing-equaliser")


def set_cost(*, time_cost: int, memory_cost_kib: int) -> None:
    """Change the argon2id cost for new hashes (old hashes keep their own and get rehashed)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
    _DUMMY_HASH = _hasher.hash("dal-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a new password; InvalidData(column='password') when it is unacceptable."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidData(
            f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters", column="password"
        )
    if "\x00" in password:
        raise InvalidData("password must not contain a NUL byte", column="password")
    return _hasher.hash(password)


def verify(encoded: str | None, password: str) -> bool:
    """Constant-time check of `password` against an encoded hash (None: no password set)."""
    try:
        return _hasher.verify(encoded or _DUMMY_HASH, password) and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    return _hasher.check_needs_rehash(encoded)
