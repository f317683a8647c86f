"""One HTTP attempt at a webhook URL, through the egress guard at the moment of sending.

The host is resolved once per attempt; every address it gave must be public (unless private ones
are allowed); the request goes to the first of them, pinned, so a second lookup (DNS rebinding)
cannot send it elsewhere. TLS still names the host (SNI and certificate checks), as does the
Host header. No redirect is followed: a 3xx is a failed attempt like any other non-2xx.

Connections are kept alive and reused, but only for the very address the guard has just
checked: the pool is keyed by (scheme, host, port, address), so when a name comes to resolve
elsewhere the next attempt opens a new connection to the new address (if it passes the guard),
and a connection to the old one is never used for it. A kept connection idle for IDLE_S is
closed rather than reused; a request on a reused connection that the peer had closed meanwhile
is sent once more on a new one (still the same message: at least once, one webhook-id).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from services.webhooks import egress

TIMEOUT_S = 15.0
USER_AGENT = "Charter-Webhooks/1"
_TLS = ssl.create_default_context()
IDLE_S = 4.0  # a kept connection idle longer is closed, not reused (servers drop idle ones: 5 s is common)
KEEP_PER_ADDRESS = 32  # idle connections kept per (scheme, host, port, address)
KEEP_ADDRESSES = 256  # addresses with kept connections; the least recently used beyond that are dropped
READ_MAX = 65536  # of an answer's body; a longer body is not read to its end, and its connection is closed
# errors of a kept connection the peer closed while it was idle (the request never reached it)
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


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


Key = tuple[str, str, int, str]  # scheme, host, port, the address connected to


class Pool:
    """Idle kept-alive connections, by the address they are connected to; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: OrderedDict[Key, list[tuple[float, http.client.HTTPConnection]]] = OrderedDict()

    def take(self, key: Key) -> http.client.HTTPConnection | None:
        """A kept connection to exactly this address, idle less than IDLE_S; None when there is none."""
        stale = []
        found = None
        now = time.monotonic()
        with self._lock:
            kept = self._idle.get(key)
            while kept:
                since, conn = kept.pop()
                if now - since < IDLE_S:
                    found = conn
                    break
                stale.append(conn)
            if kept is not None and not kept:
                del self._idle[key]
        for conn in stale:
            conn.close()
        return found

    def give(self, key: Key, conn: http.client.HTTPConnection) -> None:
        dropped = []
        with self._lock:
            kept = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(kept) < KEEP_PER_ADDRESS:
                kept.append((time.monotonic(), conn))
            else:
                dropped.append(conn)
            while len(self._idle) > KEEP_ADDRESSES:
                _, old = self._idle.popitem(last=False)
                dropped.extend(c for _, c in old)
        for c in dropped:
            c.close()

    def close(self) -> None:
        with self._lock:
            kept = [c for conns in self._idle.values() for _, c in conns]
            self._idle.clear()
        for c in kept:
            c.close()


POOL = Pool()


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
    pool: Pool = POOL,
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
    key: Key = (parts.scheme, host, port, address)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {**headers, "content-type": "application/json", "user-agent": USER_AGENT}
    while True:
        kept = pool.take(key)
        conn = kept or (_PinnedTLS if tls else _Pinned)(host, port, address, timeout)
        try:
            if kept is not None and kept.sock is not None:
                kept.sock.settimeout(timeout)
            conn.request("POST", path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read(READ_MAX)
            status = answer.status
            after = retry_after(answer.getheader("retry-after"))
        except _STALE as exc:
            conn.close()
            if kept is not None:
                continue  # the peer closed it while it was idle: once more, on a new connection
            return Outcome(None, took(), f"{type(exc).__name__}: {exc}"[:500])
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            return Outcome(None, took(), f"{type(exc).__name__}: {exc}"[:500])
        if answer.isclosed() and not answer.will_close:
            pool.give(key, conn)  # read to its end, and the peer keeps it open
        else:
            conn.close()
        return Outcome(status, took(), None if 200 <= status < 300 else f"answered {status}", after)
