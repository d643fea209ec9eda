"""Rewriting one ``## ...`` section of docs/benchmarks.md (the benches' ``--update-doc``)."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def update_section(heading: str, text: str, path: Path = DOC) -> None:
    """Replace the section that starts with ``heading`` by ``text`` (or append it)."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    start = doc.find(heading)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + 1)
        rest = "\n" + doc[end + 1:] if end >= 0 else ""  # one blank line before the next
        doc = doc[:start] + text.rstrip("\n") + "\n" + rest
    path.write_text(doc)
