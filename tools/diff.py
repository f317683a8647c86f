"""`charter diff [BASE]`: Optic's breaking-changes rules over every spec in specs/, the working tree
against the same spec at git revision BASE. A breaking change fails the gate unless
specs/CHANGES.md acknowledges it.

BASE by default: the last release tag (`v*`) reachable from HEAD, else the merge base of HEAD with
`main` (or `origin/main`), else HEAD. The working tree is always the new side, so when BASE is
HEAD itself (CI on main) the uncommitted edits are what is gated.

Optic reads both sides from files (BASE's specs/ is written out of git), so every `$ref` into
specs/shared/ is resolved on each side and a change there is seen through each spec using it. A
spec not at BASE is new and passes; a spec gone from the working tree is compared with an empty
document (each of its operations removed); a spec is left out when neither it nor anything in a
subdirectory of specs/ changed. The breaking-changes rules run even when a spec's major version
changes (Optic's default skips them then). specs/CHANGES.md says how an entry acknowledges a change.

Optic comes from npm at the version package.json pins (`npm ci`); package.json overrides ajv to
the 8.17.1 Optic pins, since with a second ajv under @stoplight/spectral-core Optic crashes at
start ("Error compiling schema"). Its `--check` results in machine-readable form are the
`ci-run-details.json` it writes when CI=true, in its working directory: each spec runs in a
directory of its own, all at once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from charter.config import ROOT, SPECS_DIR

OPTIC = ROOT / "node_modules" / ".bin" / "optic"
CHANGES = "CHANGES.md"
STANDARD = "ruleset:\n  - breaking-changes:\n      skip_when_major_version_changes: false\n"
SAYS = " This is a breaking change."  # the end of most of Optic's messages, as BREAKING says it first
ENV = {"CI": "true", "OPTIC_TELEMETRY_LEVEL": "off", "NO_UPDATE_NOTIFIER": "1"}


def optic() -> str | None:
    """The pinned Optic CLI of this checkout, else one on PATH; None when neither is there."""
    return str(OPTIC) if OPTIC.exists() else shutil.which("optic")


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def default_base(where: Path) -> tuple[str, str]:
    """(revision, how it was found): the last release tag, else the merge base with main, else HEAD."""
    for args in (
        ("describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"),
        ("merge-base", "HEAD", "main"),
        ("merge-base", "HEAD", "origin/main"),
    ):
        try:
            found = git(where, *args)
        except subprocess.CalledProcessError:
            continue
        return found, "the last release tag" if args[0] == "describe" else f"the merge base with {args[-1]}"
    return "HEAD", "HEAD"


def write_out(specs_dir: Path, rev: str, dest: Path) -> None:
    """specs_dir as it is at rev, written to dest (nothing when rev has no such directory)."""
    for name in git(specs_dir, "ls-tree", "-r", "-z", "--name-only", rev, "--", ".").split("\0"):
        if name:
            blob = subprocess.run(
                ["git", "-C", str(specs_dir), "show", f"{rev}:./{name}"], capture_output=True, check=True
            )
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(blob.stdout)


def library(specs_dir: Path) -> dict[Path, bytes]:
    """What the specs may $ref besides each other: every file in a directory under specs_dir."""
    return {p.relative_to(specs_dir): p.read_bytes() for p in specs_dir.glob("*/**/*") if p.is_file()}


def acknowledged(changes: Path) -> list[re.Pattern]:
    """The entries under `## Unreleased` of CHANGES.md: a line "- `<spec> <where>` why"; `*` is a
    wildcard and an entry acknowledges what it names and everything under it."""
    text = changes.read_text(encoding="utf-8") if changes.exists() else ""
    section = re.search(r"^## Unreleased[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    entries = re.findall(r"^- `([^`]+)`", section.group(1) if section else "", re.M)
    return [re.compile(re.escape(" ".join(e.split())).replace(r"\*", ".*") + "(?: |$)") for e in entries]


def run(base: str | None = None, specs_dir: Path = SPECS_DIR) -> int:
    """Diff; 0 when no unacknowledged breaking change, 1 when one, 2 when it cannot be run."""
    tool = optic()
    if tool is None:
        print("charter diff: Optic is not installed: run `npm ci` in the checkout", file=sys.stderr)
        return 2
    try:
        rev, how = (base, "BASE") if base else default_base(specs_dir)
        sha = git(specs_dir, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")
        head = git(specs_dir, "rev-parse", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(
            f"charter diff: cannot compare with {base or 'a default BASE'}: {getattr(exc, 'stderr', exc)}",
            file=sys.stderr,
        )
        return 2
    at = f"{rev} ({how}" + (", which is HEAD)" if sha == head else ")")
    print(f"charter diff: specs/ at {at} against the working tree")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "base"
        write_out(specs_dir, sha, old)
        (Path(tmp) / "optic.yml").write_text(STANDARD)
        names = sorted({p.name for p in specs_dir.glob("*.yaml")} | {p.name for p in old.glob("*.yaml")})
        same = library(old) == library(specs_dir)
        runs = {}
        for name in names:
            if not (old / name).exists():
                print(f"charter diff: {name} is new")
                continue
            if same and (specs_dir / name).is_file() and (specs_dir / name).read_bytes() == (old / name).read_bytes():
                continue
            cwd = Path(tmp) / name
            cwd.mkdir()
            new = specs_dir / name
            args = [str(old / name), str(new.resolve()) if new.exists() else "null:"]
            runs[name] = subprocess.Popen(
                [tool, "diff", *args, "--check", "--validation", "loose", "--standard", str(Path(tmp) / "optic.yml")],
                cwd=cwd,
                env={**os.environ, **ENV},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        outputs = {name: proc.communicate(timeout=600)[0] for name, proc in runs.items()}
        found = []
        for name, output in outputs.items():
            details = Path(tmp) / name / "ci-run-details.json"
            report = json.loads(details.read_text()) if details.exists() else None
            if runs[name].returncode not in (0, 1) or report is None or report["failed"]:
                print(f"charter diff: Optic could not compare {name}:\n{output[-3000:]}", file=sys.stderr)
                return 2
            for spec in report["completed"]:
                for result in spec["comparison"]["results"]:
                    if not result["passed"]:
                        found.append(
                            (f"{name} {' '.join(result['where'].split())}", result["error"].removesuffix(SAYS))
                        )
    entries = acknowledged(specs_dir / CHANGES)
    open_ = [(key, what) for key, what in found if not any(e.match(key) for e in entries)]
    # What lies inside a removed operation or status code is named by that removal alone.
    shown = [(k, w) for k, w in open_ if not any(k.startswith(f"{o} ") for o, _ in open_)]
    for key, what in shown:
        print(f"BREAKING `{key}` {what}")
    if shown:
        inside = f" ({len(open_) - len(shown)} more inside them)" if len(open_) > len(shown) else ""
        print(
            f"charter diff: {len(shown)} unacknowledged breaking change(s){inside}: undo each, or acknowledge it in "
            f"specs/{CHANGES} under `## Unreleased` as a line: - `<what is quoted above>` why"
        )
        return 1
    acks = f"{len(found)} breaking change(s), each acknowledged in specs/{CHANGES}" if found else "no breaking change"
    print(f"charter diff: {len(names)} spec(s): {acks}")
    return 0
