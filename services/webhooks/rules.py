"""Pure rules of webhooks: endpoint URLs and which addresses they may reach, signing secrets,
the retry schedule, and how an HTTP answer decides a delivery's fate."""

import base64
import ipaddress
import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from contracts.webhooks import DeliveryStatus
from services.errors import Invalid

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)
SECRET_BYTES = 32
PREVIOUS_SECRET_VALID = timedelta(hours=24)
MAX_ENDPOINTS = 16  # per merchant
DISABLE_AFTER = timedelta(days=5)  # of failures without a success
JITTER = 0.2  # each wait is drawn within ±20 % of the schedule's
KEEP_FINISHED = timedelta(days=30)  # delivered or given-up deliveries are kept this long

# Waits after each failed attempt (seconds): 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 20 h. Eleven attempts over about three days (71.6 hours); then the delivery is given up.
RETRY_SCHEDULE: tuple[float, ...] = (
    5, 60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000
)  # fmt: skip


def new_secret() -> str:
    """A signing secret as Standard Webhooks write them: `whsec_` and base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL points: scheme, host and port, and the path with its query."""

    scheme: str
    host: str
    port: int
    path: str


_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# What an endpoint URL is, as the document says: https, a host name (no address, no
# credentials), an optional port, path and query of printable ASCII, no fragment.
URL_PATTERN = f'^https://({_LABEL}\\.)+[A-Za-z]{{2,63}}(:{_PORT})?(/[!-"$-~]*)?(\\?[!-"$-~]*)?$'
_URL = re.compile(URL_PATTERN)


def parse_url(url: str, allow_local: bool, field: str = "url") -> Target:
    """An endpoint URL's parts. Where local endpoints are allowed (development), http and
    addresses are taken too; otherwise the URL must match `URL_PATTERN`."""
    if not allow_local and not _URL.fullmatch(url):
        raise Invalid(
            field,
            "url must be https and name a host (no address, credentials or fragment; "
            "printable ASCII)",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(field, "url is not a valid URL") from None
    allowed = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in allowed:
        raise Invalid(field, "url must use https")
    if not parts.hostname:
        raise Invalid(field, "url must name a host")
    if parts.username is not None or parts.password is not None:
        raise Invalid(field, "url must not carry credentials")
    if parts.fragment:
        raise Invalid(field, "url must not have a fragment")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid(field, "url must not contain spaces or control characters")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname.lower(), port or default, path)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def refusal(address: Address, allow_local: bool) -> str | None:
    """Why an endpoint may not be reached at `address`, or None when it may.

    Only public (globally routable) addresses are allowed: never loopback, private,
    link-local (cloud metadata at 169.254.169.254 among them), shared, multicast or
    reserved ones. Loopback is allowed only where local endpoints are (development, tests).
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_local else f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local or metadata address"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global or address.is_multicast:
        return f"{address} is not a public address"
    return None


def next_attempt(attempts: int, now: datetime, schedule: tuple[float, ...]) -> datetime | None:
    """When to try again after `attempts` failed attempts; None once the schedule is spent."""
    if attempts > len(schedule):
        return None
    wait = schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    return now + timedelta(seconds=wait)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt brought: the status code (None when no answer came) or the error."""

    status_code: int | None
    latency_ms: int
    error: str | None


def succeeded(outcome: Outcome) -> bool:
    return outcome.status_code is not None and 200 <= outcome.status_code < 300


def gone(outcome: Outcome) -> bool:
    """410 Gone: the receiver says the endpoint no longer exists; it is disabled."""
    return outcome.status_code == 410


def fate(
    outcome: Outcome, attempts: int, now: datetime, schedule: tuple[float, ...]
) -> tuple[DeliveryStatus, datetime | None]:
    """The delivery's status after its `attempts`-th attempt, and its next attempt if any."""
    if succeeded(outcome):
        return DeliveryStatus.DELIVERED, None
    if gone(outcome):
        return DeliveryStatus.FAILED, None
    retry_at = next_attempt(attempts, now, schedule)
    return (DeliveryStatus.PENDING, retry_at) if retry_at else (DeliveryStatus.FAILED, None)
