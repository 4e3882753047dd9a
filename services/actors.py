"""Who is acting: the caller of a use case, as a plain value below the HTTP layer.

The API turns credentials into a `Caller`; the worker, the command line and tests build one
directly. Use cases read only this struct, never a request.
"""

from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Caller:
    kind: str  # merchant | kol | operator | partner
    user_id: UUID | None = None
    merchant_id: UUID | None = None
    member_role: str | None = None
    kol_id: UUID | None = None
    api_key_id: UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        """Whose budget a request spends and whose idempotency keys it uses."""
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"
