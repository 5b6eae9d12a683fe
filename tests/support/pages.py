"""Reading an HTML page the way the tests need to without a browser: which elements and attributes it
has, and the text of each section as a reader would see it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements whose content a reader never sees as text.
_HIDDEN = {"head", "style", "script", "title"}


@dataclass
class Page:
    """A parsed page: every start tag with its attributes, in order; the visible text of the whole
    body and of each `<section id=…>`; and the raw text of its `<style>` elements."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    styles: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._open: list[str] = []
        self._section: str | None = None
        self._text: list[str] = []
        self._section_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, dict(attrs)))
        if tag == "section":
            self._section = dict(attrs).get("id") or ""
            self._section_text = []
        if tag not in ("meta", "br", "link", "img", "input"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._section is not None:
            self.page.sections[self._section] = _squeeze(" ".join(self._section_text))
            self._section = None
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "style" in self._open:
            self.page.styles += data
        if _HIDDEN & set(self._open):
            return
        self._text.append(data)
        if self._section is not None:
            self._section_text.append(data)

    def close(self) -> None:
        super().close()
        self.page.text = _squeeze(" ".join(self._text))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_page(html: str) -> Page:
    """The page `html` parsed (see Page)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page
