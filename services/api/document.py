"""The OpenAPI document partners read, finished once the app has generated it: what the
generator cannot see from the handlers is added here, from the contracts, so the document
says exactly what the service accepts.

- The schemas of the contracts are msgspec's own, from the very types that decode requests
  and encode answers, so every bound the service checks is written down.
- Request bodies that refuse unknown fields say so (`additionalProperties: false`).
- A value's constraints sit on the value, not beside its `null` alternative (an optional
  query parameter takes the word `null` for none, as the service reads it); integral bounds
  are integers.
- Text the service stores cannot hold the NUL character (PostgreSQL's text cannot), and
  times and dates lie between 1970 and 2199 (times at most 14 hours from UTC): both are
  written as patterns.
- Maps keyed by a vocabulary (platforms, tiers) name their keys.
- Every request body, and the main answers, carry an example (`contracts.examples`).
"""

import enum
import importlib
import pkgutil
import typing
from functools import cache
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

import contracts
from contracts.common import Deliverable, Platform, Tier
from contracts.examples import EXAMPLES
from services.api import locations
from services.api.problems import PROBLEM_TYPES
from services.web import PUBLIC
from services.webhooks import rules as webhook_rules

REF = "#/components/schemas/{name}"
NO_NUL = "^[^\\u0000]*$"
# RFC 3339 times and dates of the years 1970 to 2199 (`format` checks the rest).
YEARS = "(19[7-9][0-9]|2[01][0-9]{2})"
OFFSET = "([Zz]|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"  # UTC, or at most 14 hours from it
DATE_TIME = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}[Tt].*{OFFSET}$"
DATE = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}$"
# Rules the service checks beyond the contract's types, written where they apply.
FIELD_PATTERNS = {
    ("WebhookEndpointIn", "url"): webhook_rules.URL_PATTERN,
    ("WebhookEndpointPatch", "url"): webhook_rules.URL_PATTERN,
}
# Maps that must name every key of their vocabulary, level by level (a rate card prices every
# platform, tier and deliverable).
COMPLETE_MAPS: dict[tuple[str, str], tuple[type[enum.Enum], ...]] = {
    ("RateCard", "cpm"): (Platform, Tier),
    ("RateCard", "median_engagement_bp"): (Platform, Tier),
    ("RateCard", "click_through_bp"): (Platform,),
    ("RateCard", "deliverable_multiplier_bp"): (Deliverable,),
}
# Items of list parameters the generator leaves bare, by (operation, parameter).
ITEM_PATTERNS = {("searchKols", "region"): "^[A-Z]{2}$"}
CONSTRAINTS = (
    "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "format", "minItems", "maxItems", "uniqueItems", "items",
    "enum", "propertyNames", "additionalProperties",
)  # fmt: skip


