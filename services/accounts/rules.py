"""Pure rules of accounts: email normalisation, the password policy, and API keys' expiry,
status and which of their scopes need a recent login."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from contracts.accounts import ApiKeyStatus, ApiScope
from services.errors import Invalid

MIN_PASSWORD_LENGTH = 10
# Scopes that move money or send the merchant's data elsewhere: a key with one of them is
# created (or confirmed) only by an owner who entered the password in the last minutes.
STEP_UP_SCOPES = frozenset({ApiScope.CONVERSIONS_WRITE, ApiScope.WEBHOOKS_MANAGE})


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str, email: str, field: str = "password") -> None:
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if password.isalpha() or password.isdigit():
        problems.append("must mix letters with digits or symbols")
    if normalise_email(email).split("@")[0] in password.lower():
        problems.append("must not contain the email's name")
    if problems:
        raise Invalid(field, "password " + " and ".join(problems))


def needs_step_up(scopes: Iterable[str]) -> bool:
    return not STEP_UP_SCOPES.isdisjoint(scopes)


def key_expiry(days: int | None, now: datetime) -> datetime | None:
    """When a key made now stops working, `days` from now (never, without them)."""
    return None if days is None else now + timedelta(days=days)


def key_status(*, revoked: bool, expired: bool, unvouched: bool) -> ApiKeyStatus:
    """Revoked is final; an expired key stays expired; otherwise a key works unless nobody in
    the merchant answers for it any more."""
    if revoked:
        return ApiKeyStatus.REVOKED
    if expired:
        return ApiKeyStatus.EXPIRED
    return ApiKeyStatus.SUSPENDED if unvouched else ApiKeyStatus.ACTIVE
