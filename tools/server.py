"""Run the app in-process on a free loopback port, for fuzzing and tests that need real HTTP."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app, port: int | None = None, timeout: float = 20.0):
    """Serve `app` (any ASGI app) on 127.0.0.1 in a thread; yields the base URL."""
    port = port or free_port()
    # No X-Forwarded-For handling of uvicorn's: Charter's request layer decides (CHARTER_TRUSTED_PROXIES).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or not thread.is_alive():
                server.should_exit = True
                raise RuntimeError(f"the app did not come up on {base}") from None
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
