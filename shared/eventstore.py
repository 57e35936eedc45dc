"""The event store: one JetStream stream per county is the system of record.

Appends use optimistic concurrency per aggregate subject (Nats-Expected-Last-Subject-Sequence) and
Nats-Msg-Id = event id, so a publish retried after a lost ack is dropped by the server. Several
events from one command go in one atomic batch (all or none). Reads use batched Direct Get: one
request per 1,000 events instead of one round trip each (docs/decisions/002-event-log.md).
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
import orjson
from nats.aio.client import Client as NATS
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError

from shared.appendfailures import (WRONG_LAST_SEQUENCE, ConcurrencyConflict, CountyNotFound,  # noqa: F401 - re-exported
                                   LogUnavailable, missing_or_unavailable)
from shared.direct_wire import read_log
from shared.envelope import decode_checked, iso
from shared.groupcommit import GroupCommit
from shared.ids import COUNTY_CODE, PLATFORM, new_id
from shared.metrics import GROUP_COMMIT_BATCH
from shared.signing import SIGNED_FROM

STREAM_PREFIX = "PB_"
DIRECT_BATCH = 1000
ATOMIC_MAX = 1000  # JetStream limit of one atomic batch


def stream_name(county: str) -> str:
    return f"{STREAM_PREFIX}{county}"


def county_subjects(county: str) -> str:
    return f"pb.{county}.evt.>"


@dataclass(frozen=True, slots=True)
class Appended:
    event_id: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Durability:
    replicas: int = 1
    duplicate_window_s: float = 300.0
    group_commit: bool = True  # concurrent single-event appends share one atomic batch (shared/groupcommit.py)


class EventStore:
    def __init__(self, nc: NATS, durability: Durability = Durability(),
                 provisioner: Callable[[NATS, str], Awaitable[bool]] | None = None, name: str = ""):
        """`provisioner`: how a service without stream management rights gets a county's stream
        created (shared/provisioning.py); None = create it here (operator credential)."""
        self.nc, self.name, self.provisioner = nc, name, provisioner  # name: the writing service (a metrics label)
        self.js, self.durability = nc.jetstream(), durability
        self._mux_prefix, self._mux_counter = None, 0
        self._replies: dict[str, asyncio.Queue] = {}
        self._groups: dict[str, GroupCommit] = {}
        self.authenticator: Any = None  # shared.authenticity.Authenticator, set by the service

    # -- streams ---------------------------------------------------------------------------
    async def add_county_stream(self, county: str) -> bool:
        """Create the county's stream; False when it already existed."""
        if not COUNTY_CODE.match(county):
            raise ValueError(f"county code must be 6 digits: {county!r}")
        if self.provisioner is not None:
            return await self.provisioner(self.nc, county)
        return await self._add_stream(county, f"dangjian event log of county {county}")

    async def add_platform_stream(self) -> bool:  # the deployment's own stream (accounts), beside the counties'
        return await self._add_stream(PLATFORM, "dangjian platform log: accounts")

    async def _add_stream(self, county: str, description: str) -> bool:
        config = StreamConfig(
            name=stream_name(county), description=description, subjects=[county_subjects(county)],
            storage=StorageType.FILE, num_replicas=self.durability.replicas, deny_delete=True, deny_purge=True,
            allow_direct=True, duplicate_window=self.durability.duplicate_window_s,
            metadata={SIGNED_FROM: "1"},  # every event of a new county is signed (shared/signing.py)
        )
        config.allow_atomic = True
        try:
            await self.js.stream_info(config.name)
            return False
        except NotFoundError:
            await self.js.add_stream(config)
            return True

    async def has_county(self, county: str) -> bool:
        with contextlib.suppress(NotFoundError):
            return bool(await self.js.stream_info(stream_name(county)))
        return False

    async def list_counties(self) -> list[str]:
        infos = await self.js.streams_info()
        names = (i.config.name for i in infos)
        codes = (n[len(STREAM_PREFIX):] for n in names if n and n.startswith(STREAM_PREFIX))
        return sorted(c for c in codes if COUNTY_CODE.match(c))  # not PB_platform

    async def last_seq(self, county: str) -> int:
        try:
            info = await self.js.stream_info(stream_name(county))
        except NotFoundError:
            raise CountyNotFound(county) from None
        return info.state.last_seq

    # -- append ----------------------------------------------------------------------------
    async def append(self, county: str, subject: str, envelopes: list[dict[str, Any]],
                     expected_seq: int) -> list[Appended]:
        """Append one aggregate's new events after `expected_seq` (0 = the subject is empty)."""
        if len(envelopes) > 1:
            return await self._publish_batch(county, subject, envelopes, expected_seq)
        if not self.durability.group_commit:
            return [await self._publish_one(county, subject, envelopes[0], expected_seq)]
        return [await self.enqueue(county, subject, envelopes[0], expected_seq)]

    def enqueue(self, county: str, subject: str, env: dict, expected_seq: int, after: asyncio.Future | None = None):
        """Queue one event in the county's group commit (`after`: see shared/groupcommit.py); no wait."""
        group = self._groups.get(county)
        if group is None:
            group = self._groups[county] = GroupCommit(
                ATOMIC_MAX, lambda items: self.append_atomic(county, items),
                lambda subj, env, expected: self._publish_one(county, subj, env, expected),
                refused=(ConcurrencyConflict, APIError), on_batch=GROUP_COMMIT_BATCH.labels(self.name or "-").observe)
        return group.enqueue(subject, env, expected_seq, after)

    def group_commit_figures(self) -> dict[str, dict]:
        """Per county: events appended through group commit, batches, time with a batch in flight."""
        return {county: group.figures() for county, group in self._groups.items()}

    async def _publish_one(self, county: str, subject: str, env: dict, expected: int) -> Appended:
        headers = {"Nats-Msg-Id": env["event_id"], "Nats-Expected-Last-Subject-Sequence": str(expected)}
        try:
            ack = await self.js.publish(subject, orjson.dumps(env), headers=headers, stream=stream_name(county))
        except BadRequestError as exc:
            if exc.err_code in WRONG_LAST_SEQUENCE:
                raise ConcurrencyConflict(subject) from None
            raise
        except nats.errors.NoRespondersError:
            raise await self._absent(county) from None
        return Appended(env["event_id"], ack.seq, env["hash"])

    async def _absent(self, county: str) -> Exception:  # appended to before: it exists (shared/appendfailures.py)
        return await missing_or_unavailable(county, county in self._groups, self.has_county)

    async def _publish_batch(self, county: str, subject: str, envs: list[dict], expected: int) -> list[Appended]:
        return await self.append_atomic(county, [(subject, e, None if i else expected) for i, e in enumerate(envs)])

    async def append_atomic(self, county: str, items: list[tuple[str, dict, int | None]]) -> list[Appended]:
        """Atomic batch (server ≥2.12, stream allow_atomic): all events are stored or none.

        items: (subject, envelope, expected last subject sequence or None), at most 1,000."""
        if not 0 < len(items) <= ATOMIC_MAX:
            raise ValueError(f"an atomic batch holds 1 to {ATOMIC_MAX} events")
        envs = [env for _, env, _ in items]
        batch_id = new_id()
        last = len(items)
        for i, (subject, env, expected) in enumerate(items, start=1):
            headers = {"Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(i), "Nats-Msg-Id": env["event_id"]}
            if expected is not None:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(expected)
            body = orjson.dumps(env)
            if i < last:
                await self.nc.publish(subject, body, headers=headers)
                continue
            headers["Nats-Batch-Commit"] = "1"
            try:
                reply = await self.nc.request(subject, body, headers=headers, timeout=self.js._timeout)
            except nats.errors.NoRespondersError:
                raise await self._absent(county) from None
            ack = orjson.loads(reply.data)
            if "error" in ack:
                err = ack["error"]
                if err.get("err_code") in WRONG_LAST_SEQUENCE:
                    raise ConcurrencyConflict(subject)
                raise APIError(code=err.get("code"), err_code=err.get("err_code"), description=err.get("description"))
        first_seq = ack["seq"] - last + 1
        return [Appended(e["event_id"], first_seq + n, e["hash"]) for n, e in enumerate(envs)]

    # -- read ------------------------------------------------------------------------------
    async def load(self, county: str, subject: str):
        """All events of one aggregate (subject), oldest first; with an authenticator (every service's store)
        an unsigned, forged or altered event refuses the load: a writer never continues a chain it cannot vouch for."""
        raws = await self._direct_all(county, subject)
        if self.authenticator is None:
            return [decode_checked(*raw) for raw in raws]
        await self.authenticator.prime(county)
        return [self.authenticator.checked(county, *raw) for raw in raws]

    async def read(self, county: str, from_seq: int = 1, since: datetime | None = None, upto_seq: int | None = None):
        """The county's whole log from a sequence or a recorded time, in order."""
        async for raw in self.read_raw(county, from_seq, since, upto_seq):
            yield decode_checked(*raw)

    async def read_matching(self, county: str, subject_filter: str, upto_seq: int | None = None, bulk=False):
        """Decoded events of the county whose subject matches a wildcard filter (pb.<county>.evt.org.enterprise.>),
        in log order; with an authenticator (services) authenticated like a replay, the last check after the
        last event (shared/authenticity.py). `bulk`: a long read, over a connection of its own (direct_wire.py)."""
        raws = read_log(self, county, subject_filter) if bulk else self._direct_batches(county, subject_filter, 1)
        if self.authenticator is not None:
            async for ev in self.authenticator.read_matching(raws, county, upto_seq):
                yield ev
            return
        async for raw in raws:
            if upto_seq is not None and raw[0] > upto_seq:
                return
            yield decode_checked(*raw)

    async def read_raw(self, county: str, from_seq: int = 1, since: datetime | None = None,
                       upto_seq: int | None = None) -> AsyncIterator:
        """(seq, subject, body) of the county's log, undecoded: for the verifier and backups."""
        async for raw in self._direct_batches(county, county_subjects(county), from_seq, since):
            if upto_seq is not None and raw[0] > upto_seq:
                return
            yield raw

    async def _direct_batches(self, county: str, subject: str, start_seq: int = 1,
                              since: datetime | None = None) -> AsyncIterator:
        """(seq, subject, data) of every message matching `subject`, 1,000 per Direct Get request."""
        api = f"$JS.API.DIRECT.GET.{stream_name(county)}"
        inbox, queue = await self._reply_inbox()
        try:
            request: dict[str, Any] = {"next_by_subj": subject, "batch": DIRECT_BATCH}
            if since is not None:
                request["start_time"] = iso(since)
            else:
                request["seq"] = start_seq
            while request is not None:
                got, request = await self._direct_batch(county, api, subject, request, inbox, queue)
                for raw in got:
                    yield raw
        finally:
            self._replies.pop(inbox, None)

    async def _direct_all(self, county: str, subject: str) -> list[tuple[int, str, bytes]]:
        """The same as a list, without an async generator: aggregate loads are the command path's
        hottest read (a generator and a timeout task per message cost more than the read)."""
        api = f"$JS.API.DIRECT.GET.{stream_name(county)}"
        inbox, queue = await self._reply_inbox()
        out: list[tuple[int, str, bytes]] = []
        try:
            request: dict[str, Any] | None = {"next_by_subj": subject, "batch": DIRECT_BATCH, "seq": 1}
            while request is not None:
                got, request = await self._direct_batch(county, api, subject, request, inbox, queue)
                out.extend(got)
        finally:
            self._replies.pop(inbox, None)
        return out

    async def _direct_batch(self, county: str, api: str, subject: str, request: dict, inbox: str,
                            queue: asyncio.Queue) -> tuple[list[tuple[int, str, bytes]], dict | None]:
        """One Direct Get batch: its messages, and the request for the next batch (None at the end)."""
        await self.nc.publish(api, orjson.dumps(request), reply=inbox)
        got: list[tuple[int, str, bytes]] = []
        timeout = self.js._timeout
        async with asyncio.timeout(timeout) as deadline:  # per message, re-armed as each one arrives
            while True:
                msg = await queue.get()
                deadline.reschedule(asyncio.get_running_loop().time() + timeout)
                status = msg.headers.get("Status") if msg.headers else None
                if status:
                    if status == "404" and not got:
                        return got, None  # nothing (more) on this subject
                    if status == "204":
                        break  # end of batch
                    if status == "503":  # no stream, or (a cluster) none of its servers answering right now
                        raise await self._absent(county)
                    raise APIError(description=f"direct get on {subject}: status {status}")
                got.append((int(msg.headers["Nats-Sequence"]), msg.headers["Nats-Subject"], msg.data))
        pending = int(msg.headers.get("Nats-Num-Pending", "0"))
        if len(got) < DIRECT_BATCH or pending == 0:
            return got, None
        return got, {"next_by_subj": subject, "batch": DIRECT_BATCH, "seq": got[-1][0] + 1}

    async def _reply_inbox(self) -> tuple[str, asyncio.Queue]:
        """A reply subject of its own on ONE wildcard subscription shared by every read (like nats-py's
        request mux): subscribing and unsubscribing per aggregate load cost the server and the client
        more than the read itself."""
        if self._mux_prefix is None:
            self._mux_prefix = self.nc.new_inbox()
            await self.nc.subscribe(f"{self._mux_prefix}.*", cb=self._on_reply)
        self._mux_counter += 1
        inbox = f"{self._mux_prefix}.{self._mux_counter}"
        queue: asyncio.Queue = asyncio.Queue()
        self._replies[inbox] = queue
        return inbox, queue

    async def _on_reply(self, msg) -> None:
        queue = self._replies.get(msg.subject)
        if queue is not None:
            queue.put_nowait(msg)
