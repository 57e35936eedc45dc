"""Prometheus metrics of every dangjian process (prometheus-client's default registry, served on the
process's status port by shared/status.py). Labels are bounded: a route template or a subscription
subject, never a raw path or a county-specific subject — except the per (projection, county) figures,
whose counties an operator needs to see.

FastStream's own middleware adds `faststream_*` (received/processed messages, durations, exceptions per
handler) for the NATS handlers; the figures here are what it cannot know: command outcomes by error
code, HTTP requests at the edge, group-commit batch sizes, projection positions, lag and errors.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("dangjian_http_requests_total", "HTTP requests answered by the gateway",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("dangjian_http_request_duration_seconds", "HTTP request latency at the gateway",
                         ["method", "route"], buckets=LATENCY_BUCKETS)
REQUESTS = Counter("dangjian_requests_total",
                   "Commands and queries a service answered, by outcome (ok or the error code)",
                   ["service", "kind", "name", "outcome"])
REQUEST_SECONDS = Histogram("dangjian_request_duration_seconds", "Time a service took to answer a command or query",
                            ["service", "kind", "name"], buckets=LATENCY_BUCKETS)
GROUP_COMMIT_BATCH = Histogram("dangjian_group_commit_batch_events", "Events per group-commit batch (one atomic publish)",
                               ["service"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000))
PROJECTION_POSITION = Gauge("dangjian_projection_position",
                            "Stream sequence a (projection, county) has applied (its checkpoint)",
                            ["service", "projection", "county"])
PROJECTION_LAG = Gauge("dangjian_projection_lag_events", "Events of the county stream a projection has not applied yet",
                       ["service", "projection", "county"])
PROJECTION_ERROR = Gauge("dangjian_projection_error",
                         "1 while a (projection, county) is stopped by an event it cannot apply (see health)",
                         ["service", "projection", "county"])
PROJECTION_ACTIVE = Gauge("dangjian_projection_active",
                          "1 where this instance holds the (projection, county) lease, 0 while standing by",
                          ["service", "projection", "county"])

_COUNTY_TOKEN = re.compile(r"^pb\.[^.]+\.")


def subscription_subject(subject: str) -> str:
    """`pb.450503.cmd.ratings.record_score` → `pb.*.cmd.ratings.record_score`: one label per handler."""
    return _COUNTY_TOKEN.sub("pb.*.", subject)


def record_projections(service: str, projections: Iterable[dict]) -> None:
    """Sets the projection gauges from a service's health list (shared/hosting.py ProjectionHost.health)."""
    for p in projections:
        labels = (service, p["projection"], p["county"])
        if p.get("checkpoint") is not None:
            PROJECTION_POSITION.labels(*labels).set(p["checkpoint"])
        if p.get("lag") is not None:
            PROJECTION_LAG.labels(*labels).set(p["lag"])
        PROJECTION_ERROR.labels(*labels).set(1 if p.get("error") else 0)
        PROJECTION_ACTIVE.labels(*labels).set(1 if p.get("role") == "active" else 0)


def nats_middleware(app_name: str) -> Sequence:
    """FastStream's Prometheus middleware for a service's NATS handlers, one `handler` label per
    subscription subject (the county token of each received subject generalized)."""
    from faststream.nats.prometheus.provider import NatsMetricsSettingsProvider, settings_provider_factory
    from faststream.prometheus.middleware import PrometheusMiddleware

    class PerHandler(NatsMetricsSettingsProvider):
        __slots__ = ()

        def get_consume_attrs_from_message(self, msg):
            attrs = super().get_consume_attrs_from_message(msg)
            return {**attrs, "destination_name": subscription_subject(attrs["destination_name"])}

    def provider(msg):
        inner = settings_provider_factory(msg)
        return PerHandler() if isinstance(inner, NatsMetricsSettingsProvider) else inner

    # what NatsPrometheusMiddleware is, with FastStream's own provider reporting per subscription subject
    return [PrometheusMiddleware(settings_provider_factory=provider, registry=REGISTRY, app_name=app_name)]
DROPPED = Counter("dangjian_requests_dropped_total", "Requests not answered because the requester's deadline "
                  "had passed (stage: queued = not begun, answered = the reply withheld)",
                  ["service", "kind", "name", "stage"])
JOBS_ENDED = Counter("dangjian_jobs_total", "Jobs (rebuilds, imports) that ended, by kind and state",
                     ["kind", "state"])
