"""python -m bench.bundles: what an export bundle's ZIP costs in memory per member, apart from the
store and the job (scenario 7 measures the whole export).

services.compliance.bundle.Writer writes one `proofs/<seq>.json` member per exported event.
zipfile keeps a ZipInfo for every member it has written (ZipFile.filelist), to write the central
directory when it closes, so a writer's memory would grow with the member count even though every
member's bytes stream to disk; the Writer spools that list to a temporary file instead
(services.compliance.zipspool). This writes N proof-sized members with the Writer as it is
(`spooled`) and with zipfile's own list in memory (`stock`), each in a fresh process, and prints
each one's peak RSS over the same process doing nothing but import the Writer. Both bundles are
then opened and one member read back, and their central directories are compared, so the spooled
list is shown to write the same archive.

    .venv/bin/python -m bench.bundles --members 1000000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.servers import status_mb


def _proof(seq: int, size: int) -> dict[str, Any]:
    """A proof of the inclusion route's shape, as long as one in a tree of `size` leaves."""
    fake = "A" * 43 + "="
    return {
        "seq": seq,
        "tree_size": size,
        "leaf_hash": fake,
        "hashes": [fake] * size.bit_length(),
        "checkpoint": "charter/audit/00000000-0000-0000-0000-000000000000\n1000000\n" + fake + "\n\n— charter x\n",
    }


def _write(path: str, members: int, spooled: bool, out: Any) -> None:
    from services.compliance.bundle import Writer, json_bytes

    idle = status_mb(os.getpid(), "VmRSS") or 0.0
    started = time.perf_counter()
    writer = Writer(Path(path))  # its member list spooled (services.compliance.zipspool)
    if not spooled:
        writer._zip.filelist = []  # zipfile's own, in memory
    writer.json_array("audit/events.json", ({"seq": n} for n in range(10)))
    for seq in range(members):
        writer.small(f"proofs/{seq}.json", json_bytes(_proof(seq, members)), listed=False)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    writer.finish({"format": "bench"}, Ed25519PrivateKey.from_private_bytes(bytes(32)))  # the same bytes each run
    out.send((idle, status_mb(os.getpid(), "VmHWM") or 0.0, time.perf_counter() - started))


def measure(path: Path, members: int, spooled: bool) -> tuple[float, float, float]:
    """(idle RSS, peak RSS in MiB, seconds) of a fresh process writing the bundle."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_write, args=(str(path), members, spooled, send))
    child.start()
    figures = receive.recv()
    child.join()
    return figures


def _central(path: Path) -> list[tuple]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.CRC, i.compress_size, i.file_size, i.header_offset) for i in zf.infolist()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bundles", description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=1_000_000, help="proofs/<seq>.json members (default 1M)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="charter-bundles-") as tmp:
        rows = {}
        for spooled in (False, True):
            path = Path(tmp) / f"{'spooled' if spooled else 'stock'}.zip"
            rows[spooled] = (*measure(path, args.members, spooled), path.stat().st_size)
            print(f"[{time.strftime('%H:%M:%S')}] {'spooled' if spooled else 'stock'} done", file=sys.stderr)
        stock, spooled_zip = Path(tmp) / "stock.zip", Path(tmp) / "spooled.zip"
        same = _central(stock) == _central(spooled_zip)
        with zipfile.ZipFile(spooled_zip) as zf:
            last = json.loads(zf.read(f"proofs/{args.members - 1}.json"))
        print(f"{args.members:,} proof members, one process each (peak RSS is VmHWM; growth is over the idle process)")
        print(
            f"{'filelist':<10} {'idle MiB':>9} {'peak MiB':>9} {'growth':>8} {'B/member':>9} {'seconds':>8} {'MiB':>6}"
        )
        for spooled, (idle, peak, seconds, size) in rows.items():
            growth = peak - idle
            print(
                f"{'spooled' if spooled else 'stock':<10} {idle:9.0f} {peak:9.0f} {growth:8.0f} "
                f"{growth * 2**20 / args.members:9.0f} {seconds:8.1f} {size / 2**20:6.0f}"
            )
        print(f"same central directory: {same}; last member reads back: {last['seq'] == args.members - 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
