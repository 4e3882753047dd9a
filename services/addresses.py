"""Client addresses: what of an address is kept, and which peers may name the client.

Nothing stores a client's IP address. Where an address must be recognised again (a visitor's
clicks, the addresses an account logs in from, the audit log, per-address limits), a keyed
hash stands in its place: the same address gives the same value, and without the key the
address cannot be found again by hashing every possible one. Each use derives its own key
from the process's signing secret, so the values of one use cannot be matched with another's.

Only a peer listed in `TRUSTED_PROXIES` may name the client with `X-Forwarded-For`; from any
other peer the header is ignored and the peer itself is the client.
"""

import hashlib
import hmac
import ipaddress
from functools import lru_cache

HASH_CHARS = 16  # hex characters kept of the keyed SHA-256


@lru_cache(maxsize=16)
def key(secret: str, purpose: str) -> bytes:
    """The key of the address hashes of one `purpose` (`visitor`, `address`)."""
    return hashlib.sha256(f"kolmarket {purpose}\x00".encode() + secret.encode()).digest()


def keyed_hash(key: bytes, address: str) -> str:
    """A short keyed SHA-256 of a client address."""
    return hmac.digest(key, address.encode(), "sha256").hex()[:HASH_CHARS]


def check_proxies(entries: tuple[str, ...]) -> tuple[str, ...]:
    """The `TRUSTED_PROXIES` entries, each an address or a network (`10.0.0.0/8`); anything
    else is refused rather than silently never matching."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
    return entries
