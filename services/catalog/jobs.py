"""Background jobs of the catalog: reference prices follow a newly published rate card."""

import procrastinate

from services.catalog import prices

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="reprice_accounts",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=10),
)
async def reprice_accounts(context: procrastinate.JobContext, version: str) -> int:
    """Price every account with rate card `version` (deferred when it is published)."""
    return await prices.reprice(context.additional_context["pool"], version)
