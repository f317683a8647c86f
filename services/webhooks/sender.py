"""One HTTP attempt at a webhook URL, through the egress guard at the moment of sending.

The host is resolved once; every address it gave must be public (unless private ones are
allowed); the request goes to the first of them, pinned, so a second lookup (DNS rebinding)
cannot send it elsewhere. TLS still names the host (SNI and certificate checks), as does the
Host header. No redirect is followed: a 3xx is a failed attempt like any other non-2xx.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from services.webhooks import egress

TIMEOUT_S = 15.0
USER_AGENT = "Charter-Webhooks/1"
_TLS = ssl.create_default_context()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no answer (refused, unreachable, timed out)
    duration_ms: int
    error: str | None = None
    retry_after_s: float | None = None  # what a Retry-After header asked for

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedTLS(_Pinned):
    def connect(self) -> None:
        super().connect()
        self.sock = _TLS.wrap_socket(self.sock, server_hostname=self.host)


def address_for(host: str, *, allow_private: bool, resolver: egress.Resolver) -> tuple[str | None, str | None]:
    """(the address to connect to, None) or (None, why not)."""
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        addresses = list(resolver(host))
    if not addresses:
        return None, f"{host} does not resolve"
    if not allow_private:
        for text in addresses:
            why = egress.not_public(ipaddress.ip_address(text))
            if why:
                return None, f"{host} resolves to {text}, {why}"
    return addresses[0], None


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header (delta-seconds or an HTTP date) asks for; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def send(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool = False,
    resolver: egress.Resolver = egress.resolve,
    timeout: float = TIMEOUT_S,
) -> Outcome:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    why = egress.refused(url, allow_private=True)  # the URL's form; its address is judged below
    if why:
        return Outcome(None, took(), why)
    parts = urlsplit(url)
    host = parts.hostname or ""
    address, why = address_for(host, allow_private=allow_private, resolver=resolver)
    if address is None:
        return Outcome(None, took(), f"refused by the egress guard: {why}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    conn = (_PinnedTLS if tls else _Pinned)(host, port, address, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
        )
        answer = conn.getresponse()
        answer.read(65536)
        status = answer.status
        after = retry_after(answer.getheader("retry-after"))
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, took(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        conn.close()
    return Outcome(status, took(), None if 200 <= status < 300 else f"answered {status}", after)
