"""Bytes → text: UTF-8 first, then the declared charset, then detection; GB family read as GB18030; binary refused."""

from __future__ import annotations

import pytest

from policytag.labels.documents import DocumentError, decode_bytes, decode_document
from policytag.labels.documents.encoding import canonical_encoding, declared_charset
from tests.support.documents import report_lines


def test_gb18030_is_detected() -> None:
    data = "行政执法。".encode("gb18030")
    assert decode_bytes(data) == ("行政执法。", "gb18030")
    assert decode_bytes("行政执法。".encode()) == ("行政执法。", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbf" + "好".encode()) == ("好", "utf-8")


def test_undecodable_bytes_name_the_file() -> None:
    with pytest.raises(DocumentError, match=r"bad\.txt: not UTF-8"):
        decode_bytes(b"\xff\xfe\xfd\x80\x81", name="bad.txt")


def test_gbk_text_without_a_declaration_is_detected() -> None:
    text = "\n".join(report_lines(5, count=8))
    assert decode_bytes(text.encode("gbk"), name="a.txt") == (text, "gb18030")


def test_big5_text_is_detected() -> None:
    text = "推進法治政府建設，落實行政執法三項制度。加強法律援助工作，辦理案件三百餘件。深化人民調解，化解矛盾糾紛。"
    decoded, encoding = decode_bytes(text.encode("big5"), name="a.txt")
    assert (decoded, encoding) == (text, "big5")


def test_the_declared_charset_is_used_when_not_utf8() -> None:
    text = "法律援助。"
    page = f'<html><head><meta charset="gb2312"></head><body><p>{text}</p></body></html>'.encode("gb2312")
    assert declared_charset(page) == "gb18030"
    assert decode_document(page, name="p.html").encoding == "gb18030"
    # A page that says GBK but is valid UTF-8 is UTF-8.
    utf8_page = page.decode("gb2312").encode("utf-8")
    assert decode_document(utf8_page, name="p.html").encoding == "utf-8"


@pytest.mark.parametrize(("name", "expected"), [("GBK", "gb18030"), ("x-gbk", "gb18030"), ("utf8", "utf-8")])
def test_canonical_encoding(name: str, expected: str) -> None:
    assert canonical_encoding(name) == expected
    assert canonical_encoding("no-such-charset") is None


def test_nul_bytes_and_control_characters_are_binary() -> None:
    with pytest.raises(DocumentError, match=r"x\.txt: binary file, not a text document"):
        decode_bytes(b"abc\x00def", name="x.txt")
    with pytest.raises(DocumentError, match=r"y\.md: binary file"):
        decode_bytes(bytes(range(1, 32)) * 4, name="y.md")
    assert decode_bytes("一\t二\r\n三\x0c".encode(), name="z.txt")[1] == "utf-8"  # layout controls are text
