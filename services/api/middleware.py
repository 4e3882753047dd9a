"""Per-request context: a request id on every log line and in `X-Request-ID`, one summary line;
and the refusal of text PostgreSQL cannot store."""

import re
import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("kolmarket.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Followed tracking links are too many to log one by one (each is a row in `clicks`); their
# failures are logged like any other request.
QUIET_PREFIXES = ("/t/",)


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _VALID_ID.match(text):
                return text
    return uuid.uuid4().hex


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# Answers that carry credentials are never kept by a browser or a proxy.
NO_STORE_PREFIXES = ("/v1/auth/", "/v1/api-keys", "/v1/webhook-endpoints")


def _security_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Headers every answer carries; HSTS only when the client came over https (directly,
    or through a trusted proxy that said so)."""
    headers = list(SECURITY_HEADERS)
    if scope.get("scheme") == "https":
        headers.append(HSTS)
    if scope["path"].startswith(NO_STORE_PREFIXES) and scope["method"] != "GET":
        headers.append((b"cache-control", b"no-store"))
    return headers


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(_security_headers(scope))
                message = {**message, "headers": headers}  # type: ignore[assignment]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if status["code"] >= 400 or not scope["path"].startswith(QUIET_PREFIXES):
                log.info(
                    "request_handled",
                    method=scope["method"],
                    path=scope["path"],
                    status=status["code"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.clear_contextvars()

    return middleware


def options_answering(app: ASGIApp, routes: list[Any]) -> ASGIApp:
    """Answer `OPTIONS` for every path with the methods it allows (`Allow`), without
    authentication; a CORS preflight (with `Access-Control-Request-Method`) goes on to the
    CORS middleware instead."""
    table = sorted(
        (
            (path.count("{"), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "/?$"),
             ", ".join(sorted(methods)))
            for path, methods in ((r.path, getattr(r, "methods", None)) for r in routes)
            if methods
        ),
        key=lambda entry: entry[0],
    )  # fmt: skip

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS" or _preflight(scope):
            await app(scope, receive, send)
            return
        allowed = next((m for _, pattern, m in table if pattern.match(scope["path"])), None)
        if allowed is None:
            await app(scope, receive, send)
            return
        headers = [(b"allow", allowed.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return answer


def _preflight(scope: Scope) -> bool:
    return any(name == b"access-control-request-method" for name, _ in scope["headers"])
