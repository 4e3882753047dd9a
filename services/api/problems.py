"""One mapping from every exception to an RFC 9457 problem+json answer; never a stack trace."""

from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pricing.errors import PricingError, QuoteRefused
from services.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        body["request_id"] = request_id
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem(
        exc.status, exc.title, exc.detail, exc.type_slug, headers=exc.headers, **exc.extra()
    )


def pricing_error(_: Request[Any, Any, Any], exc: PricingError) -> Response[Any]:
    field = exc.field or "body"
    title = "Quote refused" if isinstance(exc, QuoteRefused) else "Validation failed"
    return problem(
        422,
        title,
        f"{field}: {exc.message}",
        title.lower().replace(" ", "-"),
        errors=[{"field": field, "message": exc.message}],
    )


def _wire_names(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Parameters are named in problems as clients send them (`type`, `Idempotency-Key`),
    not by the handler's argument."""
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except Exception:
        return {}
    names: dict[str, str] = {}
    for name, definition in parameters.items():
        kwarg = definition.kwarg_definition
        alias = (
            getattr(kwarg, "query", None)
            or getattr(kwarg, "header", None)
            or getattr(kwarg, "name", None)  # QueryParameter(name=...), HeaderParameter(...)
        )
        if alias:
            names[name] = alias
    return names


def _source(source: Any) -> str:
    """Where the field was sent, as a word: Litestar names it with its `ParamType` enum."""
    return str(getattr(source, "value", source))


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    items = exc.extra if isinstance(exc.extra, list) else []
    names = _wire_names(request)
    errors = [
        {
            "field": names.get(item.get("key") or "", item.get("key") or "body"),
            "message": item.get("message", ""),
            **({"source": _source(item["source"])} if item.get("source") else {}),
        }
        for item in items
        if isinstance(item, dict)
    ]
    if not errors:
        return problem(400, "Malformed request", exc.detail, "malformed-request")
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Validation failed", detail, "validation-failed", errors=errors)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    fallback = ("Bad request", "bad-request")
    if exc.status_code >= 500:
        fallback = ("Internal error", "internal-error")
    title, slug = _HTTP.get(exc.status_code, fallback)
    headers = dict(exc.headers or {})
    return problem(exc.status_code, title, exc.detail or title, slug, headers=headers)


def concurrent_change(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Two requests changed the same rows at once and the database chose this one to undo;
    nothing of it was kept, so sending it again is safe."""
    log.warning("request_conflicted", error=type(exc).__name__)
    return problem(
        409,
        "Conflict",
        "another request changed the same data at the same moment; nothing was changed, "
        "send this request again",
        "conflict",
    )


DATABASE_RETRY_AFTER = 5  # seconds


def database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database cannot be reached (down, restarting, out of connections, or no pooled
    connection came in time): nothing was changed, and the client may send it again."""
    log.warning("database_unavailable", error=type(exc).__name__)
    return problem(
        503,
        "Service unavailable",
        "the database is unavailable right now; nothing was changed, send this request again",
        "database-unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("request_failed", path=request.url.path, exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal error",
        "the request could not be completed; it has been logged with its request id",
        "internal-error",
    )


# Every problem `type` the service answers with, as `/problems/<slug>`, and what it means.
# The document publishes the list (the Problem schema enumerates it).
PROBLEM_TYPES: dict[str, str] = {
    "bad-request": "the request is not one the service can act on as sent",
    "malformed-request": "the body or a parameter cannot be read (not JSON, not UTF-8, too "
    "deep, or of the wrong type); nothing was changed",
    "validation-failed": "well-formed input that breaks a rule; `errors` names each field",
    "quote-refused": "the pricing engine cannot quote this account (for example, too little "
    "data); `errors` names the field",
    "unauthorized": "no credentials, or credentials that are invalid, expired, revoked or "
    "suspended",
    "reauthentication-required": "the operation needs a password checked recently: log in "
    "again and repeat it",
    "forbidden": "this caller may not do this (role, scope, or ownership)",
    "not-found": "no such object, or one this caller may not see",
    "method-not-allowed": "the path does not take this method (see `Allow`)",
    "not-acceptable": "the answer cannot be given in the media type asked for",
    "conflict": "the object's state does not allow it now, or another request changed it at "
    "the same moment; `current` or `errors` say what stands in the way",
    "payload-too-large": "the body exceeds what the operation takes",
    "unsupported-media-type": "the body's Content-Type is not one the operation reads",
    "rate-limited": "too many requests for now; wait `Retry-After` seconds",
    "unavailable": "the service cannot answer for now; nothing was changed",
    "database-unavailable": "the database cannot be reached for now; nothing was changed, "
    "send it again after `Retry-After`",
    "payment-unconfirmed": "the payment provider did not confirm in time; the operation is "
    "recorded and completed or reconciled, so sending the request again is safe",
    "bad-signature": "a Stripe event whose signature does not verify",
    "bad-event": "a signed Stripe event the service cannot read",
    "internal-error": "an unexpected error, logged with the request id",
}
_HTTP = {
    400: ("Bad request", "bad-request"),
    401: ("Not authenticated", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    406: ("Not acceptable", "not-acceptable"),
    409: ("Conflict", "conflict"),
    413: ("Payload too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    422: ("Validation failed", "validation-failed"),
    429: ("Too many requests", "rate-limited"),
    503: ("Service unavailable", "unavailable"),
}

EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    PricingError: pricing_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    asyncpg.DeadlockDetectedError: concurrent_change,
    asyncpg.SerializationError: concurrent_change,
    asyncpg.PostgresConnectionError: database_unavailable,
    asyncpg.CannotConnectNowError: database_unavailable,
    asyncpg.TooManyConnectionsError: database_unavailable,
    asyncpg.AdminShutdownError: database_unavailable,
    asyncpg.CrashShutdownError: database_unavailable,
    asyncpg.InterfaceError: database_unavailable,
    # A connection the server dropped while a query was being sent on it leaves asyncpg's
    # protocol in a state it reports as an internal client error.
    asyncpg.InternalClientError: database_unavailable,
    ConnectionError: database_unavailable,
    OSError: database_unavailable,
    TimeoutError: database_unavailable,
    Exception: unexpected_error,
}
