"""Linear passes over untrusted HTML, run before html5ever (inside nh3) reads it.

html5ever is linear in what it tokenizes but not in what it builds: many tags make it scan
the stack of open elements or the list of active formatting elements, so 40,000 `<div>`
or interleaved `<b a=1><p>x` take seconds to minutes. `balance` re-emits a document that
keeps that work bounded:

- every element is closed explicitly and in order, so html5ever's stack and formatting
  list stay as deep as ours (it has nothing to reconstruct or adopt);
- at most MAX_DEPTH elements are open: deeper start tags are dropped, their text kept;
- at most MAX_TAGS tags are read: the rest of the document is kept as its text;
- comments, doctypes and CDATA go; script, style and template go with their content (the
  sanitizer drops them too); title, textarea, iframe, noscript... become their text;
- only the attributes the sanitizer may keep are written, re-quoted.

Tags are read as the HTML standard reads them (quoted attributes, unclosed tags at the
end), and what is emitted is what html5ever reads: however the input was spelled, the
bound holds. End tags a browser would imply (p, li, dd/dt, td/th, tr, tbody) follow
html5ever's rules, so sloppy but ordinary HTML builds the same tree as before.
"""

import html
import re
from collections import defaultdict
from collections.abc import Mapping, Set
from dataclasses import dataclass

MAX_DEPTH = 100
# Each tag costs this pass about a microsecond of Python; past this many (a long
# article has a few thousand), the rest of the document is kept as text.
MAX_TAGS = 50_000


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WS = r"\t\n\f\r "
# The attributes of a tag, as the standard's tokenizer splits them: a quote only opens a
# value after "=", and a value left open runs to the end of the document.
_ATTRIBUTE = (
    rf"[^{_WS}/>][^{_WS}/>=]*"
    rf"(?:[{_WS}]*=[{_WS}]*(?:\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z)|[^{_WS}>]*))?"
)
_ATTRIBUTES = rf"(?:[{_WS}/]+|{_ATTRIBUTE})*"
_TAG_BODY = rf"(?P<attrs>{_ATTRIBUTES})(?:>|(?P<eof>\Z))"
_MARKUP = (
    r"<!--(?:-?>|.*?(?:--!?>|\Z))"  # comment
    r"|<[!?][^>]*(?:>|\Z)"  # doctype, CDATA, processing instruction: bogus comments
    r"|</(?![a-zA-Z])[^>]*(?:>|\Z)"  # "</>", "</3": nothing
)
_TOKEN = re.compile(rf"{_MARKUP}|<(?P<end>/?)(?P<name>[a-zA-Z][^{_WS}/>]*){_TAG_BODY}", re.DOTALL)
_ATTRIBUTE_PARTS = re.compile(
    rf"([^{_WS}/>][^{_WS}/>=]*)"
    rf"(?:[{_WS}]*=[{_WS}]*(?:\"([^\"]*)\"?|'([^']*)'?|([^{_WS}>]*)))?"
)

_VOID = _names(
    "area base basefont bgsound br col embed hr image img input keygen link meta param "
    "source track wbr",
)
_IGNORED = _names("html head body frameset frame")  # html5ever ignores them in a body
_DROPPED_WITH_CONTENT = _names("script style template")
_RCDATA = _names("textarea title")  # their text keeps its character references
_RAWTEXT = _names("xmp iframe noembed noframes noscript")
_HEADINGS = _names("h1 h2 h3 h4 h5 h6")
_TABLE_PARTS = _names("table tbody thead tfoot tr td th caption")

# The standard's element categories that decide how far an end tag may close.
_SPECIAL = _names(
    "address applet area article aside base basefont bgsound blockquote body br button "
    "caption center col colgroup dd details dialog dir div dl dt embed fieldset figcaption "
    "figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe "
    "img input keygen li link listing main marquee menu meta nav noembed noframes noscript "
    "object ol p param plaintext pre script search section select source style summary "
    "table tbody td template textarea tfoot th thead title tr track ul wbr xmp "
    "mi mo mn ms mtext annotation-xml foreignobject desc",
)
_SCOPE = _names(
    "applet caption html table td th marquee object template "
    "mi mo mn ms mtext annotation-xml foreignobject desc title",
)
_BUTTON_SCOPE = _SCOPE | {"button"}
_LIST_SCOPE = _SCOPE | {"ol", "ul"}
_TABLE_SCOPE = _names("html table template")
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul "
    "h1 h2 h3 h4 h5 h6 pre listing form plaintext table hr xmp li dd dt",
)


