"""Another revision of Charter for one run (python -m bench --baseline REV): `git worktree add
--detach` of REV into the run's temp dir, outside the checkout, removed again at the end (also on
failure or Ctrl-C). The checkout itself is not touched: no branch, no index, no working-tree file;
git only records the extra worktree in .git/worktrees until it is removed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROOT


@dataclass(frozen=True)
class Checkout:
    rev: str  # as given on the command line
    commit: str  # its short hash
    subject: str  # the commit's first line
    path: Path


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


@contextmanager
def checkout(rev: str, into: Path) -> Iterator[Checkout]:
    """REV checked out under `into` (which must lie outside the checkout) for the context."""
    into = into.resolve()
    if into.is_relative_to(ROOT):
        raise RuntimeError(f"{into} is inside the checkout {ROOT}; a baseline goes in the run's temp dir")
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    short, subject = _git("log", "-1", "--format=%h%x00%s", commit).split("\x00", 1)
    path = into / f"baseline-{short}"
    _git("worktree", "add", "--detach", str(path), commit)
    try:
        yield Checkout(rev=rev, commit=short, subject=subject, path=path)
    finally:
        try:
            # --force: the servers leave __pycache__ and the like behind, which git calls untracked
            _git("worktree", "remove", "--force", str(path))
        except RuntimeError:
            # Delete the files ourselves; `remove --force` then drops just this worktree's record
            # (no `git worktree prune`, which would drop every stale record in the repository).
            shutil.rmtree(path, ignore_errors=True)
            _git("worktree", "remove", "--force", str(path))
