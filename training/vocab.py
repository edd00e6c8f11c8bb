"""The character vocabulary of the kit's own BERTs: every character of real reports, not only of the training text.

A vocabulary built from the training sentences alone (about 1,070 characters) turns every other
character of a new locality's report into ``[UNK]``. :func:`domain_vocab` builds it from the
labelled text, every page of the unlabelled harvest (``seeds/unlabelled/pages.parquet``) and,
optionally, a standard list of common characters: GB 2312's level-1 hanzi (3,755 characters), read
from Python's own ``gb2312`` codec, so no download is needed.

Tokens are what ``BertTokenizer`` makes of the text (lower-cased, accents stripped, one token per
CJK character); a character that follows another inside a non-CJK word (``①②``, ``2024``) is also
listed as a ``##`` continuation, so no word of the corpus becomes ``[UNK]``.

Example:
    >>> vocab = build_vocab(["法律援助。", "①②"])
    >>> [t for t in vocab if not t.isascii()]
    ['##②', '①', '。', '助', '律', '援', '法', '##①', '##。']
    >>> len(standard_characters("gb2312-1")), standard_characters("gb2312-1")[:3]
    (3755, ['啊', '阿', '埃'])
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SPECIAL_TOKENS", "STANDARD_LISTS", "build_vocab", "domain_vocab", "shown_path", "standard_characters"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

#: Standard character lists that may be added to a vocabulary: GB 2312 level 1 (the 3,755 common hanzi),
#: both levels (6,763 hanzi), or none.
STANDARD_LISTS = ("gb2312-1", "gb2312", "none")

# The code points BERT's pre-tokenizer treats as CJK ideographs.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
# GB 2312 rows (first byte) of the level-1 and level-2 hanzi.
_GB2312_ROWS = {"gb2312-1": range(0xB0, 0xD8), "gb2312": range(0xB0, 0xF8)}


@cache
def _pre_tokenizer() -> Any:
    """BERT's own normaliser and pre-tokeniser (the ones ``BertTokenizer(do_lower_case=True)`` uses)."""
    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, lowercase=True)
    return normalizer, pre_tokenizers.BertPreTokenizer()


def _words(text: str) -> list[str]:
    normalizer, pre = _pre_tokenizer()
    return [w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text))]


def _is_cjk(ch: str) -> bool:
    """BERT's test for a CJK ideograph (each is its own word, so never a ``##`` continuation)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def standard_characters(name: str) -> list[str]:
    """The characters of standard list ``name`` (see :data:`STANDARD_LISTS`), in the standard's order."""
    if name not in STANDARD_LISTS:
        raise ValueError(f"unknown standard character list {name!r}; choose one of {', '.join(STANDARD_LISTS)}")
    if name == "none":
        return []
    out = []
    for hi in _GB2312_ROWS[name]:
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:  # the unused cells at the end of row 0xD7
                continue
    return out


def build_vocab(texts: Iterable[str], *, min_freq: int = 1, extra: Iterable[str] = ()) -> dict[str, int]:
    """Vocabulary of ``texts``: special tokens, ASCII (also as ``##``), then pieces by frequency, then ``extra``."""
    counts: Counter[str] = Counter()
    for t in texts:
        for word in _words(t):
            counts[word[0]] += 1
            counts.update(f"##{c}" for c in word[1:])
    ascii_chars = string.ascii_lowercase + string.digits
    tokens = [*SPECIAL_TOKENS, *ascii_chars, *(f"##{c}" for c in ascii_chars)]
    seen = set(tokens)
    ranked = [tok for tok, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_freq]
    # Any non-CJK character may also continue a word ("①②", "ⅱⅰ"): one unknown pairing would make the word [UNK].
    continuations = [f"##{tok}" for tok in ranked if len(tok) == 1 and not _is_cjk(tok)]
    for tok in [*ranked, *extra, *continuations]:
        if tok not in seen:
            tokens.append(tok)
            seen.add(tok)
    return {tok: i for i, tok in enumerate(tokens)}


def _harvest_texts(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [t for t in pq.read_table(path, columns=["text"]).column("text").to_pylist() if t]


def shown_path(path: Path | None) -> str:
    """``path`` relative to the working folder when it lies under it (cards should not name a home folder)."""
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def domain_vocab(
    texts: Iterable[str], *, unlabelled: str | Path | None, standard: str = "gb2312-1"
) -> tuple[dict[str, int], dict[str, Any]]:
    """The vocabulary of ``texts`` plus every page of the ``unlabelled`` Parquet corpus plus a standard list.

    Returns the vocabulary and a record of where it came from (for the card and the manifest). The
    harvest is skipped, and the record says so, when ``unlabelled`` is ``None`` or not a file (an
    installed kit without the data).
    """
    own = list(texts)
    harvest_path = Path(unlabelled) if unlabelled is not None else None
    harvest = _harvest_texts(harvest_path) if harvest_path is not None and harvest_path.is_file() else []
    extra = standard_characters(standard)
    vocab = build_vocab([*own, *harvest], extra=extra)
    parts = [f"the characters of {len(own)} given texts (training, pretraining or labelled sentences)"]
    if harvest:
        parts.append(f"every character of the {len(harvest)} pages of {shown_path(harvest_path)}")
    if extra:
        parts.append(f"{standard.upper()} ({len(extra)} common hanzi, from Python's gb2312 codec)")
    source = {
        "size": len(vocab),
        "texts": len(own),
        "unlabelled": shown_path(harvest_path) if harvest else None,
        "unlabelled_pages": len(harvest),
        "standard": standard,
        "description": " + ".join(parts),
    }
    return vocab, source
