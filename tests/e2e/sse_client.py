"""A small SSE client over httpx for the tests: reads events (id, event, data) from a stream until it has
as many as asked for, then disconnects."""
from __future__ import annotations

import asyncio
import json


async def read_events(http, url: str, headers: dict, count: int, timeout: float = 20.0,
                      started: asyncio.Event | None = None) -> list[dict]:
    events: list[dict] = []
    async with asyncio.timeout(timeout):
        async with http.stream("GET", url, headers=headers, timeout=None) as resp:
            assert resp.status_code == 200, await resp.aread()
            assert resp.headers["content-type"].startswith("text/event-stream")
            if started is not None:
                started.set()
            current: dict = {}
            async for line in resp.aiter_lines():
                if line == "":
                    if "data" in current:
                        events.append({"id": int(current["id"]), "event": current.get("event"),
                                       "data": json.loads(current["data"])})
                        if len(events) >= count:
                            return events
                    current = {}
                elif line.startswith(":"):
                    current.setdefault("comments", 0)
                else:
                    key, _, value = line.partition(":")
                    current[key] = value[1:] if value.startswith(" ") else value
    return events
