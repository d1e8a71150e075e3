"""Bring the benchmark's repositories to their pinned revisions, or check a folder of them.

    python -m benchmarks.semble.sync --repos-json FILE --dest DIR [--repo NAME]...
        [--annotations DIR] [--check]

Without --check: clones each missing repository (`git clone --no-checkout`, then a detached
checkout of the pinned revision) and moves an existing clone to its revision. Where the
network or a revision is missing, that repository fails with one line and the others go on.
With --check: only verifies that each `DIR/<name>` is a checkout at its pinned revision and
holds its benchmark_root (for folders prepared another way). Exit status 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.semble.data import BenchmarkDataError, RepoSpec, load_repo_specs

GIT_TIMEOUT_S = 1800


class SyncError(Exception):
    """One repository could not be brought to its revision (the message says why)."""


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
        )
    except FileNotFoundError as exc:
        raise SyncError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise SyncError(f"git {args[0]} took longer than {GIT_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise SyncError(f"git {args[0]} failed: {lines[-1] if lines else done.returncode}")
    return done.stdout.strip()


def head_revision(checkout: Path) -> str | None:
    if not checkout.is_dir():
        return None
    try:
        return _git("rev-parse", "HEAD", cwd=checkout)
    except SyncError:
        return None


def check(spec: RepoSpec, dest: Path) -> str | None:
    """None when the checkout is usable as pinned, otherwise why not."""
    checkout = dest / spec.name
    if not checkout.is_dir():
        return f"missing ({checkout} does not exist)"
    revision = head_revision(checkout)
    if revision is None:
        return f"{checkout} is not a git checkout (cannot verify the revision)"
    if revision != spec.revision:
        return f"at {revision[:12]}, not the pinned {spec.revision[:12]}"
    if not spec.index_root(dest).is_dir():
        return f"no benchmark_root {spec.benchmark_root!r} in the checkout"
    return None


def sync(spec: RepoSpec, dest: Path) -> str:
    """Clone (or move) one repository to its pinned revision; returns what was done."""
    checkout = dest / spec.name
    if checkout.exists() and head_revision(checkout) is None:
        raise SyncError(f"{checkout} exists and is not a git checkout; move it away first")
    if not checkout.exists():
        dest.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", "--no-checkout", spec.url, str(checkout))
        action = "cloned"
    elif head_revision(checkout) == spec.revision:
        return "already at the pinned revision"
    else:
        action = "updated"
    try:
        _git("cat-file", "-e", spec.revision + "^{commit}", cwd=checkout)
    except SyncError:
        _git("fetch", "--quiet", "origin", spec.revision, cwd=checkout)
    _git("checkout", "--quiet", "--detach", spec.revision, cwd=checkout)
    return f"{action}, at {spec.revision[:12]}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos-json", type=Path, required=True)
    parser.add_argument("--dest", type=Path, required=True, help="folder of checkouts")
    parser.add_argument("--repo", action="append", default=[], help="only this one (repeatable)")
    parser.add_argument(
        "--annotations",
        type=Path,
        help="only repositories with a <name>.json in this folder",
    )
    parser.add_argument("--check", action="store_true", help="verify only, change nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        specs = load_repo_specs(args.repos_json)
    except BenchmarkDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.repo) - set(specs))
    if unknown:
        print(f"error: not in {args.repos_json}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [s for name, s in sorted(specs.items()) if not args.repo or name in args.repo]
    if args.annotations is not None:
        chosen = [s for s in chosen if (args.annotations / f"{s.name}.json").is_file()]
    failed = 0
    for spec in chosen:
        if args.check:
            problem = check(spec, args.dest)
            print(f"{spec.name}: {'ok' if problem is None else problem}")
            failed += problem is not None
            continue
        try:
            print(f"{spec.name}: {sync(spec, args.dest)}", flush=True)
        except SyncError as exc:
            print(f"{spec.name}: FAILED: {exc}", flush=True)
            failed += 1
    print(f"{len(chosen) - failed} of {len(chosen)} repositories ok", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
