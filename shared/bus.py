"""Connecting to NATS as one component: its own nkey, its own inbox prefix, reconnecting for ever.

    nc = await bus.connect(settings, "ratings", url)           # nats-py
    NatsBroker(url, **bus.broker_options(settings, "ratings"))  # FastStream: the same identity

A restarted broker (shared/natsserver.py supervises the embedded one) is found again within about
RECONNECT_WAIT_S; until then publishes are buffered by the client and requests answer 503.
"""
from __future__ import annotations

from typing import Any

import nats
import structlog

from shared.natsconf import inbox_prefix
from shared.settings import Settings, nats_servers

log = structlog.get_logger(__name__)
RECONNECT_WAIT_S = 0.5
FIRST_CONNECT_ATTEMPTS = 60  # ~30 s for a broker that is still starting; a refused credential fails then


def options(settings: Settings, component: str, reconnect: bool = True) -> dict[str, Any]:
    """nats.connect / NatsBroker keyword arguments for `component` (the seed is read from its file
    each time: a rotated credential is picked up by the next connection)."""
    opts: dict[str, Any] = {"inbox_prefix": inbox_prefix(component), "name": f"dangjian-{component}",
                            "nkeys_seed_str": settings.keyring().seed(component)}
    if reconnect:
        opts |= {"max_reconnect_attempts": -1, "reconnect_time_wait": RECONNECT_WAIT_S, "allow_reconnect": True}
    else:
        opts |= {"max_reconnect_attempts": 1, "allow_reconnect": False}
    return opts


def broker_options(settings: Settings, component: str) -> dict[str, Any]:
    """The same for FastStream's NatsBroker: the seed as its `security` (shown in the AsyncAPI document)."""
    from faststream.nats.security import NatsNKey

    opts = options(settings, component)
    return opts | {"security": NatsNKey.from_seed(opts.pop("nkeys_seed_str"))}


def same_identity(nc) -> dict[str, Any]:
    """Options for a second connection with the credential and inbox prefix of an open one (the
    rebuild's replay reads over a connection of its own)."""
    opts: dict[str, Any] = {"inbox_prefix": bytes(nc._inbox_prefix)}
    if nc._nkeys_seed_str:
        opts["nkeys_seed_str"] = nc._nkeys_seed_str
    return opts


async def _error_cb(exc: Exception) -> None:
    # nats-py reports permission violations and lost connections here; the message names a subject,
    # never a credential
    log.warning("nats.error", error=str(exc) or type(exc).__name__)


async def connect(settings: Settings, component: str, url: str | list[str], reconnect: bool = True, **kw: Any):
    """Connected as `component`; raises MissingCredential when its seed file is absent. The first
    connection is tried for ~30 s (a refused credential must not retry silently for ever), after that
    a lost connection is re-established for ever."""
    opts = {"error_cb": _error_cb, **options(settings, component, reconnect), **kw}
    url = nats_servers(url)  # one server or a cluster's several: nats-py takes a list
    if reconnect and opts.get("max_reconnect_attempts") == -1:
        opts["max_reconnect_attempts"] = FIRST_CONNECT_ATTEMPTS
        nc = await nats.connect(url, **opts)
        nc.options["max_reconnect_attempts"] = -1  # nats-py reads it from here on each reconnect
        return nc
    return await nats.connect(url, **opts)
