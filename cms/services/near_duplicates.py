"""Syndicated copies: the same text under another URL, found by SimHash of body shingles.

Each body is reduced to a 64-bit SimHash of its 4-word shingles (Charikar): texts that
share most shingles get hashes a few bits apart, whatever their length, so a copy with a
different byline, a "This article originally appeared on..." line or a changed link is
still found, and two reports of one event in their own words are not (their shingles
differ even where their words agree). Only the opening MAX_WORDS are hashed: a copy
copies the opening, and the cost stays flat for long bodies.
"""

import hashlib
import re

from cms.services.html import html_to_text

SHINGLE = 4
MAX_WORDS = 300
MIN_WORDS = 40  # shorter bodies (a feed's teaser) share too little to tell
MAX_DISTANCE = 6  # differing bits of 64: about 85% of shingles shared and above
_WORD = re.compile(r"\w+")
_BITS = 64
_SIGN = 1 << (_BITS - 1)
_LANE = 10  # bits per counter: up to 1023 shingles (MAX_WORDS keeps below)
# _SPREAD[position][byte]: the byte's 8 bits, each in its own lane, at its position.
_SPREAD = [
    [
        sum(1 << ((position * 8 + bit) * _LANE) for bit in range(8) if byte >> bit & 1)
        for byte in range(256)
    ]
    for position in range(8)
]


def body_words(body_html: str) -> list[str]:
    return _WORD.findall(html_to_text(body_html).lower())[:MAX_WORDS]


def simhash(words: list[str]) -> int | None:
    """The SimHash of these words' shingles, as a signed 64-bit integer (what a BIGINT
    holds); None when there are too few words to judge by."""
    if len(words) < MIN_WORDS:
        return None
    shingles = [" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]
    # Count each bit position's ones over all shingle hashes at once: every byte of a
    # hash maps to its bits spread one per _LANE-bit lane, and Python adds the big ints.
    total = 0
    for shingle in shingles:
        digest = hashlib.blake2b(shingle.encode(), digest_size=8).digest()
        total += sum(_SPREAD[position][byte] for position, byte in enumerate(digest))
    half, mask = len(shingles) / 2, (1 << _LANE) - 1
    unsigned = 0
    for bit in range(_BITS):
        if (total >> (bit * _LANE)) & mask > half:
            unsigned |= 1 << bit
    return unsigned - (1 << _BITS) if unsigned & _SIGN else unsigned


def near_duplicates(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return False
    return ((a ^ b) & ((1 << _BITS) - 1)).bit_count() <= MAX_DISTANCE
