"""Bytes → text for the text formats: which encoding, and whether the file is text at all.

Chinese reports arrive as UTF-8 or in the GB family (GB2312, GBK, GB18030), now and then in Big5.
The order: UTF-8 (a BOM allowed) first, because valid UTF-8 is almost never anything else; then the
charset an HTML page declares; then charset-normalizer's ranking, from which only the GB and Big5
families are taken (on a few hundred bytes the detector also proposes Korean or Cyrillic code pages,
which are never right for this kit's documents); last, GB18030 if the bytes decode as it. GBK and
GB2312 are always read as GB18030, their superset, so a rare character never fails the decode.

A file with NUL bytes, or whose decoded text is mostly control characters, is binary and refused.

Example:
    >>> decode_bytes("法律援助。".encode("gbk"))
    ('法律援助。', 'gb18030')
    >>> declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=GB2312">')
    'gb18030'
"""

from __future__ import annotations

import codecs
import re

from policytag.labels.documents.base import DocumentError

__all__ = ["canonical_encoding", "declared_charset", "decode_bytes"]

_GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "cp936", "hz"})
_BIG5_FAMILY = frozenset({"big5", "big5hkscs", "cp950"})
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x">, in the first 4 KB.
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 4096
# Share of control characters (other than tab and line breaks) above which decoded text is binary.
_BINARY_SHARE = 0.3
# Unicode's control characters (category Cc: U+0000-001F, U+007F-009F) but the five of plain text
# (tab, line feed, vertical tab, form feed, carriage return), and the replacement character.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


def canonical_encoding(name: str) -> str | None:
    """Python's name for the encoding ``name``, the GB family as ``gb18030``; ``None`` when unknown."""
    try:
        codec = codecs.lookup(name.strip().lower().replace("x-gbk", "gbk")).name
    except LookupError:
        return None
    return "gb18030" if codec in _GB_FAMILY else codec


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` tag (canonical name), if any."""
    match = _META_CHARSET.search(data[:_SNIFF_BYTES])
    return canonical_encoding(match.group(1).decode("ascii")) if match else None


def _detected(data: bytes) -> str | None:
    """The first GB- or Big5-family encoding in charset-normalizer's ranking of ``data``."""
    from charset_normalizer import from_bytes  # imported on use: only non-UTF-8 files need it

    for match in from_bytes(data):
        name = canonical_encoding(match.encoding)
        if name == "gb18030" or name in _BIG5_FAMILY:
            return name
    return None


def _try(data: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_binary(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    return len(_CONTROLS.findall(sample)) / len(sample) > _BINARY_SHARE


def _check_text(text: str, name: str) -> None:
    if _is_binary(text):
        raise DocumentError(f"{name}: binary file, not a text document")


def decode_bytes(data: bytes, *, name: str = "<input>", declared: str | None = None) -> tuple[str, str]:
    """Decode ``data``; return ``(text, encoding)``. ``declared`` is the charset the file names, if any.

    Raises:
        DocumentError: the bytes are binary (NUL bytes, mostly control characters) or no encoding
            decodes them; the message names the file.
    """
    if b"\x00" in data:
        raise DocumentError(f"{name}: binary file, not a text document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        for encoding in (canonical_encoding(declared) if declared else None, _detected(data), "gb18030"):
            decoded = _try(data, encoding)
            if decoded is not None and encoding is not None:
                _check_text(decoded, name)
                return decoded, encoding
        raise DocumentError(
            f"{name}: not UTF-8 (byte {utf8_error.start}: {utf8_error.reason}) and not GB18030 or Big5 either"
        ) from None
    _check_text(text, name)
    return text, "utf-8"
