"""Close spellings of a name: `difflib.get_close_matches`, with hopeless candidates skipped first.

Deciding whether a file of unknown keys is a training config with typos, and suggesting the key
meant, compares each unknown key with every argument name (about 400 of them). difflib scores
each candidate in Python, character by character, which made that question a tenth of the time
of a whole folder's check. A candidate is skipped only when it cannot reach the cutoff, so the
answer is difflib's own.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(
    word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6
) -> list[str]:
    """What `difflib.get_close_matches(word, candidates, n, cutoff)` returns."""
    if not word:
        return difflib.get_close_matches(word, candidates, n, cutoff)
    # difflib's ratio is 2*M/T, with M the matching characters and T both lengths. M is at most
    # the characters of a candidate that occur in `word` at all, which str.translate counts in
    # C by deleting them. The bound is computed as difflib computes its ratios, so that no
    # rounding can drop a candidate difflib would keep.
    # The lengths alone bound M by the shorter one; that test is cheaper still and, with the
    # usual cutoff of 0.8, leaves a third of the candidates to count characters of.
    delete = dict.fromkeys(map(ord, word))
    length = len(word)
    hopeful = [
        candidate
        for candidate in candidates
        if 2.0 * min(length, len(candidate)) / (length + len(candidate)) >= cutoff
        and 2.0
        * min(length, len(candidate) - len(candidate.translate(delete)))
        / (length + len(candidate))
        >= cutoff
    ]
    return difflib.get_close_matches(word, hopeful, n, cutoff) if hopeful else []
