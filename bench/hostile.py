"""Time of hostile article bodies, each as large as the API takes (1,000,000 characters).

    python -m bench.hostile [--size 1000000] [--only '<div>']

For every shape, Markdown and HTML: rendering (Markdown only), sanitizing, and the text
extraction search indexing runs on the result, then the total; and how large the stored
HTML came out. Shapes are the ones that made markdown-it-py or html5ever backtrack or
rescan: unclosed link labels, emphasis runs, deep nesting, misnested formatting, tags and
quotes left open.
"""

import argparse
import time
from collections.abc import Callable

from cms.api.articles.schemas import MAX_BODY_CHARS
from cms.services.html import html_to_text, render_markdown, sanitize_html

MARKDOWN_UNITS = [
    "[",
    "![a",
    "![a\n",
    "[\n",
    "*[",
    "[*",
    "[a][",
    "[a](",
    "*a",
    "**a",
    "_a ",
    "~~a",
    "`",
    "`a",
    "<",
    "<a",
    "&#",
    "\\",
    ">",
    "> [",
    "- ",
    " - a\n",
    "- [",
    "|a|\n|-|\n",
    "a  \n",
    "[a][x]",  # after a 2 KB reference definition: each use copies it
    "Plain prose, the kind of sentence a news story is made of. ",
]
HTML_UNITS = [
    "<div>",
    "<ul><li>",
    "<li>",
    "<dl><dt>",
    "<blockquote>",
    "<b>",
    "<a>",
    '<a href="x">',
    "<p>",
    "<table><td>",
    "<span><div></span>",
    "<b><span><b></span>x</b>",
    "<b a={n}><p>x",  # a new attribute set each time: html5ever's formatting list grows
    "<font a={n}><p>x",
    "<i><b></i>",
    "<svg><g>",
    "<math><mi>",
    "<select><option>",
    "<div><textarea></div></textarea>",
    "<!--",
    "<",
    "<a '",
    '<x y="',
    "</div>",
    '<q cite="javascript:x">',
]


def hostile(unit: str, size: int) -> str:
    """`unit` repeated to `size` characters ({n} numbered), Markdown references in front."""
    numbered = "{n}" in unit
    prefix = f"[x]: https://e.com/{'a' * 2000}\n\n" if unit == "[a][x]" else ""
    if unit == "</div>":
        prefix = "<div>" * 100  # a deep stack for every stray end tag to search
    parts, length, n = [prefix], len(prefix), 0
    while length < size:
        part = unit.format(n=n) if numbered else unit
        parts.append(part)
        length += len(part)
        n += 1
    return "".join(parts)[:size]


# Each step takes what the one before gave: the body, then the stored HTML.
Steps = list[tuple[str, Callable[[str], str]]]
MARKDOWN_STEPS: Steps = [("render+sanitize", render_markdown), ("text", html_to_text)]
HTML_STEPS: Steps = [("sanitize", sanitize_html), ("text", html_to_text)]


def measure(body: str, steps: Steps) -> str:
    timings, result, stored = [], body, 0
    for name, step in steps:
        started = time.perf_counter()
        result = step(result)
        timings.append((name, time.perf_counter() - started))
        stored = stored or len(result)
    total = sum(seconds for _, seconds in timings)
    parts = "  ".join(f"{name} {seconds:6.3f}" for name, seconds in timings)
    return f"{parts}  total {total:6.3f} s  stored {stored / 1e6:5.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=MAX_BODY_CHARS)
    parser.add_argument("--only", help="one shape (its repeated unit)")
    args = parser.parse_args()
    for kind, units, steps in (
        ("markdown", MARKDOWN_UNITS, MARKDOWN_STEPS),
        ("html", HTML_UNITS, HTML_STEPS),
    ):
        for unit in units:
            if args.only in (None, unit):
                body = hostile(unit, args.size)
                print(f"{kind:8} {unit!r:30} {measure(body, steps)}", flush=True)


if __name__ == "__main__":
    main()
