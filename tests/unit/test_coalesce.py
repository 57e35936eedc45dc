"""The gateway's coalescing of concurrent single scores (services/gateway/coalesce.py): a lone score goes out
as record_score at once; scores arriving while one is in flight go together as one record_scores; each
caller gets its own entry's answer or refusal; callers with different tokens never share a request."""
from __future__ import annotations

import asyncio

import orjson
import pytest

from services.gateway.client import ServiceClient
from services.gateway.coalesce import ScoreCoalescer
from shared.auth import Actor
from shared.errors import DomainError


class SlowRatings(ServiceClient):
    """record_score / record_scores answered after a pause; points 0 refused per entry."""

    def __init__(self):
        super().__init__(nc=None)
        self.sent: list[tuple[str, str, list[str]]] = []  # (command, token, idempotency keys)

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        body = orjson.loads(payload)
        name = subject.rsplit(".", 1)[1]
        entries = body["data"]["scores"] if name == "record_scores" else [body["data"]]
        self.sent.append((name, body["token"], [e["idempotency_key"] for e in entries]))
        await asyncio.sleep(0.05)
        if name == "record_score":
            return orjson.dumps({"ok": True, "seq": 1, "data": {"score_id": "s-" + entries[0]["idempotency_key"],
                                                                 "replayed": False}})
        results = [{"index": i, "ok": True, "score_id": "s-" + e["idempotency_key"], "replayed": False, "error": None}
                   if e["points"] else {"index": i, "ok": False, "score_id": None, "replayed": False, "error": {
                       "code": "invalid_input", "detail": "输入有误 / invalid input", "status": 422,
                       "errors": [{"field": "points", "message": "points must not be 0"}]}}
                   for i, e in enumerate(entries)]
        return orjson.dumps({"ok": True, "seq": len(self.sent), "data": {"results": results}})


def actor(sub: str) -> Actor:
    who = Actor(sub=sub, role="county_admin", county="450503")
    who._token = f"token-of-{sub}"  # as the verifier sets it (shared/auth.py)
    return who


async def test_scores_arriving_meanwhile_share_one_request_and_keep_their_own_answers():
    ratings = SlowRatings()
    coalescer = ScoreCoalescer(lambda: ratings)
    zhang, li = actor("zhang"), actor("li")

    async def score(who: Actor, key: str, points: int = 3):
        return await coalescer.record("450503", who, {"idempotency_key": key, "points": points}, None)

    first = asyncio.create_task(score(zhang, "a"))
    await asyncio.sleep(0.01)  # "a" is in flight: the next ones queue
    rest = [asyncio.create_task(score(zhang, k, p)) for k, p in (("b", 3), ("c", 0), ("d", 2))]
    other = asyncio.create_task(score(li, "e"))
    answers = await asyncio.gather(first, *rest, other, return_exceptions=True)

    assert sorted(ratings.sent) == sorted([("record_score", "token-of-zhang", ["a"]),
                                           ("record_scores", "token-of-zhang", ["b", "c", "d"]),
                                           ("record_score", "token-of-li", ["e"])])
    assert answers[0].data == {"score_id": "s-a", "replayed": False}
    assert [a.data["score_id"] for a in (answers[1], answers[3])] == ["s-b", "s-d"]
    assert answers[1].seq == answers[3].seq > 0
    assert isinstance(answers[2], DomainError) and answers[2].errors[0].field == "points"
    assert answers[4].data["score_id"] == "s-e"
    assert coalescer._queues == {} and coalescer._workers == {}


async def test_a_request_refused_whole_reaches_every_caller_in_it():
    class Down(SlowRatings):
        async def request(self, subject, payload, timeout):
            await asyncio.sleep(0.02)
            raise asyncio.TimeoutError

    coalescer = ScoreCoalescer(lambda: Down())
    zhang = actor("zhang")
    tasks = [asyncio.create_task(coalescer.record("450503", zhang, {"idempotency_key": k, "points": 1}, None))
             for k in "abc"]
    for t in tasks:
        with pytest.raises(DomainError, match="did not answer"):
            await t


async def test_under_heavy_load_a_token_has_a_few_requests_in_flight_each_with_its_share():
    class Counting(SlowRatings):
        def __init__(self):
            super().__init__()
            self.now = self.most = 0

        async def request(self, subject, payload, timeout):
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await super().request(subject, payload, timeout)
            finally:
                self.now -= 1

    ratings = Counting()
    coalescer = ScoreCoalescer(lambda: ratings, in_flight=2, spread_at=2)
    zhang = actor("zhang")

    async def score(key: str):
        return await coalescer.record("450503", zhang, {"idempotency_key": key, "points": 1}, None)

    first = asyncio.create_task(score("a"))
    await asyncio.sleep(0.01)  # "a" in flight; "b" waits alone, with "c" two wait: a second request takes them
    second = [asyncio.create_task(score(k)) for k in "bc"]
    await asyncio.sleep(0.01)
    last = asyncio.create_task(score("d"))  # both requests busy: "d" waits for one of them
    answers = await asyncio.gather(first, *second, last)
    assert [a.data["score_id"] for a in answers] == ["s-a", "s-b", "s-c", "s-d"]
    assert ratings.sent == [("record_score", "token-of-zhang", ["a"]), ("record_scores", "token-of-zhang", ["b", "c"]),
                            ("record_score", "token-of-zhang", ["d"])]
    assert ratings.most == 2 and coalescer._queues == {} and coalescer._workers == {}
