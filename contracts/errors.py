"""The error body every endpoint answers with: RFC 9457 problem details."""

import msgspec


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str
    source: str | None = None


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
