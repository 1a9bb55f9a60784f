"""CDN cache keys: what a public response shows, and what a change purges.

A response names what it shows (`article-42`, `tag-7`, `list-articles`) in its
`Cache-Tag` and `Surrogate-Key` headers; a change to a resource purges
`<resource>-<id>` and the list of its kind. So a CDN may keep pages for hours: a tag's
new name purges `tag-7`, which every article and list showing that tag carries.

The rule is coarse on lists on purpose: any change to an article purges
`list-articles`, since a list's membership and order hang on many of its fields (and
search on its text). Items are precise: an article's page is purged by its own
changes and by those of what it shows (its authors, tags, category, cover image,
publication, the pages citing it).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from cms.models import ContentEvent
from cms.models.outbox import CONTENT_RESOURCES
from cms.services.article_relations import ARTICLE_RELATIONS

_PLURALS = {"category": "categories", "story": "stories"}
# The key prefix of each article relation: the name its resource's events carry.
_RELATION_KEYS = {
    relation.name: CONTENT_RESOURCES[relation.model] for relation in ARTICLE_RELATIONS
}
# Stories are kept by clustering, not written as content; their events purge them too
# (and every article page showing one carries its key).
PURGED_RESOURCES = frozenset({*CONTENT_RESOURCES.values(), "story"})


def resource_key(resource: str, resource_id: int) -> str:
    return f"{resource}-{resource_id}"


def list_key(resource: str) -> str:
    return f"list-{_PLURALS.get(resource, resource + 's')}"


def unnamed_key(blueprint: str) -> str:
    """The key of a public response whose view named nothing: for a content collection
    its list key (any change of that kind purges it), else the blueprint's name."""
    return f"list-{blueprint}" if blueprint in _COLLECTIONS else blueprint


_COLLECTIONS = frozenset(list_key(resource).removeprefix("list-") for resource in PURGED_RESOURCES)


def article_keys(article: dict[str, Any]) -> list[str]:
    """An article as shown (compact references) and everything it shows."""
    keys = [resource_key("article", article["id"])]
    for name, resource in _RELATION_KEYS.items():
        shown = article.get(name)
        if isinstance(shown, dict):
            keys.append(resource_key(resource, shown["id"]))
        elif isinstance(shown, list):
            keys.extend(resource_key(resource, item["id"]) for item in shown)
    if article.get("story"):
        keys.append(resource_key("story", article["story"]["id"]))
    return keys


def stored_article_keys(article: Any) -> list[str]:
    """The same, of an Article row (feeds render rows): its id and its relations' ids."""
    keys = [resource_key("article", article.id)]
    keys += [resource_key("author", link.author_id) for link in article.author_links]
    keys += [resource_key("tag", link.tag_id) for link in article.tag_links]
    for resource, related_id in (
        ("category", article.category_id),
        ("image", article.cover_image_id),
        ("publication", article.publication_id),
    ):
        if related_id is not None:
            keys.append(resource_key(resource, related_id))
    return keys


def purge_keys(events: Sequence[ContentEvent]) -> list[str]:
    """The keys these content events make stale, each once, in a stable order."""
    keys: dict[str, None] = {}
    for item in events:
        if item.resource in PURGED_RESOURCES:
            keys[resource_key(item.resource, item.resource_id)] = None
            keys[list_key(item.resource)] = None
    return list(keys)


def header_values(keys: Iterable[str], budget: int) -> tuple[str, str]:
    """(Cache-Tag, Surrogate-Key): Cloudflare reads commas, Fastly spaces. A response
    that shows too much to name it all (a page of 100 articles, each with its tags)
    names kinds instead: `tag-7` becomes `list-tags`, which every tag change purges."""
    unique = list(dict.fromkeys(keys))
    if sum(len(key) + 1 for key in unique) > budget:
        unique = list(dict.fromkeys(_kind(key) for key in unique))
    return ",".join(unique), " ".join(unique)


def _kind(key: str) -> str:
    resource, _, number = key.rpartition("-")
    if number.isdigit() and resource in PURGED_RESOURCES:
        return list_key(resource)
    return key
