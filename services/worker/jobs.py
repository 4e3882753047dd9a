"""The worker's own housekeeping: jobs left `doing` by a worker that died (its heartbeat
stopped) are put back in the queue, so a `kill -9` or a lost machine delays a job but never
strands it. Every job of kolmarket is safe to run twice."""

import procrastinate
import structlog

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)

# A worker beats every 10 s; one silent for this long is gone.
DEAD_AFTER_SECONDS = 60


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="retry_stalled_jobs", pass_context=True, queueing_lock="retry_stalled_jobs")
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> int:
    """Put back in the queue the jobs whose worker stopped beating; returns how many."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=DEAD_AFTER_SECONDS))
    for job in stalled:
        await manager.retry_job(job)
        log.warning("stalled_job_retried", job_id=job.id, task=job.task_name)
    return len(stalled)
