"""Story clustering, measured: quality on a labelled set and throughput.

    python -m bench.stories [--throughput 20000] [--methods cosine,rapidfuzz,minhash]

Quality: the labelled set of bench/story_events.py (447 headlines with ledes, 64
events over nine weeks, written for this benchmark) is clustered by the real pipeline
(cms.services.stories.place_articles on a migrated SQLite database, candidates from the
FTS5 index), in publication order as ingest would, and scored against the labels:
pairwise precision, recall and F1 (over pairs of articles put together), and B-cubed
(per article, averaged). With several methods, each similarity is swapped in with its
own threshold (the same guards apply) and scored the same way.

Throughput: --throughput N articles (the labelled set repeated, each copy ten weeks
after the one before and all in the past, so the archive grows while each window stays
realistic), clustered in order in jobs of JOB_SIZE, each committed, as the outbox
consumer queues them; articles per second of clustering alone (the inserts are timed
apart), and how many were clustered (all of them: a future article would be skipped).
"""

import argparse
import itertools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import delete, func, insert, select

from bench.story_events import Labelled, articles
from cms import create_app
from cms.extensions import db
from cms.models import Article, ArticleStatus, BodyFormat, SearchDocument, Story, StoryMember
from cms.services import clustering
from cms.services.identifiers import new_stable_id
from cms.services.stories import place_articles

JOB_SIZE = 500  # articles per clustering job (and transaction)
Similarity = Callable[[clustering.Fingerprint, clustering.Fingerprint], float]


def _rapidfuzz() -> tuple[Similarity, float]:
    from rapidfuzz import fuzz

    def score(a: clustering.Fingerprint, b: clustering.Fingerprint) -> float:
        return float(fuzz.token_set_ratio(" ".join(a.words), " ".join(b.words))) / 100

    return score, 0.62


def _minhash() -> tuple[Similarity, float]:
    from datasketch import MinHash

    cache: dict[frozenset[str], Any] = {}

    def signature(words: frozenset[str]) -> Any:
        if words not in cache:
            found = MinHash(num_perm=64)
            found.update_batch([w.encode() for w in words])
            cache[words] = found
        return cache[words]

    def score(a: clustering.Fingerprint, b: clustering.Fingerprint) -> float:
        return float(signature(a.words).jaccard(signature(b.words)))

    return score, 0.22


METHODS: dict[str, Callable[[], tuple[Similarity, float]]] = {
    "cosine": lambda: (clustering.similarity, clustering.JOIN_THRESHOLD),
    "rapidfuzz": _rapidfuzz,
    "minhash": _minhash,
}


def insert_articles(items: list[Labelled], offset: timedelta = timedelta(0)) -> list[int]:
    rows = [
        {
            "slug": f"a-{new_stable_id().lower()}",
            "stable_id": new_stable_id(),
            "title": item.title,
            "excerpt": item.lede,
            "body_format": BodyFormat.HTML,
            "body_source": "",
            "body_html": f"<p>{item.lede}</p>",
            "status": ArticleStatus.PUBLISHED,
            "published_at": item.published_at + offset,
            "key_points": [],
            "version": 1,
        }
        for item in items
    ]
    ids = list(db.session.scalars(insert(Article).returning(Article.id), rows))
    documents = [
        {
            "article_id": article_id,
            "title": item.title,
            "excerpt": item.lede,
            "summary": "",
            "body_text": item.lede,
            "tag_names": "",
        }
        for article_id, item in zip(ids, items, strict=True)
    ]
    db.session.execute(insert(SearchDocument), documents)
    db.session.commit()
    return ids


def cluster(ids: list[int]) -> float:
    """Place the articles in order, JOB_SIZE at a time as the job does, committing each
    batch; returns the seconds it took."""
    started = time.perf_counter()
    for start in range(0, len(ids), JOB_SIZE):
        place_articles(db.session, ids[start : start + JOB_SIZE])
        db.session.commit()
    return time.perf_counter() - started


def scores(truth: dict[int, int], predicted: dict[int, int]) -> dict[str, float]:
    """Pairwise precision/recall/F1 and B-cubed precision/recall/F1."""
    by_truth, by_predicted = defaultdict(set), defaultdict(set)
    for article_id, label in truth.items():
        by_truth[label].add(article_id)
        by_predicted[predicted[article_id]].add(article_id)
    pairs_true = {
        p for group in by_truth.values() for p in itertools.combinations(sorted(group), 2)
    }
    pairs_found = {
        p for group in by_predicted.values() for p in itertools.combinations(sorted(group), 2)
    }
    both = len(pairs_true & pairs_found)
    precision = both / len(pairs_found) if pairs_found else 1.0
    recall = both / len(pairs_true) if pairs_true else 1.0
    b_precision = b_recall = 0.0
    for article_id in truth:
        found = by_predicted[predicted[article_id]]
        true = by_truth[truth[article_id]]
        b_precision += len(found & true) / len(found)
        b_recall += len(found & true) / len(true)
    b_precision, b_recall = b_precision / len(truth), b_recall / len(truth)
    return {
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": _f1(precision, recall),
        "bcubed_precision": b_precision,
        "bcubed_recall": b_recall,
        "bcubed_f1": _f1(b_precision, b_recall),
    }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def reset_stories() -> None:
    db.session.execute(delete(StoryMember))
    db.session.execute(delete(Story))
    db.session.commit()


def evaluate(method: str) -> dict[str, float]:
    similarity, threshold = METHODS[method]()
    original = clustering.similarity, clustering.JOIN_THRESHOLD
    clustering.similarity, clustering.JOIN_THRESHOLD = similarity, threshold
    try:
        reset_stories()
        labelled = articles()
        db.session.execute(delete(Article))
        db.session.commit()
        ids = insert_articles(labelled)
        seconds = cluster(ids)
    finally:
        clustering.similarity, clustering.JOIN_THRESHOLD = original
    predicted = dict(db.session.execute(select(StoryMember.article_id, StoryMember.story_id)).all())
    truth = {article_id: item.event for article_id, item in zip(ids, labelled, strict=True)}
    return {**scores(truth, predicted), "articles_per_second": len(ids) / seconds}


def throughput(total: int) -> dict[str, float]:
    reset_stories()
    db.session.execute(delete(Article))
    db.session.commit()
    copies: list[list[Labelled]] = []
    while sum(map(len, copies)) < total:
        copies.append(articles(seed=len(copies))[: total - sum(map(len, copies))])
    # Each copy ten weeks after the one before, the last on the labelled set's own dates:
    # every article is in the past, so public (copies in the future were not clustered,
    # which made large runs look fast).
    started = time.perf_counter()
    ids: list[int] = []
    for number, batch in enumerate(copies):
        ids += insert_articles(batch, offset=timedelta(weeks=10 * (number - len(copies) + 1)))
    seeded = time.perf_counter() - started
    seconds = cluster(ids)
    clustered = db.session.scalar(select(func.count()).select_from(StoryMember))
    return {
        "articles": len(ids),
        "clustered": clustered or 0,
        "seed_seconds": seeded,
        "seconds": seconds,
        "articles_per_second": len(ids) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", type=int, default=20_000)
    parser.add_argument("--methods", default="cosine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'stories.sqlite3'}",
                "QUEUE_URL": "memory://",
            }
        )
        with app.app_context():
            upgrade()
            for method in args.methods.split(","):
                result = evaluate(method)
                print(method, " ".join(f"{k}={v:.3f}" for k, v in result.items()))
            if args.throughput:
                result = throughput(args.throughput)
                print("throughput", " ".join(f"{k}={v:.1f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
