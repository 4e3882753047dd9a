"""Resolving an endpoint's host, refusing addresses a webhook must never reach (SSRF).

Checked when an endpoint is created or its URL changes, and again before every delivery,
since DNS can change: the delivery then connects to the very address that was checked.
"""

import asyncio
import ipaddress
import socket

from services.webhooks import rules
from services.webhooks.rules import Address, Target


class Refused(Exception):
    """The endpoint's host does not resolve, or resolves to an address it may not reach."""


class Unresolved(Refused):
    """The endpoint's host does not resolve (now): nothing is reached, and nothing is known
    of where it would lead."""


async def resolve(target: Target, allow_local: bool) -> Address:
    """The address to connect to for `target`; every address its name has must be allowed,
    so a name cannot hide a private address behind a public one."""
    try:
        addresses: list[Address] = [ipaddress.ip_address(target.host)]
    except ValueError:
        addresses = await _lookup(target.host, target.port)
    if not addresses:
        raise Unresolved(f"{target.host} does not resolve")
    for address in addresses:
        reason = rules.refusal(address, allow_local)
        if reason is not None:
            raise Refused(f"{target.host} resolves to {reason}")
    return addresses[0]


async def _lookup(host: str, port: int) -> list[Address]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Unresolved(f"{host} does not resolve") from None
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found
