"""The one sentence splitter of the kit, shared by the corpus builder, ``predict`` and the server.

Rules (see the tests in ``tests/labels/test_splitter.py``):

* a sentence ends at ``。！？!?`` or at ``；;`` (so an enumeration ``一是…；二是…`` becomes one
  item each), and at every line break;
* closing quotes and brackets that follow the terminator stay with their sentence
  (``。”``, ``。）``, ``！”）``); runs of terminators (``！！``, ``?!``) stay together;
* ASCII ``!?;`` only end a sentence when no ASCII letter or digit follows, so URLs
  (``index.php?id=3``) and entities are left whole; ``.`` never ends a sentence, so numbers
  and dates (``3.5``, ``2024.03.22``) are never cut;
* leading and trailing whitespace (including the ideographic space ``\\u3000``) is trimmed
  and whitespace-only pieces are dropped.

Every piece carries its character offsets, so ``text[piece.start:piece.end] == piece.text``.

Example:
    >>> [s.text for s in split_sentences("一是抓落实；二是强监督。“好！”他说")]
    ['一是抓落实；', '二是强监督。', '“好！”', '他说']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]

# Full-width terminators always end a sentence; ASCII ones only when no ASCII word character follows.
_CJK_TERMINATORS = "。！？；"
_ASCII_TERMINATORS = "!?;"
# Closing marks that belong to the sentence they close.
_CLOSERS = "”’）)】]》〉」』〕｝}"
_LINE_BREAKS = "\n\r\u2028\u2029\x0b\x0c\x85"
_ASCII_WORD = re.compile(r"[A-Za-z0-9_=&%/#.\-]")
_CANDIDATE = re.compile("[" + re.escape(_LINE_BREAKS + _CJK_TERMINATORS + _ASCII_TERMINATORS) + "]")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its text and its ``[start, end)`` character offsets in the source text."""

    start: int
    end: int
    text: str


def _is_terminator(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _CJK_TERMINATORS:
        return True
    if ch in _ASCII_TERMINATORS:
        nxt = text[i + 1] if i + 1 < len(text) else ""
        return not (nxt and _ASCII_WORD.match(nxt))
    return False


def _raw_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield untrimmed ``[start, end)`` spans covering ``text`` end to end."""
    n = len(text)
    start = 0
    i = 0
    while i < n:
        # Jump to the next line break or terminator: every character between them only moves i on.
        found = _CANDIDATE.search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if ch in _LINE_BREAKS:
            yield start, i
            start = i + 1
            i += 1
            continue
        if _is_terminator(text, i):
            j = i + 1
            # Keep runs of terminators and the closing marks that follow them.
            while j < n and (text[j] in _CLOSERS or text[j] in _CJK_TERMINATORS or text[j] in _ASCII_TERMINATORS):
                j += 1
            # An ASCII double quote closes the sentence when the sentence has an open one.
            while j < n and text[j] == '"' and text.count('"', start, j) % 2 == 1:
                j += 1
                while j < n and text[j] in _CLOSERS:
                    j += 1
            yield start, j
            start = j
            i = j
            continue
        i += 1
    yield start, n


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into trimmed, non-empty sentences with exact character offsets."""
    if not isinstance(text, str):
        raise TypeError(f"split_sentences expects str, got {type(text).__name__}")
    out: list[Sentence] = []
    for start, end in _raw_spans(text):
        # str.strip() knows every Unicode space, \u3000 and \xa0 included.
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        s = start + lead
        out.append(Sentence(start=s, end=s + len(stripped), text=stripped))
    return out
