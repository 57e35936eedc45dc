"""The projection runner: keeps one projection of one county up to date from its durable consumer.

The hot loop talks to NATS with nats-py directly (hand-written pull on $JS.API.CONSUMER.MSG.NEXT with a
reply-inbox callback; fetch() and per-message frameworks are several times slower, see decision 004). Each
batch of events and the checkpoint row are committed in ONE transaction; the SQL checkpoint is the truth, so
a crash anywhere neither loses nor double-applies an event: re-delivered events at or below it are skipped.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
import structlog
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from shared.acks import stream_seq
from shared.checkpoints import advance_checkpoint, locked_checkpoint, read_checkpoint, write_checkpoint
from shared.envelope import MalformedEvent, StoredEvent, decode_parsed, decode_wire, parse_envelope
from shared.eventstore import stream_name
from shared.messaging import stop_task
from shared.projection import Projection

log = structlog.get_logger(__name__)
LINGER_BELOW, LINGER_S = 64, 0.005   # a busy runner waits 5 ms for more events when it has fewer than 64
CHECKPOINT_EVERY_S = 1.0             # a checkpoint with nothing folded is persisted at most this late


class ProjectionRunner:
    """Keeps one projection of one county up to date from its durable consumer."""

    def __init__(self, nc: NATS, engine: Engine, projection: Projection, county: str,
                 max_batch: int = 5000, pull_batch: int = 5000, authenticator: Any = None):
        """authenticator: shared.authenticity.Authenticator (the services' runners always have one): a
        folded event that is unsigned, forged or altered stops the projection like a malformed one."""
        self.nc, self.js, self.engine, self.authenticator = nc, nc.jetstream(), engine, authenticator
        self.projection, self.county, self.max_batch, self.pull_batch = projection, county, max_batch, pull_batch
        self.checkpoint = 0
        self.error: tuple[int, str] | None = None
        self._buffer: list = []
        self._arrived = asyncio.Event()
        self._progress = asyncio.Condition()
        self._outstanding = 0
        self._last_activity = 0.0
        self._task: asyncio.Task | None = None
        self._sub = None
        self._failures = 0
        self._last_batch_at = 0.0
        self._persisted_at = 0.0
        self.unpersisted = 0  # events acknowledged (nothing to fold) whose checkpoint is not committed yet
        self.retrying: str | None = None  # last transient failure while a batch is being retried

    @property
    def filter_subjects(self) -> list[str]:
        return [f"pb.{self.county}.evt.{s}" for s in self.projection.subjects]

    @property
    def durable(self) -> str:
        return self.projection.checkpoint_name.replace(".", "_").replace("~", "_")

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.projection.create_tables, self.engine)
        self.checkpoint, error_seq, error = await asyncio.to_thread(self._load_checkpoint)
        if error_seq is not None:
            self.error = (error_seq, error or "")
            log.error("projection.stopped_on_error", projection=self.projection.name, county=self.county,
                      seq=error_seq, error=error)
            return
        self._loop_ref = asyncio.get_running_loop()
        if self.authenticator is not None:
            await self.authenticator.prime(self.county)
        # a restart (after a rebuild's swap, a lease regained) forgets what the last run had pulled: the
        # consumer is re-aligned with the checkpoint below, so those events come again
        self._buffer, self._outstanding, self.error = [], 0, None
        await self._ensure_consumer()
        inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(inbox, cb=self._on_msg, pending_msgs_limit=4 * self.pull_batch + 1000,
                                            pending_bytes_limit=256 * 1024 * 1024)
        self._inbox = inbox
        self._task = asyncio.create_task(self._loop(), name=f"projection:{self.durable}:{self.county}")

    async def stop(self) -> None:
        if self._task:
            await stop_task(self._task)
            self._task = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    def _load_checkpoint(self) -> tuple[int, int | None, str | None]:
        with self.engine.connect() as conn:
            return read_checkpoint(conn, self.projection.checkpoint_name, self.county)

    async def _ensure_consumer(self) -> None:
        stream = stream_name(self.county)
        try:
            info = await self.js.consumer_info(stream, self.durable)
            same_filter = sorted(info.config.filter_subjects or [info.config.filter_subject or ""]) == \
                sorted(self.filter_subjects)
            if same_filter and info.ack_floor.stream_seq == self.checkpoint and info.num_ack_pending == 0:
                return
            await self.js.delete_consumer(stream, self.durable)  # realign with the SQL checkpoint
        except NotFoundError:
            pass
        start = self.checkpoint + 1
        await self.js.add_consumer(stream, ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ack_policy=AckPolicy.ALL, ack_wait=120, max_ack_pending=-1, max_waiting=4,
            filter_subjects=self.filter_subjects,
            description=f"projection {self.projection.checkpoint_name} of county {self.county}",
        ))

    # -- pull loop -------------------------------------------------------------------------
    async def _on_msg(self, msg) -> None:
        self._last_activity = time.monotonic()
        if not msg.data and msg.headers and msg.headers.get("Status"):
            status = msg.headers["Status"]
            if status in ("408", "404", "409"):  # request expired / nothing / server-side reset
                left = msg.headers.get("Nats-Pending-Messages")
                self._outstanding = max(0, self._outstanding - int(left)) if left else 0
                self._arrived.set()
            return
        self._outstanding -= 1
        self._buffer.append(msg)
        self._arrived.set()

    async def _request_more(self) -> None:
        body = orjson.dumps({"batch": self.pull_batch, "expires": 5_000_000_000})
        await self.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream_name(self.county)}.{self.durable}", body,
                              reply=self._inbox)
        self._outstanding += self.pull_batch
        self._last_activity = time.monotonic()

    async def _loop(self) -> None:
        while True:
            if self._outstanding < self.pull_batch // 2:
                await self._request_more()
            if not self._buffer:
                self._arrived.clear()
                try:  # not wait_for: on 3.11 it can swallow a stop's cancel
                    async with asyncio.timeout(CHECKPOINT_EVERY_S if self.unpersisted else 6.0):
                        await self._arrived.wait()
                except TimeoutError:
                    if self.unpersisted:  # quiet now: commit the checkpoint the last batches skipped
                        await asyncio.to_thread(advance_checkpoint, self.engine, self.projection, self.county,
                                                self.checkpoint)
                        self._persisted_at, self.unpersisted = time.monotonic(), 0
                    if time.monotonic() - self._last_activity > 6.0:
                        self._outstanding = 0  # request lost (reconnect): ask again
                    continue
                if not self._buffer:
                    continue
            if len(self._buffer) < LINGER_BELOW and time.monotonic() - self._last_batch_at < 0.02:
                await asyncio.sleep(LINGER_S)  # under a steady trickle, gather a few more per transaction
            msgs, self._buffer = self._buffer[: self.max_batch], self._buffer[self.max_batch:]
            try:
                ok = await asyncio.to_thread(self._process, msgs)
            except Exception as exc:  # e.g. database unavailable: nothing was committed, try the batch again
                log.exception("projection.batch_failed", projection=self.projection.checkpoint_name,
                              county=self.county, first_seq=stream_seq(msgs[0].reply), error=str(exc))
                self.retrying = str(exc)
                self._buffer[:0] = msgs
                await asyncio.sleep(min(30.0, 0.5 * (2 ** min(self._failures, 6))))
                self._failures += 1
                continue
            self._failures, self.retrying = 0, None
            self._last_batch_at = time.monotonic()
            if not ok:
                return

    def _process(self, msgs: list) -> bool:
        """Decode, fold and commit one batch with its checkpoint; ack it. Runs in a worker thread.

        Only the types the projection folds are validated with Pydantic; for the others the envelope
        is checked and skipped. A batch with nothing to fold commits no transaction: its checkpoint
        is written with the next real batch or within a second (after a crash those events are
        delivered again and skipped again)."""
        events: list[StoredEvent] = []
        last_seq = self.checkpoint
        failure: tuple[int, str] | None = None
        handles, auth = self.projection.handles, self.authenticator
        one_pass = auth is None and not self.projection.keeps_unknown
        for msg in msgs:
            seq = stream_seq(msg.reply)
            if seq <= last_seq:
                continue  # already applied before a crash: never twice
            try:
                if one_pass:  # nothing needs the envelope as a dict: decoded from bytes in one pass
                    events += filter(None, (decode_wire(seq, msg.subject, msg.data, handles),))
                elif (env := parse_envelope(msg.data))["type"] in handles:
                    if auth is not None and (refused := auth.check(self.county, seq, msg.subject, env)):
                        raise MalformedEvent(f"not authentic: {refused}")
                    ev = decode_parsed(seq, msg.subject, env)
                    if ev.event is not None or self.projection.keeps_unknown:
                        events.append(ev)
            except MalformedEvent as exc:
                failure = (seq, str(exc))
                break
            last_seq = seq
        now = time.monotonic()
        if events or failure or now - self._persisted_at > CHECKPOINT_EVERY_S:
            with self.engine.begin() as conn:
                # another instance of the service may have applied some of these meanwhile (a scaled
                # deployment): the checkpoint row, locked, decides — an event is never applied twice
                persisted = locked_checkpoint(conn, self.projection.checkpoint_name, self.county)
                events = [ev for ev in events if ev.seq > persisted]
                if events:
                    self.projection.apply(conn, self.county, events)
                write_checkpoint(conn, self.projection.checkpoint_name, self.county, max(last_seq, persisted),
                                 *(failure or (None, None)), schema_version=self.projection.schema_version)
            self._persisted_at, self.unpersisted = now, 0
            self.projection.after_commit(self.county, events)
        else:
            self.unpersisted += sum(1 for m in msgs if self.checkpoint < stream_seq(m.reply) <= last_seq)
        if last_seq > self.checkpoint:
            ack_to = next(m for m in reversed(msgs) if stream_seq(m.reply) <= last_seq)
            asyncio.run_coroutine_threadsafe(self.nc.publish(ack_to.reply, b"+ACK"), self._loop_ref)
        self.checkpoint = last_seq
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop_ref)
        if failure:
            self.error = failure
            log.error("projection.malformed_event", projection=self.projection.checkpoint_name,
                      county=self.county, seq=failure[0], error=failure[1])
            return False
        return True

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    # -- read-your-writes ------------------------------------------------------------------
    async def wait_for(self, seq: int, timeout: float) -> bool:
        """True once everything up to `seq` that this projection receives is applied (bounded wait).

        The consumer is filtered, so `seq` may be an event this projection never sees: then the
        server says whether anything matching is still undelivered or unacknowledged (acks follow
        commits) — if nothing is, every matching event up to `seq`, already stored, is applied."""
        if self.checkpoint >= seq:
            return True
        try:
            async with asyncio.timeout(timeout):
                while self.error is None:
                    if self.checkpoint >= seq or await self._drained():
                        return True
                    async with self._progress:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.05):
                                await self._progress.wait()
        except TimeoutError:
            return False
        return self.checkpoint >= seq

    async def persisted_checkpoint(self) -> int:
        """The committed checkpoint row (whoever runs this projection)."""
        return (await asyncio.to_thread(self._load_checkpoint))[0]

    async def wait_for_elsewhere(self, seq: int, timeout: float) -> bool:
        """Read-your-writes on an instance where this runner is a standby (another instance holds the
        lease): the owner's committed checkpoint row, or the server saying nothing matching is left."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    checkpoint, error_seq, _ = await asyncio.to_thread(self._load_checkpoint)
                    if error_seq is not None:
                        return False
                    with contextlib.suppress(NotFoundError):
                        if checkpoint >= seq or await self._drained():
                            return True
                    await asyncio.sleep(0.02)
        except TimeoutError:
            return False

    async def _drained(self) -> bool:
        info = await self.js.consumer_info(stream_name(self.county), self.durable)
        return info.num_pending == 0 and info.num_ack_pending == 0 and not self._buffer

    async def pending(self) -> int:
        """Matching events not committed (rows and checkpoint; health's lag, 0 = a reader sees all): not
        delivered, not acked (acks follow commits), acked in a skipped batch whose checkpoint waits."""
        info = await self.js.consumer_info(stream_name(self.county), self.durable)
        return info.num_pending + info.num_ack_pending + self.unpersisted

    def status(self, lag: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"projection": self.projection.checkpoint_name, "county": self.county,
                               "checkpoint": self.checkpoint}
        if lag is not None:
            out["lag"] = lag
        if self.error:
            out["error"] = {"seq": self.error[0], "message": self.error[1]}
        if self.retrying:
            out["retrying"] = self.retrying
        return out
