"""The walls between contexts, read from the code: imports go one way (no cycle between
packages), use cases know nothing of HTTP, the pricing engine nothing of services, and each
table is written by the SQL of one context only (services/README.md says who owns what)."""

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
# Contexts: packages under services/ that own tables and use cases. The rest of services/ is
# the kernel (modules every context may use) and the roofs (api, worker, cli, demo).
ROOFS = {"services.api", "services.worker", "services.cli", "services.demo"}
HTTP_FACES = {"routes.py", "redirect.py"}

OWNERS = {
    "accounts": {
        "users", "merchants", "merchant_members", "member_invitations", "api_keys",
        "refresh_tokens", "rate_limits", "login_addresses", "login_throttles",
    },
    "audit": {"audit_log"},
    "events": {"events"},
    "idempotency": {"idempotency_keys"},
    "limits": {"limit_counters"},
    "catalog": {"kols", "kol_accounts", "kol_account_snapshots", "authenticity_overrides"},
    "planning": {"plans", "plan_items", "rate_cards"},
    "briefs": {"briefs"},
    "negotiation": {"offers", "offer_revisions"},
    "deals": {"deals"},
    "delivery": {"submissions"},
    "disputes": {"disputes"},
    "tracking": {"tracking_links", "clicks", "conversions"},
    "payments": {
        "deal_fundings", "payouts", "payout_accounts", "refunds", "stripe_events",
        "merchant_billing", "commission_settlements", "commission_accruals",
        "payment_operations",
    },
    "ledger": {"ledger_accounts", "journal_entries", "postings"},
    "webhooks": {"webhook_endpoints", "webhook_deliveries", "webhook_attempts", "webhook_fanout"},
    "notifications": {
        "notifications", "notification_emails", "notification_preferences",
        "notification_reminders", "notification_position",
    },
}  # fmt: skip
# Tables written by libraries on our behalf: the job queue and the migration tool.
NOT_OURS = re.compile(r"^(procrastinate_|alembic_version$)")
WRITE = re.compile(
    r"(?<!FOR )(?<!KEY )(?<!DO )\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE)\s+"
    r"([a-z_][a-z0-9_]*)",
    re.IGNORECASE,
)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.glob("*/**/*.py")):
        top = path.relative_to(ROOT).parts[0]
        if top in ("services", "contracts", "pricing"):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def _room(module: str) -> str:
    """The node of the import graph a module belongs to: a package of services/ or a
    top-level module of it; contracts and pricing are one node each."""
    parts = module.split(".")
    if parts[0] != "services":
        return parts[0]
    if len(parts) >= 2 and (SERVICES / parts[1]).is_dir():
        return f"services.{parts[1]}"
    return ".".join(parts[:2]) if len(parts) >= 2 else "services"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _ours(name: str) -> bool:
    head = name.split(".")[0]
    if head not in ("services", "contracts", "pricing"):
        return False
    target = ROOT.joinpath(*name.split("."))
    return target.with_suffix(".py").exists() or target.is_dir()


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in _modules():
        source = _room(module)
        for name in filter(_ours, _imports(path)):
            target = _room(name)
            if target not in (source, "services"):
                edges[source].add(target)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    assert _cycle(_graph()) is None


def test_no_context_imports_the_app_or_the_worker() -> None:
    edges = _graph()
    leaks = {
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if target in ROOFS and source not in ROOFS
    }
    assert leaks == set()


def test_pricing_and_contracts_know_nothing_of_services() -> None:
    edges = _graph()
    assert edges["pricing"] <= {"contracts"}
    assert edges["contracts"] == set()
    for _, path in _modules():
        if path.relative_to(ROOT).parts[0] == "pricing":
            outside = {n.split(".")[0] for n in _imports(path)}
            assert not outside & {"asyncpg", "litestar", "stripe", "services"}, path


def test_use_cases_know_nothing_of_http() -> None:
    for module, path in _modules():
        room = _room(module)
        if not room.startswith("services.") or room in ROOFS or room == "services.web":
            continue
        if path.name in HTTP_FACES:
            continue
        web = {n for n in _imports(path) if n.split(".")[0] == "litestar"}
        web |= {n for n in _imports(path) if _room(n) in ("services.web", "services.api")}
        assert web == set(), f"{module} imports {sorted(web)}"


def _copies(node: ast.AST) -> bool:
    """A bulk copy into a named table (`conn.copy_records_to_table("clicks", ...)`)."""
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "copy_records_to_table"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
    )


def _writers() -> dict[str, set[str]]:
    """Each table some SQL of services/ writes, with the rooms whose SQL does."""
    writers: dict[str, set[str]] = defaultdict(set)
    for module, path in _modules():
        if not module.startswith("services."):
            continue
        room = _room(module).removeprefix("services.")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in WRITE.finditer(node.value):
                    writers[match.group(1).lower()].add(room)
            elif _copies(node):
                writers[str(node.args[0].value)].add(room)  # type: ignore[attr-defined]
    return writers


async def test_each_table_is_written_by_its_owner_only(db: asyncpg.Connection) -> None:
    tables = {
        row["tablename"]
        for row in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if not NOT_OURS.match(row["tablename"])
    }
    owner_of = {table: owner for owner, owned in OWNERS.items() for table in owned}
    assert set(owner_of) == tables, "every table has one owner in OWNERS (and services/README.md)"
    writers = _writers()
    wrong = {
        table: sorted(rooms)
        for table, rooms in writers.items()
        if table in tables and rooms != {owner_of[table]}
    }
    assert wrong == {}
