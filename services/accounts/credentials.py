"""Secrets: argon2id password hashes, signed access tokens, opaque refresh tokens and API keys."""

import functools
import hashlib
import secrets
import time
import uuid
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's password storage guidance: argon2id with m = 19 MiB, t = 2, p = 1 at the least.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "kolmarket"
API_KEY_PREFIX = "kmk_"
_DUMMY_HASH = HASHER.hash("an unrelated password used to even out timing")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists, so timing reveals nothing."""
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_access_token(claims: dict[str, Any], secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    payload = {
        **claims,
        "iss": JWT_ISSUER,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def read_access_token(token: str, secret: str) -> dict[str, Any] | None:
    """The token's claims if its signature is good and it has not expired.

    A client sends the same token with every request until it expires, so the signature
    check (the expensive part) is remembered per token; expiry is checked every time.
    """
    claims = _verified_claims(token, secret)
    if claims is None or claims["exp"] <= time.time():
        return None
    return claims


@functools.lru_cache(maxsize=16_384)
def _verified_claims(token: str, secret: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def new_opaque_token(nbytes: int = 32) -> tuple[str, bytes]:
    """A random token and the SHA-256 digest that is stored in its place."""
    token = secrets.token_urlsafe(nbytes)
    return token, digest(token)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_api_key() -> tuple[str, str, bytes]:
    """(visible prefix, full secret, stored digest). The prefix identifies the key in lists."""
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return prefix, secret, digest(secret)


def api_key_prefix(secret: str) -> str | None:
    size = len(API_KEY_PREFIX) + 8
    prefix = secret[:size]
    if not prefix.startswith(API_KEY_PREFIX) or secret[size : size + 1] != "_":
        return None
    return prefix
