"""Logging of every dangjian process: one line per event, JSON in production (`DANGJIAN_LOG_FORMAT=json`,
what the compose file sets: one object per line for a log collector) or readable console lines in
development, at `DANGJIAN_LOG_LEVEL`. Lines of the libraries (uvicorn, FastStream, nats) go through the
same renderer. Values bound with `structlog.contextvars.bound_contextvars(correlation_id=...)` — the
gateway binds each request's, a service each command's — appear on every line logged while handling it.

Tracebacks never show local variables: structlog's defaults print each frame's locals (rich, and the
dict traceback of the JSON renderer), and a frame's locals can hold a bearer token (a request body) or
an nkey seed (a connect call's arguments): secrets never reach logs.
"""
from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

LogFormat = Literal["console", "json"]


def processors(fmt: LogFormat) -> list:
    shared = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
              structlog.processors.StackInfoRenderer(), structlog.dev.set_exc_info]
    if fmt == "json":
        return [*shared, structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
                structlog.processors.EventRenamer("message", "event"),  # "message" is what collectors expect
                structlog.processors.JSONRenderer(ensure_ascii=False)]
    formatter = structlog.dev.RichTracebackFormatter(show_locals=False, max_frames=20)
    return [*shared, structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(exception_formatter=formatter)]


def configure(level: str = "INFO", fmt: LogFormat = "console") -> None:
    numeric = logging.getLevelName(level.upper())
    chain = processors(fmt)
    structlog.configure(processors=chain, wrapper_class=structlog.make_filtering_bound_logger(numeric),
                        logger_factory=structlog.PrintLoggerFactory(sys.stdout), cache_logger_on_first_use=False)
    # the standard library's records (uvicorn, FastStream, nats) rendered the same way
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *chain[:-1]], processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, chain[-1]]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # a uvicorn that configured its own before
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
