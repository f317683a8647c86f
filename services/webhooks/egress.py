"""The egress guard: which webhook URLs the server may send to (against SSRF).

Only http and https with a host. A host that is, or resolves to, an address that is not public
is refused: private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT) and the
cloud metadata addresses, in IPv4 and IPv6, an IPv4-mapped or 6to4/Teredo IPv6 address judged by
the IPv4 address it carries. The name is resolved (getaddrinfo), never connected to; one address
that is not public is enough to refuse. A name that does not resolve now is not refused here:
every delivery checks the address again, and a name may resolve later.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]

METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not private per ipaddress, not public


def resolve(host: str) -> list[str]:
    """The addresses `host` resolves to (no connection is made); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def not_public(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if carried is not None:
            return not_public(carried)
    if address in METADATA:
        return "a cloud metadata address"
    for what, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private),
    ):
        if flag:
            return f"{what} address"
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED:
        return "a shared (CGNAT) address"
    if not address.is_global:
        return "not a public address"
    return None


def refused(url: str, *, allow_private: bool = False, resolver: Resolver = resolve) -> str | None:
    """Why the server must not send to `url`, or None when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is no number or out of range
    except ValueError:
        return "the URL does not parse"
    if parts.scheme not in ("http", "https"):
        return "the URL must be http or https"
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        why = not_public(literal)
        return f"{host} is {why}" if why else None
    for text in resolver(host):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        why = not_public(address)
        if why:
            return f"{host} resolves to {address}, {why}"
    return None
