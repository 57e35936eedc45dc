"""The log verifier: every event of a county's stream is checked — readable, on the subject of its own
aggregate, hash matching its content, signed by a writer key allowed for its context (or stored before
signing), linked to the previous event of its aggregate — and the stream's sequence is continuous from
1 to its last sequence. Every break is reported with its sequence and aggregate, not only the first
(docs/decisions/016-audit-log.md). The same checks run over an export file (shared/audit_export.py).

Ed25519 verification is the costly part, so it runs once per aggregate: on its chain's head. Each hash
covers the previous one, so a valid head signature vouches for every intact link below it (a writer
never signs onto an event it cannot verify, see EventStore.load). An aggregate whose head does not
verify, or whose chain is broken, has every signature checked, so each forged event is named.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nats.js.errors import APIError

from shared.authenticity import signed_from_of
from shared.canonical import GENESIS
from shared.direct_wire import read_log
from shared.envelope import MalformedEvent, parse_envelope, subject_for
from shared.eventstore import CountyNotFound, EventStore, stream_name
from shared.signing import EventKeys

MAX_REPORTED = 1000  # breaks listed in full; more are counted


@dataclass
class Break:
    seq: int | None
    subject: str | None
    kind: str      # stream_missing, gap, truncated, unreadable, misplaced, altered, forged, unsigned, chain
    reason: str
    aggregate: str | None = None

    def describe(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "stream"
        agg = f" {self.aggregate}" if self.aggregate else (f" {self.subject}" if self.subject else "")
        return f"{where}{agg} [{self.kind}]: {self.reason}"


@dataclass
class VerifyReport:
    county: str
    checked: int = 0
    signed: int = 0
    before_signing: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    breaks: list[Break] = field(default_factory=list)
    more_breaks: int = 0

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_broken(self) -> Break | None:
        return self.breaks[0] if self.breaks else None

    def add(self, brk: Break) -> None:
        if len(self.breaks) < MAX_REPORTED:
            self.breaks.append(brk)
        else:
            self.more_breaks += 1

    def as_dict(self) -> dict[str, Any]:
        return {"county": self.county, "ok": self.ok, "checked": self.checked, "signed": self.signed,
                "before_signing": self.before_signing, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "breaks": [b.__dict__ for b in self.breaks], "more_breaks": self.more_breaks}


class ChainChecker:
    """Checks a county's events in stream order; feed it (seq, subject, body) and read `report`."""

    def __init__(self, county: str, keys: EventKeys, signed_from: int):
        self.county, self.keys, self.signed_from = county, keys, signed_from
        self.report = VerifyReport(county)
        self._last_hash: dict[str, str] = {}
        self._heads: dict[str, dict[str, Any]] = {}  # subject -> its last signed envelope
        self.suspect: set[str] = set()                # subjects whose every signature must be checked
        self._expected_seq = 1

    def feed(self, seq: int, subject: str, body: bytes) -> None:
        r = self.report
        if seq <= 0:  # an export file's line that is not an event at all (-seq: its line number)
            r.checked += 1
            r.add(Break(None, None, "unreadable", f"line {-seq} of the file is not an exported event"))
            return
        if r.first_seq is None:
            r.first_seq = seq
        if seq > self._expected_seq:
            missing = f"{self._expected_seq}" if seq - 1 == self._expected_seq else f"{self._expected_seq}–{seq - 1}"
            r.add(Break(self._expected_seq, None, "gap",
                        f"sequence {missing} missing from the stream (deleted or lost), {seq - self._expected_seq} "
                        "event(s)"))
        self._expected_seq, r.last_seq = seq + 1, seq
        r.checked += 1
        try:
            env = parse_envelope(body)
        except MalformedEvent as exc:
            r.add(Break(seq, subject, "unreadable", f"not a readable envelope: {exc}", _aggregate_of(subject)))
            return
        aggregate = f"{env['aggregate_type']}/{env['aggregate_id']}"
        if env["county"] != self.county or subject != subject_for(self.county, env["context"], env["aggregate_type"],
                                                                   env["aggregate_id"]):
            r.add(Break(seq, subject, "misplaced", f"envelope of {env['county']} {env['context']}.{aggregate} stored "
                        f"on another subject (copied from elsewhere)", aggregate))
        refused = self.keys.check(env, seq, self.signed_from, signature=False, county=self.county)
        if refused:
            kind = "altered" if refused.startswith("hash") else "unsigned" if refused.startswith("unsigned") else "forged"
            r.add(Break(seq, subject, kind, refused, aggregate))
            self.suspect.add(subject)
        elif "sig" in env:
            r.signed += 1
            self._heads[subject] = {"seq": seq, "key_id": env["key_id"], "hash": env["hash"], "sig": env["sig"]}
        else:
            r.before_signing += 1
        expected_prev = self._last_hash.get(subject, GENESIS)
        if env["prev_hash"] != expected_prev:
            r.add(Break(seq, subject, "chain", f"prev_hash {env['prev_hash'][:12]}… does not follow the previous "
                        f"event of this aggregate ({expected_prev[:12]}…)", aggregate))
            self.suspect.add(subject)
        self._last_hash[subject] = env["hash"]  # the claimed hash: one damaged event is one break, not two

    def heads_to_rescan(self) -> set[str]:
        """Checks each aggregate's head signature; the subjects whose events must be checked one by one."""
        for subject, head in self._heads.items():
            if subject not in self.suspect and self.keys.check_signature(head):
                self.suspect.add(subject)
        return self.suspect

    def rescan(self, events: Iterable[tuple[int, str, bytes]]) -> None:
        """Every signature of a suspect aggregate's events (forged ones are reported by sequence)."""
        for seq, subject, body in events:
            try:
                env = parse_envelope(body)
            except MalformedEvent:
                continue  # reported already
            if isinstance(env.get("sig"), str) and not self.keys.check_key(env, seq, self.county) and \
                    (refused := self.keys.check_signature(env)):
                self.report.add(Break(seq, subject, "forged", refused, f"{env['aggregate_type']}/{env['aggregate_id']}"))

    def finish(self, stream_last_seq: int | None) -> VerifyReport:
        if stream_last_seq is not None and stream_last_seq >= self._expected_seq:
            self.report.add(Break(self._expected_seq, None, "truncated",
                                  f"the stream's last sequence is {stream_last_seq}, but events "
                                  f"{self._expected_seq}–{stream_last_seq} could not be read"))
        return self.report


