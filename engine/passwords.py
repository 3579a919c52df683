"""Password hashing with argon2 (argon2-cffi, a kept library), and the old scrypt hashes.

Hashes made before argon2 (`scrypt$N$salt$digest`) are still checked, and `needs_rehash` says to
replace them with argon2 at the next successful sign-in. Tests make hashing cheap by patching
ARGON2 (and _SCRYPT for old hashes); a stored hash records its own cost, so checking follows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (RFC 9106's low-memory choice: 3 passes over 64 MiB, 4 lanes).
ARGON2: dict[str, int] = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hasher() -> PasswordHasher:
    return PasswordHasher(**ARGON2)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Does `password` match `stored` (argon2, or an old scrypt hash)? Never raises."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for old scrypt hashes and argon2 hashes made with other costs than ARGON2."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


_DUMMY: dict[tuple[int, ...], str] = {}


def burn_time(password: str) -> None:
    """Check `password` against a made-up hash: an unknown user costs what a known one does."""
    key = tuple(ARGON2.values())
    if key not in _DUMMY:
        _DUMMY[key] = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _DUMMY[key])


def scrypt_hash(password: str) -> str:
    """The old format, for tests of the upgrade path only."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encode = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${encode(salt).decode()}${encode(digest).decode()}"


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, salt, digest = stored.split("$")
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n),
            r=_SCRYPT["r"], p=_SCRYPT["p"],
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))
