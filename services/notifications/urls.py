"""Where webhooks may go (SSRF protection): http(s) URLs whose host resolves only to public addresses.

Checked when a subscription is created or changed, and again before every delivery (a name that
resolved to a public address may later resolve to an internal one). Loopback and private networks
are refused unless the operator allows them (`DANGJIAN_WEBHOOK_ALLOW_PRIVATE_HOSTS`, for tests and an
intranet relay)."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from shared.errors import DomainError, FieldError


def refused(field: str, why: str) -> DomainError:
    return DomainError("invalid_input", f"地址不可用 / URL refused: {why}", 422, [FieldError(field, why)])


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, allow_private: bool, field: str = "url") -> str:
    """The URL if it may be called; a 422 naming `field` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused(field, "must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise refused(field, "must not carry a user name or password")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                             type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise refused(field, f"host {parts.hostname} does not resolve") from None
    addresses = {info[4][0] for info in infos}
    if not allow_private and not all(_public(a) for a in addresses):
        raise refused(field, f"host {parts.hostname} is a loopback, private or reserved address")
    return url


def masked(url: str) -> str:
    """The URL as shown back to people: robot access tokens and keys in the query are masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(p.split("=", 1)[0] + "=***" if "=" in p else p for p in parts.query.split("&"))
    return parts._replace(query=query).geturl()
