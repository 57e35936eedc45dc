"""Log lines as an operator's collector reads them: JSON objects in production, with the correlation id
bound for a request on every line (the libraries' lines too), and never a frame's local variables."""
from __future__ import annotations

import json
import logging
import os

import pytest
import structlog

from shared import logs


@pytest.fixture
def configured():
    saved, root = structlog.get_config(), logging.getLogger()
    uvicorn = logging.getLogger("uvicorn.error")
    handlers, level, uvicorn_state = root.handlers[:], root.level, (uvicorn.handlers[:], uvicorn.propagate)
    yield
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level
    uvicorn.handlers[:], uvicorn.propagate = uvicorn_state


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_json_lines_carry_the_correlation_id_and_the_level_filters(configured, capsys):
    logs.configure("INFO", "json")
    log = structlog.get_logger("t")
    with structlog.contextvars.bound_contextvars(correlation_id="req-1"):
        log.info("score.recorded", member="张秀玲")
        logging.getLogger("uvicorn.error").warning("library %s", "line")
        log.debug("not shown")
    log.info("outside")
    first, library, outside = lines(capsys)
    assert first["message"] == "score.recorded" and first["member"] == "张秀玲" and first["level"] == "info"
    assert first["correlation_id"] == library["correlation_id"] == "req-1" and "timestamp" in first
    assert library["message"] == "library line" and library["logger"] == "uvicorn.error"
    assert "correlation_id" not in outside


def test_json_tracebacks_show_no_local_variables(configured, capsys):
    secret = "SUAM" + os.urandom(12).hex()
    logs.configure("WARNING", "json")

    def connect(seed: str) -> None:
        raise RuntimeError("refused")

    try:
        connect(secret)
    except RuntimeError:
        structlog.get_logger("t").exception("nats.connect_failed")
    out = capsys.readouterr().out
    [line] = [json.loads(x) for x in out.splitlines()]
    assert line["exception"][0]["exc_type"] == "RuntimeError" and secret not in out


def test_the_console_format_is_readable_lines(configured, capsys):
    logs.configure("debug", "console")
    structlog.get_logger("t").debug("projection.owned", county="450503")
    out = capsys.readouterr().out
    assert "projection.owned" in out and "county" in out and "450503" in out and not out.lstrip().startswith("{")
