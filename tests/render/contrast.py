"""What a reader gets from our inline-styled HTML, without a browser: each piece of text with
the colour, background, wrapping, direction and language it inherits, and WCAG contrast.

The HTML renderings (render/html.py, alerts/payload.py) style with inline ``style``
attributes only, so walking the element tree and inheriting those is enough to know what
every text run looks like. Browser defaults: black text on white, no wrapping anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser

VOID_ELEMENTS = {"meta", "br", "img", "hr", "link", "input"}
_DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;]+)")
_COLOR = re.compile(r"(?<![\w-])color:\s*(#[0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Look:
    """The computed properties of an element that matter to a reader."""

    color: str = "#000000"
    background: str = "#ffffff"  # the nearest painted background behind the text
    overflow_wrap: str = "normal"
    direction: str | None = None  # the nearest dir attribute
    lang: str | None = None  # the nearest lang attribute


@dataclass(frozen=True)
class TextRun:
    text: str
    look: Look
    tag: str

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.look.color, self.look.background)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio, 1 to 21; AA asks 4.5 of normal text."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colors(source: str) -> set[str]:
    """Every ``color:#rrggbb`` (not background-color) written in ``source``, lower case."""
    return {match.lower() for match in _COLOR.findall(source)}


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, Look]] = [("", Look())]
        self.runs: list[TextRun] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        look = _apply(self.stack[-1][1], dict(attrs))
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, look))

    def handle_endtag(self, tag: str) -> None:
        tags = [name for name, _ in self.stack]
        if tag in tags:
            del self.stack[len(tags) - 1 - tags[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        tag, look = self.stack[-1]
        if data.strip() and tag != "title" and "head" not in (name for name, _ in self.stack):
            self.runs.append(TextRun(data, look, tag))


def _apply(parent: Look, attrs: dict[str, str | None]) -> Look:
    look = parent
    for name, value in _DECLARATION.findall(attrs.get("style") or ""):
        value = value.strip().lower()
        if name == "color":
            look = replace(look, color=value)
        elif name in ("background-color", "background"):
            look = replace(look, background=value)
        elif name == "overflow-wrap":
            look = replace(look, overflow_wrap=value)
    if attrs.get("dir") is not None:
        look = replace(look, direction=attrs["dir"])
    if attrs.get("lang") is not None:
        look = replace(look, lang=attrs["lang"])
    return look


def text_runs(html: str) -> list[TextRun]:
    """Every visible piece of text of ``html`` with how it looks."""
    walker = _Walker()
    walker.feed(html)
    walker.close()
    return walker.runs
