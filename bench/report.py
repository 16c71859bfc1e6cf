"""BENCHMARKS.md holds one section per benchmark script; each script
rewrites its own section and keeps the others."""

from __future__ import annotations

from pathlib import Path

TITLE = "# Benchmarks"


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
