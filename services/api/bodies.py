"""What a request must be before any use case sees it: text PostgreSQL can store (no NUL
character), a body that is UTF-8 JSON (400 otherwise), whose values have the contract's types
exactly (422 naming the field: a string is never taken for a number or a boolean; a number
with no fraction, `5.0`, is the integer 5, as JSON Schema says), and whose times and dates
lie between the years 1970 and 2199, with UTC offsets of at most 14 hours (what the database
and every client can hold)."""

import re
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request

from services.errors import Invalid, Malformed

NUL_ESCAPE = b"\\u0000"
FIRST_YEAR, LAST_YEAR = 1970, 2199
MAX_OFFSET = timedelta(hours=14)  # the furthest any place is from UTC (Kiribati, +14:00)
_BODY_TYPES: dict[Any, Any] = {}  # each handler's body type, looked up once


def _body_type(handler: Any) -> Any:
    if handler not in _BODY_TYPES:
        data = handler.parsed_fn_signature.parameters.get("data")
        _BODY_TYPES[handler] = data.annotation if data is not None else None
    return _BODY_TYPES[handler]


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Refuse, before any use case, what the database cannot store or the contract does not
    say (see the module's description)."""
    if "\x00" in request.scope["path"]:
        raise Invalid("path", "the path must not contain the NUL character")
    if b"%00" in request.scope.get("query_string", b""):
        for name, value in request.query_params.multi_items():
            if "\x00" in value:
                raise Invalid(name, "must not contain the NUL character")
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    body_type = _body_type(request.route_handler)
    if not body or body_type is None or "json" not in request.headers.get("content-type", "json"):
        return
    try:
        raw = msgspec.json.decode(body)
        if NUL_ESCAPE in body and (field := _nul_field(raw, "")):
            raise Invalid(field, "must not contain the NUL character (\\u0000)")
        value = msgspec.convert(_integral(raw), body_type, strict=True)
    except msgspec.ValidationError as error:
        raise _invalid(str(error)) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as error:
        reason = "nests too deeply" if isinstance(error, RecursionError) else "is not valid JSON"
        raise Malformed(f"the request body {reason}") from None
    if (field := _out_of_range(value, "")) is not None:
        raise Invalid(
            field,
            f"must be between the years {FIRST_YEAR} and {LAST_YEAR}, with a UTC offset "
            "between -14:00 and +14:00",
        )


def _integral(value: Any) -> Any:
    """JSON numbers with no fraction as integers (a float field takes them as well)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _out_of_range(value: Any, at: str) -> str | None:
    """The path of the first time or date outside FIRST_YEAR..LAST_YEAR, or with an offset
    beyond MAX_OFFSET, if any."""
    if isinstance(value, datetime) and abs(value.utcoffset() or timedelta()) > MAX_OFFSET:
        return at or "body"
    if isinstance(value, date):
        return None if FIRST_YEAR <= value.year <= LAST_YEAR else (at or "body")
    if isinstance(value, msgspec.Struct):
        items = ((f"{at}.{name}" if at else name, getattr(value, name))
                 for name in value.__struct_fields__)  # fmt: skip
    elif isinstance(value, list | tuple):
        items = ((f"{at}[{i}]", item) for i, item in enumerate(value))
    elif isinstance(value, dict):
        items = ((f"{at}.{key}" if at else str(key), item) for key, item in value.items())
    else:
        return None
    return next((found for path, item in items if (found := _out_of_range(item, path))), None)


def _invalid(message: str) -> Invalid:
    """A msgspec message (`Expected `int`, got `str` - at `$.items[0].amount``) as the
    field it names and what is wrong with it."""
    text, _, where = message.partition(" - at ")
    found = re.search(r"`\$\.?([^`]*)`$", where)
    return Invalid((found.group(1) if found else "") or "body", text)


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
