"""Domain errors raised by use cases; `services.api.problems` maps them to problem+json once."""

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def extra(self) -> dict[str, Any]:
        return {}


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule; names each field."""

    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"

    def __init__(self, field: str, message: str, *, more: Sequence[tuple[str, str]] = ()) -> None:
        self.errors = [(field, message), *more]
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors))

    def extra(self) -> dict[str, Any]:
        return {"errors": [{"field": f, "message": m} for f, m in self.errors]}


class Malformed(DomainError):
    """A request the API cannot read at all (not JSON, not UTF-8, nested too deeply)."""

    status = 400
    title = "Malformed request"
    type_slug = "malformed-request"


class Unauthorized(DomainError):
    status = 401
    title = "Not authenticated"
    type_slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"

    def __init__(self, kind: str, ident: object = None) -> None:
        super().__init__(f"{kind} {ident} not found" if ident is not None else f"{kind} not found")


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"

    def __init__(self, detail: str, *, current: Any = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.current = current
        self.field = field  # the stored value that stands in the way, when there is one

    def extra(self) -> dict[str, Any]:
        found: dict[str, Any] = {} if self.current is None else {"current": self.current}
        if self.field is not None:
            found["errors"] = [{"field": self.field, "message": self.detail}]
        return found


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    type_slug = "rate-limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"rate limit reached; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"