def balance(markup: str, attributes: Mapping[str, Set[str]], generic: Set[str]) -> str:
    """`markup` balanced and at most MAX_DEPTH deep, keeping only `attributes` (per tag)
    and the `generic` ones (on every tag)."""
    return "".join(_Balancer(attributes, generic).run(markup))


def strip_tags(markup: str) -> str:
    """The text of `markup` (character references left as written), with no tag in it.
    Script, style and template content goes; a stray "<" is escaped, so nothing that
    reads the result finds a tag in it."""
    return _TAGS_AND_HIDDEN_TEXT.sub("", markup).replace("<", "&lt;")


_TAGS_AND_HIDDEN_TEXT = re.compile(
    rf"<(?P<hidden>script|style|template)(?=[{_WS}/>]){_ATTRIBUTES}(?:>|\Z)"
    rf".*?(?:</(?P=hidden)(?=[{_WS}/>]){_ATTRIBUTES}(?:>|\Z)|\Z)"
    rf"|{_MARKUP}|</?[a-zA-Z][^{_WS}/>]*{_ATTRIBUTES}(?:>|\Z)",
    re.DOTALL | re.IGNORECASE,
)


_CATEGORY_MEMBERS = {
    # Keys start with "*", which no tag name does: a category is never taken for a tag.
    "*special": _SPECIAL,
    "*scope": _SCOPE,
    "*button-scope": _BUTTON_SCOPE,
    "*list-scope": _LIST_SCOPE,
    "*table-scope": _TABLE_SCOPE,
    "*heading": _HEADINGS,
    "*cell": _names("td th"),
    "*table-section": _names("tbody thead tfoot"),
    "*definition": _names("dd dt"),
    # What stops the search for an li (or dd/dt) to close: special elements but these.
    "*li-stop": _SPECIAL - {"address", "div", "p", "li"},
    "*definition-stop": _SPECIAL - {"address", "div", "p", "dd", "dt"},
}
_CURRENT = "*current"  # as a stop: close only if it is the current node

# Start tags that close an open element first (html5ever's "in body" and table rules):
# the category to close, unless something of the stop category is open above it.
_CLOSED_BY_START: dict[str, tuple[tuple[str, str], ...]] = {
    "li": (("li", "*li-stop"),),
    "dd": (("*definition", "*definition-stop"),),
    "dt": (("*definition", "*definition-stop"),),
    "td": (("*cell", "*table-scope"),),
    "th": (("*cell", "*table-scope"),),
    "tr": (("tr", "*table-scope"),),
    **{section: (("*table-section", "*table-scope"),) for section in ("tbody", "thead", "tfoot")},
}


@dataclass(frozen=True, slots=True)
class _Element:
    """What a tag of this name does to the stack of open elements."""

    name: str
    categories: tuple[str, ...]  # its name and the categories it belongs to
    closes_first: tuple[tuple[str, str], ...]  # (category, stop): closed before it opens
    end_closes: tuple[str, str]  # (category, stop): what its end tag closes
    void: bool


def _element(name: str) -> _Element:
    closes_first = _CLOSED_BY_START.get(name, ())
    if name in _CLOSES_P:
        closes_first += (("p", "*button-scope"),)
    if name in _HEADINGS:
        closes_first += (("*heading", _CURRENT),)  # no heading opens in a heading
        end_closes = ("*heading", "*scope")  # and </h2> closes an h1 too
    elif name in _TABLE_PARTS:
        end_closes = (name, "*table-scope")
    elif name in _SPECIAL:
        end_closes = (name, {"p": "*button-scope", "li": "*list-scope"}.get(name, "*scope"))
    else:
        end_closes = (name, "*special")  # html5ever's "any other end tag"
    categories = (name, *(c for c, names in _CATEGORY_MEMBERS.items() if name in names))
    return _Element(name, categories, closes_first, end_closes, name in _VOID)


_ELEMENTS: dict[str, _Element] = {}


def _element_named(name: str) -> _Element:
    element = _ELEMENTS.get(name)
    if element is None:
        element = _element(name)
        if len(_ELEMENTS) < 10_000:  # names are the client's: keep the cache bounded
            _ELEMENTS[name] = element
    return element


