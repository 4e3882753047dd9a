"""Dependency resolution that cleans up when it fails part-way.

Litestar resolves a route's dependencies in batches, the dependencies of a batch at once. When
one of them raises (the KOL search's query, say, when a minimum exceeds its maximum: 422), the
generator dependencies of the request already entered are dropped without being closed, the
request's pooled connection (`services.web.provide_db`) among them: the connection stays out
of the pool until the garbage collector happens to finalise the abandoned generator, so a burst
of such requests can drain the pool, and a pool closing at shutdown waits for it forever.

`install` replaces `KwargsModel.resolve_dependencies` with the same resolution that, when it
fails, throws the error into the generators already entered (as Litestar does when a handler
fails) before the error goes on to its problem answer.
"""

import contextlib
from typing import Any

from anyio import create_task_group
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection


async def resolve_dependencies(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    """Resolve every dependency into `kwargs`; on failure close what was entered, then raise."""
    cleanup_group = DependencyCleanupGroup()
    try:
        for batch in self.dependency_batches:
            if len(batch) == 1:
                await resolve_dependency(next(iter(batch)), connection, kwargs, cleanup_group)
                continue
            try:
                async with create_task_group() as group:
                    for dependency in batch:
                        group.start_soon(
                            resolve_dependency, dependency, connection, kwargs, cleanup_group
                        )
            except ExceptionGroup as failed:
                raise failed.exceptions[0] from failed
    except BaseException as exc:
        # A failing cleanup must not hide why the request failed.
        with contextlib.suppress(Exception):
            await cleanup_group.close(exc)
        raise
    return cleanup_group


def install() -> None:
    KwargsModel.resolve_dependencies = resolve_dependencies  # type: ignore[method-assign]
