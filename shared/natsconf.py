"""Who may do what on the bus: the NATS subject permissions of each component, written into the
nats-server configuration (embedded default and clustered topology alike).

Every component connects with its own nkey (shared/credentials.py) and gets its own inbox prefix
(`_INBOX.<component>.`), so nobody can read another component's replies. Nothing is allowed unless
listed: in particular only the operator may use the stream management API ($JS.API.STREAM.CREATE,
UPDATE, DELETE, PURGE, MSG.DELETE ...). Services answer requests through `allow_responses` (a
one-time right to publish to the reply subject of a request they received), never by a general
right to publish to inboxes. docs/decisions/012-nats-access.md explains each rule.
"""
from __future__ import annotations

import json

from shared.credentials import SERVICES
from shared.jobs import BUCKET as JOBS
from shared.leases import BUCKET as LEASES
from shared.revocations import BUCKET as REVOCATIONS
from shared.signing import WRITES
PROVISION_COUNTY = "pb.platform.provision.county"   # organizations → the provisioner (operator credential)
COUNTY_ADDED = "pb.platform.county_added"
# the largest message: a 10 MB import travels base64 (13.4 MB) in a JSON request with its token.
# nats-server warns above 8 MB and refuses above 64 MB (deploy/nats.conf says the same)
MAX_PAYLOAD = "16MB"
# what the server buffers for one slow client before it drops the connection (default 64 MB): a services
# process reads its projections' 10,000-event pulls, the archive's and the on_stored feed over one
# connection, and on a loaded machine (load 15+ on 2 cores) 64 MB was exceeded while a county's 20,000
# members were folded — the connection was dropped, with its pulls and acks (decision 021)
MAX_PENDING = "256MB"


def inbox_prefix(component: str) -> str:
    return f"_INBOX.{component}"


def _kv(bucket: str, write: bool, watch: bool = False) -> list[str]:
    stream = f"KV_{bucket}"
    rights = [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>",
              f"$JS.API.STREAM.MSG.GET.{stream}"]
    if write:
        rights.append(f"$KV.{bucket}.>")
    if watch:  # an ordered push consumer on the bucket's stream
        rights += [f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
                   f"$JS.API.CONSUMER.DELETE.{stream}.*", f"$JS.API.CONSUMER.INFO.{stream}.*",
                   f"$JS.FC.{stream}.>", f"$JS.ACK.{stream}.>"]
    return rights


# reading the county logs: stream info, Direct Get, and pull consumers (create, next, ack, delete).
# NATS wildcards match whole tokens only ("PB_*" would be a literal), and county streams come and go
# without a server reload, so these name any stream: reading is not a secret among services; what
# changes a stream (STREAM.CREATE/UPDATE/DELETE/PURGE, MSG.DELETE) is never listed.
READ_LOGS = ["$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
             "$JS.API.DIRECT.GET.*", "$JS.API.DIRECT.GET.*.>", "$JS.API.STREAM.MSG.GET.*"]
CONSUME_LOGS = ["$JS.API.CONSUMER.CREATE.*", "$JS.API.CONSUMER.CREATE.*.>",
                "$JS.API.CONSUMER.DURABLE.CREATE.*.*", "$JS.API.CONSUMER.INFO.*.*",
                "$JS.API.CONSUMER.DELETE.*.*", "$JS.API.CONSUMER.MSG.NEXT.*.*",
                "$JS.API.CONSUMER.NAMES.*", "$JS.API.CONSUMER.LIST.*", "$JS.ACK.>"]
SEND_REQUESTS = ["pb.*.cmd.>", "pb.*.qry.>", "pb.platform.health.*"]
# the gateway's live notification feed: an ordered push consumer per county (services/gateway/live.py).
# The consumer API cannot be narrowed to a filter subject here (nats-py's ordered consumer names none),
# so this lets the gateway read the logs it already sees every county's answers from (decision 015).
LIVE_FEED = ["$JS.API.STREAM.INFO.*", "$JS.API.CONSUMER.CREATE.*", "$JS.API.CONSUMER.CREATE.*.>",
             "$JS.API.CONSUMER.DELETE.*.*", "$JS.API.CONSUMER.INFO.*.*", "$JS.FC.>"]


def permissions(component: str) -> dict:
    """The publish/subscribe allow lists of one component (nats-server `permissions` block)."""
    inbox = f"{inbox_prefix(component)}.>"
    if component == "operator":
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    if component == "gateway":
        return {"publish": {"allow": [*SEND_REQUESTS, *LIVE_FEED, *_kv(REVOCATIONS, write=True, watch=True),
                                      *_kv(JOBS, write=True)]},  # GET …/jobs; the 积分表 import's job
                "subscribe": {"allow": [inbox]}}
    if component == "cli":  # the gateway's rights, plus reading the logs (dangjian verify)
        return {"publish": {"allow": [*SEND_REQUESTS, *READ_LOGS, *_kv(REVOCATIONS, write=True),
                                      *_kv(JOBS, write=False)]},
                "subscribe": {"allow": [inbox]}}
    if component in SERVICES:
        name = component
        own_events = [f"pb.*.evt.{context}.>" for context in WRITES[name]]
        publish = [*own_events, *READ_LOGS, *CONSUME_LOGS, *_kv(LEASES, write=True), *_kv(JOBS, write=True),
                   f"pb.platform.rebuild.{name}.>"]  # forwarding a rebuild to the instance that owns it
        if name == "organizations":  # adds counties: asks the provisioner for the stream, then tells everyone
            publish += [PROVISION_COUNTY, COUNTY_ADDED]
        subscribe = [inbox, f"pb.*.cmd.{name}.>", f"pb.*.qry.{name}.>", f"pb.platform.health.{name}",
                     f"pb.platform.rebuild.{name}.>", COUNTY_ADDED, "pb.*.evt.>"]
        return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}, "allow_responses": True}
    raise ValueError(f"unknown component {component!r}")


def authorization_block(public_keys: dict[str, str]) -> str:
    """`authorization { users = [...] }` for nats-server: one nkey user per component. JSON is valid
    NATS configuration syntax, and quoting every subject keeps `$`, `*` and `>` literal."""
    users = [{"nkey": key, "permissions": permissions(component)} for component, key in public_keys.items()]
    return "authorization {\n  users = " + json.dumps(users, indent=2).replace("\n", "\n  ") + "\n}\n"


def cluster_auth_config(public_keys: dict[str, str], route_password: str,
                        nodes: tuple[str, ...] = ("nats-1", "nats-2", "nats-3"), route_port: int = 6222) -> str:
    """The secret half of a cluster node's configuration (`nats-auth.conf`, which the committed
    deploy/nats.conf includes; docker-compose.yml mounts it as a secret): client authorization as
    above, and routes that need a password of their own, so no unknown server can join the cluster."""
    routes = ", ".join(json.dumps(f"nats-route://route:{route_password}@{node}:{route_port}") for node in nodes)
    return (f"cluster {{\n  name: dangjian\n  listen: 0.0.0.0:{route_port}\n"
            f"  authorization {{ user: route, password: {json.dumps(route_password)} }}\n"
            f"  routes: [{routes}]\n}}\n" + authorization_block(public_keys))
