"""Unsubscribe tokens: the signed part of the link in every mail that turns one kind's email
off without logging in.

A token names a user and a kind and carries an HMAC-SHA256 over both, keyed with a key
derived from the process's signing secret (`JWT_SECRET`) for this purpose only; it cannot be
altered, moved to another user or kind, or made without the secret. It does not expire: a
mail read months later still unsubscribes. Rotating the secret invalidates old links.
"""

import base64
import binascii
import hashlib
import hmac
from typing import Any
from uuid import UUID

from contracts.notifications import NotificationKind
from services.errors import Forbidden

PURPOSE = b"kolmarket notification unsubscribe v1"
FIELD = "token"


class BadToken(Forbidden):
    """An unsubscribe link we did not sign (or one altered since): it changes nothing."""

    def __init__(self) -> None:
        super().__init__("this unsubscribe link is not one we sent, or it was altered")

    def extra(self) -> dict[str, Any]:
        return {"errors": [{"field": FIELD, "message": self.detail}]}


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> bytes:
    return hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()


def sign(secret: str, user_id: UUID, kind: NotificationKind) -> str:
    body = _b64(user_id.bytes + kind.value.encode())
    return f"{body}.{_b64(_mac(secret, body))}"


def verify(secret: str, token: str) -> tuple[UUID, NotificationKind]:
    """The user and kind a token names; 403 when it was not signed with this secret, was
    altered or is malformed."""
    body, dot, signature = token.partition(".")
    try:
        given = _unb64(signature) if dot else b""
        raw = _unb64(body)
    except (binascii.Error, ValueError):
        raise BadToken() from None
    if not hmac.compare_digest(given, _mac(secret, body)):
        raise BadToken()
    try:
        return UUID(bytes=raw[:16]), NotificationKind(raw[16:].decode())
    except (ValueError, UnicodeDecodeError):
        raise BadToken() from None
