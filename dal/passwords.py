"""Password hashing with argon2id (argon2-cffi): salt and parameters live in the hash."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dal.errors import InvalidData, lone_surrogate

MIN_LENGTH = 8
MAX_LENGTH = 1024


class _Kdf:
    """The hasher in use, and a hash verified when no user matches a login (so a
    miss costs as much as a wrong password)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.use(hasher)

    def use(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self._dummy: str | None = None

    @property
    def dummy_hash(self) -> str:
        """Made at its first use, not at import: a hash costs a tenth of a second,
        which every program importing the DAL (`dal --help`) would otherwise pay."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("dal-timing-equaliser")
        return self._dummy


_kdf = _Kdf(PasswordHasher())  # argon2-cffi's default: RFC 9106 low-memory profile


def set_cost(*, time_cost: int, memory_cost_kib: int) -> None:
    """Change the argon2id cost for new hashes (old hashes keep their own and get rehashed)."""
    _kdf.use(PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a new password; InvalidData(column='password') when it is unacceptable.

    Leave `salt` out (a random one is drawn); seed data passes one to be reproducible.
    """
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidData(
            f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters", column="password"
        )
    if "\x00" in password:
        raise InvalidData("password must not contain a NUL byte", column="password")
    _check_text(password)
    return _kdf.hasher.hash(password, salt=salt)


def _check_text(password: str) -> None:
    """InvalidData for a password argon2 cannot encode (a lone surrogate)."""
    if lone_surrogate(password):
        raise InvalidData(
            "password is not valid text: it holds a lone surrogate", column="password"
        )


def verify(encoded: str | None, password: str) -> bool:
    """Constant-time check of `password` against an encoded hash (None: no password set)."""
    if isinstance(password, str):
        _check_text(password)
    try:
        return _kdf.hasher.verify(encoded or _kdf.dummy_hash, password) and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    return _kdf.hasher.check_needs_rehash(encoded)