class _Balancer:
    """One pass over the tokens, writing the balanced document to `out`. The stack keeps,
    per category, the positions of its open members: every scope check is O(1)."""

    def __init__(self, attributes: Mapping[str, Set[str]], generic: Set[str]) -> None:
        self.attributes = attributes
        self.generic = generic
        self.out: list[str] = []
        self.open: list[_Element] = []
        self.tops: defaultdict[str, list[int]] = defaultdict(list)

    def run(self, markup: str) -> list[str]:
        out, position, tags = self.out, 0, 0
        while match := _TOKEN.search(markup, position):
            if match.start() > position:
                out.append(markup[position : match.start()].replace("<", "&lt;"))
            position = match.end()
            end, name, attributes, eof = match.group("end", "name", "attrs", "eof")
            if name is None or eof is not None:
                continue  # comments and the like; a tag cut off by the end is dropped
            tags += 1
            if tags > MAX_TAGS:
                out.append(strip_tags(markup[match.start() :]))
                position = len(markup)
                break
            name = name.lower()
            if name in _IGNORED:
                continue
            if end:
                self.end_tag(name)
            elif name in _RAW_TEXT_END:
                text_end = _RAW_TEXT_END[name].search(markup, position)
                position = text_end.start() if text_end else len(markup)
                out.append(_as_text(name, markup[match.end() : position]))
            elif name == "plaintext":
                out.append(html.escape(markup[position:], quote=False))
                position = len(markup)
            else:
                self.start_tag(name, attributes)
        out.append(markup[position:].replace("<", "&lt;"))
        self.pop_to(0)
        return out

    def start_tag(self, name: str, attributes: str) -> None:
        element = _element_named(name)
        for category, stop in element.closes_first:
            self.close(category, stop)
        if not element.void:
            if len(self.open) >= MAX_DEPTH:
                return
            for category in element.categories:
                self.tops[category].append(len(self.open))
            self.open.append(element)
        self.out.append(f"<{name}{self.kept_attributes(name, attributes)}>")

    def end_tag(self, name: str) -> None:
        if name == "br":
            self.out.append("<br>")  # as html5ever reads it
        elif name == "p" and not self.closable("p", "*button-scope"):
            self.out.append("<p></p>")  # ditto
        else:
            self.close(*_element_named(name).end_closes)

    def closable(self, category: str, stop: str) -> bool:
        """Is an element of `category` open with nothing of `stop` above it? An element
        may be its own stop (a table closes itself, not an outer one)."""
        tops = self.tops
        top = tops[category][-1] if tops[category] else -1
        if stop == _CURRENT:
            return top >= 0 and top == len(self.open) - 1
        return top >= 0 and top >= (tops[stop][-1] if tops[stop] else -1)

    def close(self, category: str, stop: str) -> None:
        if self.closable(category, stop):
            self.pop_to(self.tops[category][-1])

    def pop_to(self, position: int) -> None:
        """Close the open elements down to `position`, innermost first."""
        while len(self.open) > position:
            element = self.open.pop()
            for category in element.categories:
                self.tops[category].pop()
            self.out.append(f"</{element.name}>")

    def kept_attributes(self, name: str, attributes: str) -> str:
        if not attributes:
            return ""
        allowed = self.attributes.get(name, frozenset())
        kept: dict[str, str] = {}
        for match in _ATTRIBUTE_PARTS.finditer(attributes):
            key = match[1].lower()
            # The first of duplicates counts, as in html5ever.
            if (key in allowed or key in self.generic) and key not in kept:
                value = next((v for v in match.groups()[1:] if v is not None), "")
                kept[key] = value.replace('"', "&quot;")
        return "".join(f' {key}="{value}"' for key, value in kept.items())


# Where the text of a raw-text element ends: at its end tag, or the document's end.
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}(?=[{_WS}/>])", re.IGNORECASE)
    for name in _DROPPED_WITH_CONTENT | _RCDATA | _RAWTEXT
}


def _as_text(name: str, content: str) -> str:
    if name in _DROPPED_WITH_CONTENT:
        return ""
    if name in _RCDATA:
        return content.replace("<", "&lt;")  # character references still count there
    return html.escape(content, quote=False)  # raw text: "&amp;" is shown as written
