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
  times and dates lie between 1970 and 2199: both are written as patterns.
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
from litestar.openapi.spec import OpenAPI, Schema

import contracts
from contracts.examples import EXAMPLES

REF = "#/components/schemas/{name}"
NO_NUL = "^[^\\u0000]*$"
# RFC 3339 times and dates of the years 1970 to 2199 (`format` checks the rest).
YEARS = "(19[7-9][0-9]|2[01][0-9]{2})"
DATE_TIME = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}T"
DATE = f"^{YEARS}-[0-9]{{2}}-[0-9]{{2}}$"
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


def _key_vocabularies(schema: dict[str, Any], struct: type[msgspec.Struct]) -> None:
    """`dict[Platform, int]` fields say which keys they take."""
    hints = typing.get_type_hints(struct, include_extras=True)
    for field in msgspec.structs.fields(struct):
        keys = _enum_keys(hints.get(field.name))
        target = schema.get("properties", {}).get(field.encode_name)
        if keys is None or not isinstance(target, dict):
            continue
        for branch in [target, *target.get("oneOf", [])]:
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
                _text_rules(schema)
                parameter.schema = schema
