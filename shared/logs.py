"""Logging of every dangjian process: structlog's console output, with tracebacks that never show
local variables. structlog's default prints each frame's locals (rich), and a frame's locals can hold
a bearer token (a request body) or an nkey seed (a connect call's arguments): secrets never reach logs."""
from __future__ import annotations

import logging

import structlog


def configure(level: str = "INFO") -> None:
    formatter = structlog.dev.RichTracebackFormatter(show_locals=False, max_frames=20)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.StackInfoRenderer(), structlog.dev.set_exc_info,
                    structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
                    structlog.dev.ConsoleRenderer(exception_formatter=formatter)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False)
