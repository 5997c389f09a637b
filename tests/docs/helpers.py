"""Reading the project's Markdown documents: sections by heading, links, GitHub's anchors."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
# [text](target) and [text](target "title"); images too.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def text_without_code_blocks(text: str) -> str:
    return _FENCE.sub("", text)


def headings(text: str) -> list[tuple[int, str]]:
    return [(len(marks), title) for marks, title in _HEADING.findall(text_without_code_blocks(text))]


def section(text: str, title: str) -> str:
    """The text under the heading `title` up to the next heading of the same or a higher level."""
    text = text_without_code_blocks(text)
    matches = list(_HEADING.finditer(text))
    for index, match in enumerate(matches):
        if match.group(2) == title:
            level = len(match.group(1))
            end = next((m.start() for m in matches[index + 1:] if len(m.group(1)) <= level), len(text))
            return text[match.end():end]
    raise AssertionError(f"no heading {title!r}")


def anchor(title: str) -> str:
    """GitHub's id of a heading: lower case, punctuation dropped, spaces become dashes."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {anchor(title) for _, title in headings(text)}


def links(text: str) -> list[str]:
    return _LINK.findall(text_without_code_blocks(text))


def backticked(text: str) -> set[str]:
    """Every `code span`, and each word of one (`status`, `"url", "content_type"`...)."""
    spans = re.findall(r"`([^`\n]+)`", text)
    words = {word for span in spans for word in re.findall(r"[A-Za-z_][A-Za-z0-9_\-]*", span)}
    return set(spans) | words
