"""README and docs/ stand on their own: every relative link names a file of the
repository (and a heading of it, for #anchors), none climbs out with `..`, and no file
of the repository points at documents outside it."""

import subprocess

import pytest

from tests.docs.helpers import DOCS, ROOT, anchors, links

EXTERNAL = ("http://", "https://", "mailto:")


def test_the_documents_exist():
    assert {path.relative_to(ROOT).as_posix() for path in DOCS} >= {
        "README.md", "docs/api.md", "docs/architecture.md", "docs/operations.md"}


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_relative_links_resolve_inside_the_repository(document):
    text = document.read_text()
    problems = []
    for target in links(text):
        if target.startswith(EXTERNAL):
            continue
        path, _, fragment = target.partition("#")
        if ".." in path.split("/"):
            problems.append(f"{target}: climbs out of the folder")
            continue
        file = (document.parent / path).resolve() if path else document
        if not file.is_relative_to(ROOT) or not file.exists():
            problems.append(f"{target}: no such file in the repository")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file.read_text()):
            problems.append(f"{target}: no heading #{fragment} in {file.relative_to(ROOT)}")
    assert not problems, problems


def test_no_file_points_outside_the_repository():
    # Built from parts, so that this file does not match itself.
    outside = ["shared" + "/", "DESIGN" + ".md"]
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    found = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary files (compiled translations, images)
        found += [f"{name}: {word}" for word in outside if word in text]
    assert not found, found
