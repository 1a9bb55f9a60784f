"""Reading a post's YAML front matter as plain data, whoever wrote it.

What YAML may say is cut down to what JSON can: strings, numbers, booleans, null,
lists and mappings. So the front matter reaches validation as an API request body
would, and nothing in the YAML layer can expand, recurse or raise on its own:
- no aliases: a few hundred bytes of nested `&a [*a, *a]` expand to megabytes;
- no nesting deeper than MAX_DEPTH: the composer recurses once per level;
- no timestamps, sets or binary: YAML would build dates itself (and fail on
  `2025-02-30` or `0000-01-01` outside any validation); a date stays the text
  written, and the article schema judges it like any other datetime;
- at most MAX_FRONT_MATTER_CHARS: the pure-Python parser takes seconds per megabyte,
  and no valid front matter comes near the cap.
"""

from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.composer import ComposerError
from yaml.events import Event
from yaml.nodes import Node

from cms.services.errors import InvalidContentError

MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_DEPTH = 8  # the deepest valid front matter: a mapping of lists (2)

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NOT_JSON = {_TIMESTAMP, *(f"tag:yaml.org,2002:{t}" for t in ("binary", "set", "omap", "pairs"))}
_YAML = YAMLHandler()


class FrontMatterLoader(yaml.SafeLoader):
    """yaml.SafeLoader without aliases, deep nesting or non-JSON types. Explicit tags
    for those types (`!!timestamp`, `!!binary`...) find no constructor: a YAML error."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    yaml_constructors = {
        tag: construct
        for tag, construct in yaml.SafeLoader.yaml_constructors.items()
        if tag not in _NOT_JSON
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _composer_error("aliases (*name) are not allowed", event)
        if self.depth >= MAX_DEPTH:
            raise _composer_error(f"nested deeper than {MAX_DEPTH} levels", event)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _composer_error(problem: str, event: Event) -> ComposerError:
    mark = event.start_mark if isinstance(event.start_mark, yaml.Mark) else None
    return ComposerError(None, None, problem, mark)


def read_front_matter(text: str) -> tuple[dict[Any, Any], str]:
    """(front matter, body) of a post: `---` lines around YAML, then the body."""
    if not _YAML.detect(text):
        raise _refused("Missing: a post starts with a --- line, its keys, and another ---.")
    try:
        front_matter, body = _YAML.split(text)
    except ValueError:
        raise _refused("Not closed: end it with a --- line before the body.") from None
    if len(front_matter) > MAX_FRONT_MATTER_CHARS:
        raise _refused(f"Longer than {MAX_FRONT_MATTER_CHARS} characters.")
    try:
        meta = yaml.load(front_matter, Loader=FrontMatterLoader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" (line {mark.line + 1} of the post)" if mark else ""
        raise _refused(f"Not safe, valid YAML: {error.problem}{where}.") from None
    except yaml.YAMLError as error:
        raise _refused(f"Not safe, valid YAML: {error}") from None
    except ValueError:  # Python refuses to read integers of over 4300 digits
        raise _refused("Not safe, valid YAML: a number too long to read.") from None
    if meta is None:  # nothing between the --- lines: each required key is missing
        meta = {}
    if not isinstance(meta, dict):
        raise _refused("Not a mapping of keys to values.")
    return meta, body.strip()


def _refused(message: str) -> InvalidContentError:
    return InvalidContentError({"front_matter": [message]}, "The front matter was refused.")
