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


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    items = exc.extra if isinstance(exc.extra, list) else []
    names = _wire_names(request)
    errors = [
        {
            "field": names.get(item.get("key") or "", item.get("key") or "body"),
            "message": item.get("message", ""),
            **({"source": str(item["source"])} if item.get("source") else {}),
        }
        for item in items
        if isinstance(item, dict)
    ]
    if not errors:
        return problem(400, "Malformed request", exc.detail, "malformed-request")
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Validation failed", detail, "validation-failed", errors=errors)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    title = _TITLES.get(exc.status_code, "Error")
    slug = title.lower().replace(" ", "-")
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


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    503: "Service unavailable",
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
