"""A count and its noun, in the singular when the count is one: the wording every message and caption shares."""

from __future__ import annotations

__all__ = ["byte_size", "counted"]


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


def byte_size(n: int) -> str:
    """``n`` bytes as ``1.2 GB``, ``850 MB`` or ``960 bytes`` (decimal units, as memory and disks are sold).

    >>> byte_size(2_345_000_000), byte_size(850_000_000), byte_size(960)
    ('2.3 GB', '850 MB', '960 bytes')
    """
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n:,} bytes"
