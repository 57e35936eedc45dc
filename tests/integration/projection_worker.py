"""A projection in its own process, so a test can kill it with SIGKILL mid-batch.

    python -m tests.integration.projection_worker NATS_URL COUNTY SQLITE_URL
"""
from __future__ import annotations

import asyncio
import sys

from shared import bus
from shared.db import make_engine
from shared.projection_runner import ProjectionRunner
from shared.settings import Settings
from services.ratings.projections.stars import StarsProjection

SUFFIX = "__worker"


async def main(url: str, county: str, db_url: str) -> None:
    import logging

    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    logging.basicConfig(stream=sys.stderr)
    nc = await bus.connect(Settings(), "ratings", url)  # DANGJIAN_CREDENTIALS_DIR from the test
    # its own suffix: the system's ratings service runs the live ratings.stars on the same stream
    runner = ProjectionRunner(nc, make_engine(db_url), StarsProjection(suffix=SUFFIX), county,
                              max_batch=500, pull_batch=500)
    await runner.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
