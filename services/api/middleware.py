"""Per-request context: a request id on every log line and in `X-Request-ID`, one summary line;
and the refusal of text PostgreSQL cannot store."""

import re
import time
import uuid
from typing import Any

import msgspec
import structlog
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import Invalid

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


NUL_ESCAPE = b"\\u0000"


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """PostgreSQL text cannot hold the NUL character: a request carrying one in its path, query
    or JSON body is refused with the field named, before it reaches a use case."""
    if "\x00" in request.scope["path"]:
        raise Invalid("path", "the path must not contain the NUL character")
    if b"%00" in request.scope.get("query_string", b""):
        for name, value in request.query_params.multi_items():
            if "\x00" in value:
                raise Invalid(name, "must not contain the NUL character")
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if NUL_ESCAPE in body:
            try:
                field = _nul_field(msgspec.json.decode(body), "")
            except msgspec.DecodeError:
                return  # malformed JSON is answered by the body's own decoding
            if field is not None:
                raise Invalid(field, "must not contain the NUL character (\\u0000)")


def _nul_field(value: Any, at: str) -> str | None:
    """The path (`items[3].order_id`) of the first string holding a NUL, if any."""
    if isinstance(value, str):
        return (at or "body") if "\x00" in value else None
    if isinstance(value, dict):
        items = ((f"{at}.{k}" if at else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{at}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, item in items:
        found = _nul_field(item, path)
        if found is not None:
            return found
    return None
