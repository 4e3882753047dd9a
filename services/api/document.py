"""The OpenAPI document partners read, finished once the app has generated it: what the
generator cannot see from the handlers is added here, from the contracts and the routes'
own declarations, so the document says exactly what the service does.

- Request bodies that refuse unknown fields say so (`additionalProperties: false`).
"""

import importlib
import pkgutil
from functools import cache

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPI

import contracts


@cache
def _contract_structs() -> dict[str, type[msgspec.Struct]]:
    """Every struct of `contracts/` by the name its schema has in the document."""
    found: dict[str, type[msgspec.Struct]] = {}
    for module_info in pkgutil.iter_modules(contracts.__path__):
        module = importlib.import_module(f"contracts.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                found.setdefault(value.__name__, value)
    return found


def _strict_bodies(document: OpenAPI) -> None:
    structs = _contract_structs()
    for name, schema in (document.components.schemas or {}).items():
        struct = structs.get(name)
        if struct is not None and struct.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False


def finish(app: Litestar) -> None:
    """Complete the app's document in place (it is generated here, once, at start)."""
    document = app.openapi_schema
    _strict_bodies(document)
