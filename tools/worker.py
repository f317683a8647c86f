"""The gunicorn worker `charter serve` runs: uvicorn's, with two changes.

- uvicorn's own X-Forwarded-For handling is off: Charter's request layer decides the caller's
  address, believing the header only from CHARTER_TRUSTED_PROXIES (none by default). uvicorn
  would believe it from any loopback peer.
- A worker dies with its master: the kernel sends it SIGTERM when the master goes, even by
  kill -9 (Linux's PR_SET_PDEATHSIG), and it then finishes the requests it holds and exits, so
  the port is free for the next `charter serve`. Elsewhere it checks its parent on every
  heartbeat instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

from uvicorn_worker import UvicornWorker

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> bool:
    """Ask the kernel for SIGTERM when the parent exits; False where that cannot be had."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class CharterWorker(UvicornWorker):
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "proxy_headers": False}

    def init_process(self) -> None:
        _die_with_parent()
        if os.getppid() != self.ppid:  # the master went before the request reached the kernel
            sys.exit(0)
        super().init_process()

    async def callback_notify(self) -> None:
        if os.getppid() != self.ppid:
            self.alive = False
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown
            return
        await super().callback_notify()
