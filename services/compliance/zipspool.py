"""A ZipFile's member list kept on disk instead of in memory.

zipfile keeps one ZipInfo per member it has written (`ZipFile.filelist`, about 400 bytes each),
only to write the central directory when it closes. A bundle of a million events has a million
proof members, so that list alone would be some 400 MB. While writing, zipfile only appends to
the list and takes its length; at close it reads it once, in order. `SpooledInfos` does exactly
that with one pickled ZipInfo per member in a temporary file, so a bundle's memory stays flat
however many members it has (python -m bench.bundles measures both, and compares the archives).
"""

from __future__ import annotations

import pickle
import tempfile
import zipfile
from collections.abc import Iterator


class SpooledInfos:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._count = 0

    def append(self, info: zipfile.ZipInfo) -> None:
        self._file.seek(0, 2)
        pickle.dump(info, self._file, pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self._file.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


def spool(zf: zipfile.ZipFile) -> SpooledInfos:
    """Keep `zf`'s member list on disk from now on (call it on a new ZipFile opened for writing)."""
    if zf.filelist:
        raise ValueError("spool the member list of a new archive, before its first member")
    infos = SpooledInfos()
    zf.filelist = infos  # type: ignore[assignment]
    return infos
