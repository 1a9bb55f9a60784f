"""RSS 2.0 and Atom 1.0 documents of a channel's articles, written by feedgen. Stored
text may hold characters XML cannot (JSON writes them escaped): each string is cleaned
on its way in, or lxml refuses the whole document."""

from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from flask import current_app

from cms.models import Article
from cms.services.html import xml_text
from cms.services.site_urls import site_url
from cms.services.syndication import (
    Channel,
    article_url,
    byline,
    categories,
    content_html,
    credit,
    enclosure,
    entry_id,
    last_change,
    summary_html,
)


class _Entry(FeedEntry):  # type: ignore[misc]
    """feedgen 1.0.0 writes an Atom entry's links without their rel, type and length
    (it reads them from the element it has just made, not from the link), so every
    link would be an `alternate`: put them back."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element, link in zip(entry.findall("link"), self.link() or [], strict=True):
            for name in ("rel", "type", "length"):
                if link.get(name):
                    element.set(name, str(link[name]))
        return entry


def rss(channel: Channel, articles: list[Article], feed_url: str) -> bytes:
    return bytes(_feed(channel, articles, feed_url).rss_str(pretty=False))


def atom(channel: Channel, articles: list[Article], feed_url: str) -> bytes:
    return bytes(_feed(channel, articles, feed_url).atom_str(pretty=False))


def _feed(channel: Channel, articles: list[Article], feed_url: str) -> FeedGenerator:
    config = current_app.config
    feed = FeedGenerator()
    feed.load_extension("dc")  # RSS names an author only with an email; dc:creator a name
    feed.id(xml_text(channel.home_url))
    feed.title(xml_text(channel.title))
    feed.description(xml_text(channel.description))
    feed.author({"name": xml_text(config["SITE_NAME"]), "uri": site_url()})
    feed.link(href=feed_url, rel="self")
    feed.link(href=channel.home_url, rel="alternate")  # RSS's <link>: the last alternate
    feed.language(config["SITE_LANGUAGE"])
    # Set, not left to feedgen's "now": the document then changes only with content.
    feed.updated(last_change(articles))
    feed.lastBuildDate(last_change(articles))
    for article in reversed(articles):  # feedgen prepends: newest first in the document
        feed.add_entry(_entry(article))
    return feed


def _entry(article: Article) -> FeedEntry:
    entry = _Entry()
    entry.load_extension("dc")
    entry.id(entry_id(article))
    entry.guid(entry_id(article), permalink=False)
    entry.title(xml_text(article.title) or article.slug)  # feeds require a title
    entry.link(href=article_url(article), rel="alternate")
    entry.published(article.published_at)
    entry.updated(article.updated_at)
    if summary := summary_html(article):
        entry.summary(xml_text(summary), type="html")  # and RSS's description
    if (content := content_html(article)) is not None:
        entry.content(xml_text(content), type="html")  # and RSS's content:encoded
    for author in byline(article):
        name = xml_text(author["name"])
        entry.author({"name": name, "uri": xml_text(author["url"])})
        entry.dc.dc_creator(name, replace=False)
    for term, label in categories(article):
        entry.category(term=xml_text(term), label=xml_text(label))
    if (cover := enclosure(article)) is not None:
        entry.enclosure(xml_text(cover.url), str(cover.length), cover.type)
    if (source := credit(article)) is not None:
        entry.source(url=xml_text(source.url), title=xml_text(source.name))
        entry.link(href=xml_text(source.original_url), rel="via")
    return entry
