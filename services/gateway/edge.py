"""One HTTP call's way to the services: the actor, the county, and read-your-writes bookkeeping.

Services answer a query only once their read-model reached `min_seq` (bounded wait). The gateway
remembers, per (token subject, county), the highest stream sequence that client's writes returned,
so a GET right after a POST shows the change. It is best effort and per process (a client talking to
several gateway instances can send `Dangjian-Min-Seq` itself, from the `Dangjian-Seq` it got)."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from threading import Lock
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, create_model

from services.gateway.auth import CountyPath, county_reader, county_writer
from services.gateway.bodies import Command
from services.gateway.client import Reply, ServiceClient
from shared.auth import Actor
from shared.errors import DomainError

SEQ_HEADER = "Dangjian-Seq"
MIN_SEQ_HEADER = "Dangjian-Min-Seq"
MAX_SEQ = 2**63 - 1  # a JetStream sequence is a uint64; JSON between the services carries int64


class SeqTracker:
    """Bounded LRU of (sub, county) → highest seq written; old clients fall out first."""

    def __init__(self, max_entries: int = 50_000):
        self.max_entries = max_entries
        self._seqs: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = Lock()

    def note(self, sub: str, county: str, seq: int) -> None:
        if seq <= 0:
            return
        key = (sub, county)
        with self._lock:
            self._seqs[key] = max(seq, self._seqs.get(key, 0))
            self._seqs.move_to_end(key)
            while len(self._seqs) > self.max_entries:
                self._seqs.popitem(last=False)

    def get(self, sub: str, county: str) -> int | None:
        with self._lock:
            return self._seqs.get((sub, county))


def with_seq(data: Any, seq: int) -> dict[str, Any]:
    """A write answers the service's data plus the stream sequence it reached."""
    return {**data, "seq": seq} if isinstance(data, dict) else {"data": data, "seq": seq}


@cache
def written(model: type[BaseModel]) -> type[BaseModel]:
    """The response model of a write: the service's reply model plus the stream sequence it reached,
    e.g. `@router.post(..., response_model=written(ScoreRecorded))`."""
    return create_model(f"{model.__name__}Written", __base__=model, __doc__=model.__doc__,
                        seq=(int, Field(description="stream sequence of the write; send it as Dangjian-Min-Seq "
                                                    "to read your own write from another gateway")))


@dataclass
class Edge:
    client: ServiceClient
    tracker: SeqTracker
    actor: Actor
    county: str
    correlation_id: str | None
    response: Response
    min_seq: int | None = None
    state: Any = None  # the app's state (the job registry, for work the gateway runs as a job)

    async def write(self, service: str, name: str, data: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        try:
            reply = await self.client.command(self.county, service, name, self.actor, data,
                                              correlation_id=self.correlation_id, timeout=timeout)
        except DomainError as exc:
            raise (data.refusal(exc) if isinstance(data, Command) else exc) from None
        self.tracker.note(self.actor.sub, self.county, reply.seq)
        self._seq_header(reply)
        return with_seq(reply.data, reply.seq)

    async def start_job(self, service: str, name: str, data: dict[str, Any]) -> JSONResponse:
        """Long work: 202 with the job at once, `Location` where to poll it (GET …/jobs/{id})."""
        reply = await self.client.command(self.county, service, name, self.actor, data,
                                          correlation_id=self.correlation_id, as_job=True)
        return JSONResponse(reply.data, status_code=202, headers={"Location": reply.data["link"]})

    async def read(self, service: str, name: str, data: dict[str, Any]) -> Any:
        remembered = self.tracker.get(self.actor.sub, self.county)
        min_seq = max((s for s in (remembered, self.min_seq) if s), default=None)
        reply = await self.client.query(self.county, service, name, self.actor,
                                        {k: v for k, v in data.items() if v is not None},
                                        min_seq=min_seq, correlation_id=self.correlation_id)
        self._seq_header(reply)
        return reply.data

    def _seq_header(self, reply: Reply) -> None:
        if reply.seq:
            self.response.headers[SEQ_HEADER] = str(reply.seq)


def make_edge(request: Request, response: Response, actor: Actor, county: str,
              min_seq: int | None = None) -> Edge:
    state = request.app.state
    return Edge(state.client, state.seq_tracker, actor, county,
                getattr(request.state, "correlation_id", None), response, min_seq, state)


async def reader(request: Request, response: Response, county: CountyPath,
                 actor: Annotated[Actor, Depends(county_reader)],
                 min_seq: Annotated[int | None, Header(alias=MIN_SEQ_HEADER, ge=0, le=MAX_SEQ,
                                                       description="read-your-writes: answer only once "
                                                                   "the read-model reached this sequence")] = None,
                 ) -> Edge:
    return make_edge(request, response, actor, county, min_seq)


async def writer(request: Request, response: Response, county: CountyPath,
                 actor: Annotated[Actor, Depends(county_writer)]) -> Edge:
    return make_edge(request, response, actor, county)


ReadEdge = Annotated[Edge, Depends(reader)]
WriteEdge = Annotated[Edge, Depends(writer)]
