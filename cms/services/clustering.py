"""Which story an article belongs to: the lexical decision, without the database.

An article is reduced to a fingerprint: the significant words of its title, and those of
its title and lede together. It joins the story of its most similar candidate when

- the similarity (cosine of the two word sets, title words counted twice: headlines say
  what the event is, ledes add the who and where) reaches JOIN_THRESHOLD;
- it shares at least MIN_SHARED_TITLE_WORDS title words with that member (NewsBlur's
  guard against drift: a story cannot creep from topic to topic through ledes alone);
- the two were published within JOIN_WINDOW of each other (a similar topic two weeks
  later is another event).

Word sets, not a fitted model: nothing to train or refit as the vocabulary moves, and a
candidate's fingerprint is stored with its membership, so deciding costs a split and a
set intersection per candidate (see bench/stories.py for the measurements behind this).
"""

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

JOIN_THRESHOLD = 0.36
MIN_SHARED_TITLE_WORDS = 2
JOIN_WINDOW = timedelta(hours=120)  # NewsBlur's look-back
LEDE_WORDS = 40  # the first words of the excerpt (or body): who, what, where

_WORD = re.compile(r"[a-z0-9]+")
_TAG = re.compile(r"<[^>]*>")
# Words that say nothing about which event this is: function words and newsroom filler.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just may me might more most must my no nor not now of off on once only
    or other our out over own same she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your new says said say report
    reports reported reportedly according amid year years week today yesterday tomorrow
    monday tuesday wednesday thursday friday saturday sunday first last one two three
    latest update updates breaking live exclusive here's what's it's don't won't can't
    s t don won isn aren doesn didn via per get gets got make makes made could still""".split()  # noqa: SIM905 - a list of 170 words reads worse
)


@dataclass(frozen=True)
class Fingerprint:
    title: frozenset[str]
    words: frozenset[str]  # title and lede

    def stored(self) -> str:
        """The form kept in story_members.words."""
        lede_only = self.words - self.title
        return " ".join(sorted(self.title)) + "|" + " ".join(sorted(lede_only))


def significant_words(text: str) -> list[str]:
    """Lower-case words that are neither stopwords nor single letters, lightly stemmed
    (a plural and its singular are one word)."""
    found = []
    for word in _WORD.findall(html.unescape(_TAG.sub(" ", text)).lower()):
        if len(word) < 2 or word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.append(word)
    return found


def fingerprint(title: str, lede: str) -> Fingerprint:
    title_words = frozenset(significant_words(title))
    lede_words = significant_words(lede)[:LEDE_WORDS]
    return Fingerprint(title_words, title_words | frozenset(lede_words))


def parse_stored(stored: str) -> Fingerprint:
    title, _, lede = stored.partition("|")
    title_words = frozenset(title.split())
    return Fingerprint(title_words, title_words | frozenset(lede.split()))


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Cosine of the word sets, the title words weighing twice."""
    shared = len(a.words & b.words) + len(a.title & b.title)
    size_a = len(a.words) + len(a.title)
    size_b = len(b.words) + len(b.title)
    return shared / math.sqrt(size_a * size_b) if size_a and size_b else 0.0


@dataclass(frozen=True)
class Candidate:
    article_id: int
    story_id: int
    published_at: datetime
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Match:
    story_id: int
    article_id: int  # the member it matched best
    score: float


def best_match(
    article: Fingerprint, published_at: datetime, candidates: Iterable[Candidate]
) -> Match | None:
    """The candidate the article is most like, if it passes every guard."""
    best: Match | None = None
    for candidate in candidates:
        if abs(candidate.published_at - published_at) > JOIN_WINDOW:
            continue
        if len(article.title & candidate.fingerprint.title) < MIN_SHARED_TITLE_WORDS:
            continue
        score = similarity(article, candidate.fingerprint)
        if score >= JOIN_THRESHOLD and (best is None or score > best.score):
            best = Match(candidate.story_id, candidate.article_id, score)
    return best