@cache
def contract_structs() -> dict[str, type[msgspec.Struct]]:
    """Every struct of `contracts/` by the name its schema has in the document."""
    found: dict[str, type[msgspec.Struct]] = {}
    for module_info in pkgutil.iter_modules(contracts.__path__):
        module = importlib.import_module(f"contracts.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                found.setdefault(value.__name__, value)
    return found


def _requests(document: OpenAPI) -> dict[str, type[msgspec.Struct]]:
    """The components that are request bodies (or parts of them): the strict structs."""
    structs = contract_structs()
    return {
        name: structs[name]
        for name in document.components.schemas or {}
        if name in structs and structs[name].__struct_config__.forbid_unknown_fields
    }


def _plain(node: Any) -> Any:
    """A schema as plain data (the generator's objects turned into dicts)."""
    if isinstance(node, Schema):
        return node.to_schema()
    return node


def _tidy(node: Any) -> Any:
    """Push constraints beside `oneOf [X, null]` into X; make integral bounds integers;
    recurse."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return int(node) if isinstance(node, float) and node.is_integer() else node
    node = {key: _tidy(value) for key, value in node.items()}
    for union in ("oneOf", "anyOf"):
        branches = node.get(union)
        if not isinstance(branches, list):
            continue
        values = [b for b in branches if b != {"type": "null"}]
        if len(values) != 1 or len(values) == len(branches):
            continue
        moved = {key: node.pop(key) for key in CONSTRAINTS if key in node}
        node[union] = [{**values[0], **moved}, {"type": "null"}]
    return node


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    for union in ("oneOf", "anyOf"):
        branches = [b for b in schema.get(union, []) if b != {"type": "null"}]
        if len(branches) == 1:
            rest = {k: v for k, v in schema.items() if k != union}
            return {**rest, **branches[0]}
    return schema


def _text_rules(node: Any) -> None:
    """Strings of a request: no NUL; times and dates between 1970 and 2199."""
    if isinstance(node, list):
        for item in node:
            _text_rules(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _text_rules(value)
    if node.get("type") != "string" or "enum" in node or "const" in node:
        return
    if node.get("format") == "date-time":
        node.setdefault("pattern", DATE_TIME)
    elif node.get("format") == "date":
        node.setdefault("pattern", DATE)
    elif "format" not in node:
        node.setdefault("pattern", NO_NUL)


def _complete_maps(name: str, schema: dict[str, Any]) -> None:
    for (owner, field), levels in COMPLETE_MAPS.items():
        node = schema.get("properties", {}).get(field) if owner == name else None
        for vocabulary in levels if node else ():
            keys = [str(member.value) for member in vocabulary]
            node["propertyNames"] = {"type": "string", "enum": keys}
            node["required"] = keys
            node = node.get("additionalProperties")


def _field_patterns(name: str, schema: dict[str, Any]) -> None:
    for (owner, field), pattern in FIELD_PATTERNS.items():
        target = schema.get("properties", {}).get(field) if owner == name else None
        for branch in (
            [target, *target.get("anyOf", []), *target.get("oneOf", [])] if target else []
        ):
            if branch.get("type") == "string":
                branch["pattern"] = pattern


def _key_vocabularies(schema: dict[str, Any], struct: type[msgspec.Struct]) -> None:
    """`dict[Platform, int]` fields say which keys they take."""
    hints = typing.get_type_hints(struct, include_extras=True)
    for field in msgspec.structs.fields(struct):
        keys = _enum_keys(hints.get(field.name))
        target = schema.get("properties", {}).get(field.encode_name)
        if keys is None or not isinstance(target, dict):
            continue
        for branch in [target, *target.get("oneOf", []), *target.get("anyOf", [])]:
            if branch.get("type") == "object":
                branch["propertyNames"] = {"type": "string", "enum": keys}


def _enum_keys(hint: Any) -> list[str] | None:
    for candidate in (hint, *typing.get_args(hint)):
        origin = typing.get_origin(candidate)
        if origin is typing.Annotated:
            return _enum_keys(typing.get_args(candidate)[0])
        if origin is dict:
            key = typing.get_args(candidate)[0]
            if isinstance(key, type) and issubclass(key, enum.Enum):
                return [str(member.value) for member in key]
    return None


def _contract_schemas(names: list[str]) -> dict[str, Any]:
    """msgspec's schemas of the named contract structs and of everything they refer to."""
    structs = contract_structs()
    types = [structs[name] for name in names if name in structs]
    _, components = msgspec.json.schema_components(types, ref_template=REF)
    return components


def _examples(schemas: dict[str, Any]) -> None:
    """Each struct's example on its schema, where the document has that schema. It goes in
    as raw JSON: the generator drops every null it meets in a dict, and an answer's nulls are
    part of its example."""
    for struct, example in EXAMPLES.items():
        if struct.__name__ in schemas:
            shown = msgspec.json.encode(msgspec.to_builtins(example))
            schemas[struct.__name__]["examples"] = [msgspec.Raw(shown)]


def finish(app: Litestar) -> None:
    """Complete the app's document in place (it is generated here, once, at start)."""
    document = app.openapi_schema
    schemas = document.components.schemas or {}
    requests = _requests(document)
    schemas.update(_contract_schemas(list(schemas)))
    for name in list(schemas):
        plain = _tidy(_plain(schemas[name]))
        if name in requests:
            _field_patterns(name, plain)
            _complete_maps(name, plain)
            plain["additionalProperties"] = False
            _key_vocabularies(plain, requests[name])
            _text_rules(plain)
        schemas[name] = plain  # type: ignore[assignment]
    _examples(schemas)
    for item in (document.paths or {}).values():
        for operation in (
            getattr(item, m, None) for m in ("get", "post", "put", "patch", "delete")
        ):
            for parameter in (operation.parameters or []) if operation else []:
                schema = _tidy(_plain(parameter.schema))
                if parameter.param_in == "header":  # a header is sent, or not: never null
                    schema = _without_null(schema)
                pattern = ITEM_PATTERNS.get((operation.operation_id, parameter.name))
                for branch in [schema, *schema.get("oneOf", [])] if pattern else []:
                    if branch.get("type") == "array":
                        branch["items"] = {"type": "string", "pattern": pattern}
                _text_rules(schema)
                parameter.schema = schema
    _problem_catalogue(schemas)
    _describe_operations(app, document)


# ---- Operations: who may call, what every answer carries, where created objects are read ----

AUTHENTICATED_ANSWERS = {
    401: "Not authenticated: no credentials, or invalid, expired, revoked or suspended ones",
    403: "Forbidden for this caller (role, scope or ownership)",
    429: "Rate limited: too many requests for this caller; see Retry-After",
}
STEP_UP = (
    "Needs a password checked within the last few minutes: otherwise it answers 401 "
    "`reauthentication-required`, and the caller logs in again."
)
KIND_NAMES = {"merchant": "merchant members", "kol": "KOLs", "operator": "operators"}


def _handlers(app: Litestar) -> dict[tuple[str, str], Any]:
    """Each documented operation's handler, by (path, method)."""
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.operation_id and handler.resolve_include_in_schema():
                for method in handler.http_methods:
                    found[(route.path_format, method.lower())] = handler
    return found


def _guards(handler: Any) -> list[Any]:
    return [getattr(guard, "func", guard) for guard in handler.resolve_guards()]


def _security(handler: Any) -> tuple[list[dict[str, list[str]]], str]:
    """The operation's security requirements (role names as scopes of the bearer scheme, the
    key's scope for API keys) and the same in words."""
    if handler.opt.get(PUBLIC):
        return [], "No credentials needed."
    guard = next((g for g in _guards(handler) if hasattr(g, "admitted")), None)
    if guard is None:
        return [{"BearerToken": []}, {"ApiKey": []}], "Any caller."
    roles = sorted(guard.admitted)
    if guard.owner_only:
        roles = [f"{kind}:owner" if kind == "merchant" else kind for kind in roles]
    requirements: list[dict[str, list[str]]] = [{"BearerToken": roles}] if roles else []
    names = [KIND_NAMES.get(kind, kind) for kind in sorted(guard.admitted)]
    if guard.owner_only:
        names = ["merchant owners" if n == "merchant members" else n for n in names]
    words = "Callers: " + (", ".join(names) if names else "none with a token")
    if guard.scope:
        requirements.append({"ApiKey": [guard.scope]})
        words += f"; partner API keys with the scope `{guard.scope}`"
    return requirements, words + "."


def _problem_answer(description: str) -> OpenAPIResponse:
    media = OpenAPIMediaType(schema=Reference(ref=REF.format(name="Problem")))
    return OpenAPIResponse(description=description, content={"application/problem+json": media})


def _header(description: str, required: bool = True) -> OpenAPIHeader:
    return OpenAPIHeader(
        description=description, required=required, schema=Schema(type=OpenAPIType.STRING)
    )


REQUEST_ID = _header("this request's id, in every log line about it and in problems")
RETRY_AFTER = _header("seconds to wait before sending the request again")
LOCATION = _header("where the created object (or the queued plan) is read")


def _answers(operation: Any, handler: Any, public: bool) -> None:
    responses = operation.responses
    if not public:
        for code, text in AUTHENTICATED_ANSWERS.items():
            responses.setdefault(str(code), _problem_answer(text))
    if any(p.name == "Idempotency-Key" for p in operation.parameters or []):
        responses.setdefault(
            "409", _problem_answer("Conflict with the current state, or a reused idempotency key")
        )
    for code, answer in responses.items():
        headers = dict(answer.headers or {})
        headers["X-Request-ID"] = REQUEST_ID
        if code == "429":
            headers["Retry-After"] = RETRY_AFTER
        if code == "503":
            headers["Retry-After"] = _header(RETRY_AFTER.description or "", required=False)
        if code in ("201", "202") and _reading(answer) is not None:
            headers["Location"] = LOCATION
        answer.headers = headers


def _reading(answer: Any) -> locations.Reading | None:
    """The reading of the object a 201 or 202 answer carries, from its schema's name."""
    for media in (answer.content or {}).values():
        ref = getattr(media.schema, "ref", "")
        name = ref.rpartition("/")[2]
        for kind, reading in locations.READINGS.items():
            if kind.__name__ == name:
                return reading
    return None


def _links(document: OpenAPI) -> None:
    """From each 201 and 202 to the operations on what it made: the one that reads it and
    those under its path whose parameters it fills (a stateful client, or a fuzzer, follows
    them from creation to every next step)."""
    paths = document.paths or {}
    for item in paths.values():
        for operation in _operations(item):
            for code in ("201", "202"):
                answer = operation.responses.get(code)
                reading = _reading(answer) if answer is not None else None
                if reading is None:
                    continue
                links = {}
                for path, other in paths.items():
                    if path != reading.path and not path.startswith(reading.path + "/"):
                        continue
                    for target in _operations(other):
                        if {p.name for p in target.parameters or [] if p.param_in == "path"} <= {
                            name for name, _ in reading.parameters
                        }:
                            links[target.operation_id] = Link(
                                operation_id=target.operation_id,
                                parameters={
                                    name: f"$response.body#/{field}"
                                    for name, field in reading.parameters
                                }
                                or None,
                            )
                answer.links = links or None


def _operations(item: Any) -> list[Any]:
    methods = ("get", "put", "post", "patch", "delete")
    return [op for op in (getattr(item, m, None) for m in methods) if op is not None]


# Answers a handler gives in a second media type, by operation: (status, media type, schema).
OTHER_MEDIA = {
    "getBriefReport": ("200", "text/csv", {
        "type": "string",
        "description": "with `format=csv`: a header line, one line per deal, then the total",
    }),
}  # fmt: skip


def _describe_operations(app: Litestar, document: OpenAPI) -> None:
    handlers = _handlers(app)
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            handler = handlers.get((path, method))
            if operation is None or handler is None:
                continue
            requirements, words = _security(handler)
            operation.security = requirements
            if any(getattr(g, "__name__", "") == "recent_login" for g in _guards(handler)):
                words += " " + STEP_UP
            operation.description = "\n\n".join(filter(None, [operation.description, words]))
            _answers(operation, handler, public=not requirements)
            if operation.operation_id in OTHER_MEDIA:
                status, media, schema = OTHER_MEDIA[operation.operation_id]
                content = operation.responses[status].content
                content[media] = OpenAPIMediaType(schema=Schema(**schema))
    _links(document)


def _problem_catalogue(schemas: dict[str, Any]) -> None:
    problem = schemas["Problem"]
    kinds = [f"/problems/{slug}" for slug in PROBLEM_TYPES]
    problem["properties"]["type"] = {
        "type": "string",
        "enum": kinds,
        "description": "what went wrong, one of:\n"
        + "\n".join(f"- `/problems/{slug}`: {text}" for slug, text in PROBLEM_TYPES.items()),
    }
