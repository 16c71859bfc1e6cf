"""BENCHMARKS.md holds one section per benchmark script; each script
rewrites its own section and keeps the others."""

from __future__ import annotations

import subprocess
from pathlib import Path

TITLE = "# Benchmarks"
ROOT = Path(__file__).resolve().parent.parent


def revision() -> str:
    """The commit the figures were measured at, and whether the code that
    ran (``src``, ``bench``) differed from it. BENCHMARKS.md, which the
    scripts write, is not the code."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "bench")
    return f"{head} (with uncommitted changes)" if dirty else head


def replace_section(path: Path, heading: str, lines: list[str]) -> None:
    """Put ``lines`` under ``## heading`` in ``path``, in place of what was
    there, or at the end when the file has no such section yet."""
    marker = f"## {heading}"
    existing = path.read_text().splitlines() if path.exists() else [TITLE]
    section = [marker, "", *lines]
    if marker in existing:
        start = existing.index(marker)
        end = next(
            (
                i
                for i in range(start + 1, len(existing))
                if existing[i].startswith("## ")
            ),
            len(existing),
        )
        following = existing[end:]
        updated = existing[:start] + section + ([""] if following else []) + following
    else:
        while existing and not existing[-1].strip():
            existing.pop()
        updated = [*existing, "", *section]
    path.write_text("\n".join(updated).rstrip("\n") + "\n")
