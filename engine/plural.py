"""A count and its noun, in the singular when the count is one: the wording every message and caption shares."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun`` (its plural, the first word: ``combinations (all tried)``) in the singular when ``n``
    is 1.

    >>> counted(1, "strategies"), counted(2_000, "combinations (all tried)"), counted(1, "folds")
    ('1 strategy', '2,000 combinations (all tried)', '1 fold')
    >>> counted(1, "gaps longer than 10 days"), counted(3, "rows")
    ('1 gap longer than 10 days', '3 rows')
    """
    if n == 1:
        word, _, rest = noun.partition(" ")
        word = word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")
        noun = f"{word} {rest}".rstrip()
    return f"{n:,} {noun}"