def _aggregate_of(subject: str) -> str | None:
    parts = subject.split(".")
    return "/".join(parts[4:6]) + ("." + ".".join(parts[6:]) if len(parts) > 6 else "") if len(parts) > 5 else None


async def verify_county(store: EventStore, county: str, keys: EventKeys | None = None) -> VerifyReport:
    """Check the county's whole stream (Direct Get, 1,000 events a request)."""
    keys = keys if keys is not None else EventKeys({})
    try:
        info = await store.js.stream_info(stream_name(county))
    except Exception:  # NotFoundError, or the stream API refusing: the log is not there to read
        report = VerifyReport(county)
        report.add(Break(None, None, "stream_missing", f"the event stream {stream_name(county)} of county "
                         f"{county} does not exist (deleted?)"))
        return report
    checker = ChainChecker(county, keys, signed_from_of(info.config.metadata))
    try:
        async for seq, subject, body in read_log(store, county):  # over a connection of its own
            checker.feed(seq, subject, body)
        for subject in sorted(checker.heads_to_rescan()):
            checker.rescan(await store._direct_all(county, subject))
    except CountyNotFound:
        checker.report.add(Break(checker.report.last_seq, None, "stream_missing", "the stream went away while read"))
    except (APIError, TimeoutError) as exc:  # the server cannot read on (a damaged block): where it stopped
        after = (checker.report.last_seq or 0) + 1
        checker.report.add(Break(after, None, "unreadable", f"the server could not read the stream from here: {exc}"))
    checker.report.breaks.sort(key=lambda b: (b.seq or 0))
    return checker.finish(info.state.last_seq)


def verify_lines(lines: Callable[[], Iterable[tuple[int, str, bytes]]], county: str, keys: EventKeys,
                 signed_from: int, last_seq: int | None) -> VerifyReport:
    """The same checks over (seq, subject, body) lines, e.g. an export file (`lines` may be read twice)."""
    checker = ChainChecker(county, keys, signed_from)
    for seq, subject, body in lines():
        checker.feed(seq, subject, body)
    suspect = checker.heads_to_rescan()
    if suspect:
        checker.rescan(line for line in lines() if line[1] in suspect)
    checker.report.breaks.sort(key=lambda b: (b.seq or 0))
    return checker.finish(last_seq)
