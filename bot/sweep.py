"""The deadline sweep as one repeating JobQueue job (ARCHITECTURE §3)."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.runtime import Runtime
from models.deadline import SweepResult, sweep

log = logging.getLogger(__name__)
JOB_NAME = "deadline-sweep"


async def run_sweep(rt: Runtime) -> SweepResult:
    result = await sweep(rt.sessions, rt.clock.now(), rt.env)
    if result.fired or result.failed:
        log.info("sweep: %s fired, %s failed", result.fired, result.failed)
    if result.fired and rt.delivery is not None:
        rt.delivery.kick()
    return result


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = context.application.bot_data["runtime"]
    await run_sweep(rt)


def install(application: Application, rt: Runtime) -> None:
    """Schedule the sweep every PROPDESK_SWEEP_SECONDS; a slow run is skipped, not queued."""
    assert application.job_queue is not None, "python-telegram-bot[job-queue] is required"
    application.job_queue.run_repeating(
        _job,
        interval=rt.settings.sweep_seconds,
        first=1,
        name=JOB_NAME,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
