"""Fixtures of the negotiation tests: the two sides of a marketplace, registered once a module."""

from dataclasses import dataclass

import pytest

from tests.helpers import Account, Client, kol, merchant


@dataclass
class Parties:
    merchant: Account
    kol: Account
    other_merchant: Account
    other_kol: Account


@pytest.fixture(scope="module")
async def parties(client: Client) -> Parties:
    return Parties(
        merchant=await merchant(client),
        kol=await kol(client),
        other_merchant=await merchant(client),
        other_kol=await kol(client),
    )
