"""The documentation holds together: README.md stays a short front door that links every page
in docs/, every relative link in them leads to a file that exists, and the licence is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = sorted((PROJECT_ROOT / "docs").glob("*.md"))
# [text](target) in Markdown; images too. Targets with a scheme or only an #anchor are not files.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold examples, not links
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_readme_stays_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) < 150


def test_there_are_docs_pages():
    assert DOCS


@pytest.mark.parametrize("page", DOCS, ids=lambda page: page.name)
def test_readme_links_every_docs_page(page):
    linked = {(README.parent / link.split("#")[0]).resolve() for link in relative_links(README)}
    assert page.resolve() in linked, f"README.md does not link docs/{page.name}"


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda page: page.name)
def test_relative_links_lead_to_files_that_exist(page):
    broken = [link for link in relative_links(page) if not (page.parent / link.split("#")[0]).exists()]
    assert not broken, f"{page.name} links to missing files: {broken}"


def test_licence_is_the_apache_licence_2():
    licence = PROJECT_ROOT / "LICENSE"
    assert licence.is_file()
    lines = [line.strip() for line in licence.read_text(encoding="utf-8").strip().splitlines()[:2]]
    assert lines == ["Apache License", "Version 2.0, January 2004"]


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda page: page.name)
def test_links_to_a_section_name_one_that_exists(page):
    broken = []
    for link in relative_links(page):
        target, _, anchor = link.partition("#")
        if anchor and target.endswith(".md") and anchor not in anchors(page.parent / target):
            broken.append(link)
    assert not broken, f"{page.name} links to missing sections: {broken}"
