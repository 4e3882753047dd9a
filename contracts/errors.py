"""The error body every endpoint answers with: RFC 9457 problem details."""

from typing import Annotated, Any

import msgspec
from msgspec import Meta


class FieldError(msgspec.Struct, kw_only=True):
    """One field at fault: its path as the client sent it (`terms.deliverables[0].due_by`,
    a query parameter's or header's name) and what is wrong with it."""

    field: str
    message: str
    source: (
        Annotated[
            str,
            Meta(
                description="where the field was sent: `body`, `query`, `path`, `header` "
                "or `cookie`"
            ),
        ]
        | None
    ) = None


class OperationInWay(msgspec.Struct, kw_only=True):
    """A payment operation under way or being confirmed on the same money."""

    id: str
    kind: Annotated[str, Meta(description="what it does with the money, e.g. `funding`")]
    status: Annotated[str, Meta(description="where it stands, e.g. `unknown` until confirmed")]


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An error, as RFC 9457 problem details (`application/problem+json`). `type` is a path
    naming the kind of problem (`/problems/validation-failed`, `/problems/conflict`,
    `/problems/not-found`, ...); a 422 lists every field at fault in `errors`. A 409 about an
    object whose state moved on may carry it as it now is in `current` (an offer answered
    meanwhile, for example), or the operation in the way in `operation`."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: (
        Annotated[
            str, Meta(description="the request's id, as logged; quote it when asking for help")
        ]
        | None
    ) = None
    errors: list[FieldError] | None = None
    current: (
        Annotated[
            dict[str, Any],
            Meta(description="the object as it now is, in the schema its reading answers with"),
        ]
        | None
    ) = None
    operation: OperationInWay | None = None
