"""Traditional → simplified characters, for what a model reads (zhconv's ``zh-cn`` table).

The kit's models are trained on simplified text; a report in traditional characters reads better
to them converted. Only the model's copy is converted: offsets keep pointing into the original.

Most sentences of mainland reports have nothing to convert, and zhconv's phrase matching costs
about as much as reading the file, so a sentence is converted only when it holds a converted character or a
converted phrase (:func:`_triggers`); for any other sentence the conversion is the identity.

Example:
    >>> to_simplified("推進法治政府建設")
    '推进法治政府建设'
    >>> to_simplified("依法行政。")
    '依法行政。'
"""

from __future__ import annotations

import functools

__all__ = ["needs_simplifying", "to_simplified"]


@functools.cache
def _triggers() -> tuple[frozenset[str], dict[str, tuple[str, ...]]] | None:
    """What must be in a text for zhconv's ``zh-cn`` table to change it; ``None`` if the table cannot be read.

    An entry that changes its text either holds a character that is itself converted (the set), or is a
    phrase of characters that are not ("反覆" → "反复"), which must then appear whole (the phrases, by
    their first character).
    """
    try:
        from zhconv import zhconv as tables

        table = tables.getdict("zh-cn")
    except Exception:  # another zhconv layout: convert every sentence, as before
        return None
    changing = [k for k, v in table.items() if k != v]
    single = frozenset(k for k in changing if len(k) == 1)
    phrases: dict[str, list[str]] = {}
    for k in changing:
        if len(k) > 1 and single.isdisjoint(k):
            phrases.setdefault(k[0], []).append(k)
    return single, {first: tuple(ks) for first, ks in phrases.items()}


def _unchanged(text: str, single: frozenset[str], phrases: dict[str, tuple[str, ...]]) -> bool:
    if not single.isdisjoint(text):
        return False
    return not any(p in text for first in phrases.keys() & set(text) for p in phrases[first])


def needs_simplifying(text: str) -> bool:
    """Whether :func:`to_simplified` would change ``text`` (or any part of it): one pass over a whole document."""
    triggers = _triggers()
    return triggers is None or not _unchanged(text, *triggers)


def to_simplified(text: str) -> str:
    """``text`` with traditional characters (and Taiwan/Hong Kong wording) in mainland simplified form."""
    if not needs_simplifying(text):
        return text
    import zhconv  # a character table, imported on use

    return str(zhconv.convert(text, "zh-cn"))
