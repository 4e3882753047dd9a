"""Pure rules of clicks on tracking links: which codes can exist, where a click is sent, which
visitors are robots, and what of a visitor is kept (a keyed hash of the address, never the
address itself; `services.addresses` makes it)."""

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from uuid import UUID

from services import addresses

CLICK_PARAM = "kmk_click"
TEXT_LIMIT = 500  # characters kept of a user agent or a referrer

URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # kept as they are; other non-ASCII or spaces are escaped
CODE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")

# Crawlers and search engines, link-preview fetchers of chat and social apps (Slackbot,
# TelegramBot, Discordbot, Twitterbot and LinkedInBot fall under "bot"; the apps' own in-app
# browsers are people), HTTP libraries and headless browsers. "Cubot" is a phone brand.
BOT = re.compile(
    r"(?<!cu)bot|crawl|spider|slurp|preview|facebookexternalhit|facebookcatalog"
    r"|meta-externalagent|whatsapp/|embedly|iframely|vkshare|imgproxy|bytespider"
    r"|mediapartners|lighthouse|headless|phantomjs|puppeteer|selenium|curl|wget|python"
    r"|aiohttp|httpx|go-http-client|okhttp|java/|apache-httpclient|libwww|node-fetch|axios"
    r"|undici|scrapy|httpie|postman|feedfetcher|uptime|pingdom|^mozilla/\d\.\d$",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for crawlers, link previews, HTTP libraries and a missing user agent: they are
    redirected like anyone else, but their visit is not a click."""
    return not user_agent.strip() or BOT.search(user_agent) is not None


def is_code(text: str) -> bool:
    """The shape of a tracking code (the table's CHECK); anything else cannot exist."""
    return CODE.match(text) is not None


@dataclass(frozen=True, slots=True)
class Link:
    """A tracking link, ready to send a click: its deal, and its destination split where the
    click id goes (before any fragment)."""

    deal_id: UUID
    head: str
    tail: str
    plain: str  # the destination without a click id, for visits that are not clicks

    def location(self, click_id: UUID) -> str:
        return f"{self.head}{CLICK_PARAM}={click_id}{self.tail}"


def link(deal_id: UUID, destination: str) -> Link:
    """Split `destination` once, as ASCII fit for a `Location` header; its own query is kept
    as it is, except an old click id."""
    parts = urlsplit(destination)
    query = parts.query
    if CLICK_PARAM in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if k != CLICK_PARAM])
    path, query = quote(parts.path or "/", URL_SAFE), quote(query, URL_SAFE)
    base = urlunsplit((parts.scheme, _ascii_host(parts.netloc), path, query, ""))
    head = f"{base}&" if query else f"{base}?"
    tail = f"#{quote(parts.fragment, URL_SAFE)}" if parts.fragment else ""
    return Link(deal_id=deal_id, head=head, tail=tail, plain=f"{base}{tail}")


def _ascii_host(netloc: str) -> str:
    if netloc.isascii():
        return netloc
    try:
        return netloc.encode("idna").decode("ascii")
    except UnicodeError:
        return quote(netloc, URL_SAFE)


def visitor_key(secret: str) -> bytes:
    """The key of visitor hashes, derived from the process's signing secret."""
    return addresses.key(secret, "visitor")


def visitor(key: bytes, address: str) -> str:
    """A short keyed hash of the client address: the same visitor gives the same value."""
    return addresses.keyed_hash(key, address)


def clip(text: str | None) -> str | None:
    """A header value as stored: at most TEXT_LIMIT characters, no NUL (PostgreSQL text)."""
    if not text:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:TEXT_LIMIT]
